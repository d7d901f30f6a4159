//! `stock adjust`: optimistic appends, retried on a lost race.

use std::cell::{Cell, RefCell};
use std::ops::ControlFlow;

use milly::adapters::persistence::memory::MemoryStore;
use milly::app::ports::*;
use milly::app::usecases::{AdjustStock, StockAdjusted};
use milly::app::{AppError, Catalog};
use milly::domain::*;

use crate::{at, change, no_wait, rejected, TestClock, World};

fn adjust(product: &Product, by: &str, expected_version: Option<i64>) -> AdjustStock {
    AdjustStock {
        product_id: product.id.clone(),
        change: change(by),
        reason: Some(Reason::parse("reason", "recount").unwrap()),
        expected_version,
    }
}

#[test]
fn appends_the_next_version_with_reason_and_actor() {
    let world = World::new();
    let product = world.product("Mug", "5.00", "10");
    let adjusted = world
        .catalog()
        .adjust_stock(adjust(&product, "-4", None))
        .unwrap();
    assert_eq!(adjusted.attempts, 1);
    let event = &adjusted.event;
    assert_eq!(
        (event.version, event.change, event.total_after_change),
        (2, -4, 6)
    );
    assert_eq!(event.reason.as_ref().map(Reason::as_str), Some("recount"));
    assert_eq!(event.actor, Some(crate::actor("tester")));
    assert_eq!(event.created_at, at(crate::T0));
    let history = world.store.stock_history(&product.id).unwrap().unwrap();
    assert_eq!(history.last(), Some(event));
}

#[test]
fn stock_never_goes_below_zero() {
    let world = World::new();
    let product = world.product("Mug", "5.00", "3");
    let refused = world.catalog().adjust_stock(adjust(&product, "-4", None));
    assert_eq!(rejected(refused), "insufficient_stock");
    assert_eq!(world.stock(&product), 3);
    assert_eq!(world.counts().1, 1, "nothing was appended");
}

#[test]
fn unknown_and_archived_products_are_refused() {
    let world = World::new();
    let product = world.product("Mug", "5.00", "3");
    let ghost = ProductId::generate(at(crate::T0), 1);
    let missing = world.catalog().adjust_stock(AdjustStock {
        product_id: ghost.clone(),
        ..adjust(&product, "+1", None)
    });
    assert!(
        matches!(&missing, Err(AppError::NotFound { what: "product", id }) if *id == ghost.to_string()),
        "{:?}",
        missing.err()
    );
    world.catalog().archive_product(&product.id, true).unwrap();
    let archived = world.catalog().adjust_stock(adjust(&product, "+1", None));
    assert_eq!(rejected(archived), "product_archived");
    assert_eq!(world.stock(&product), 3);
}

// ------------------------------------------------------------ stale reads

/// The ledger of a memory store, read through a snapshot taken before
/// another writer's event, as a reader racing that writer would see it:
/// once, or (when `stale_reads` is large) every time. Every other call goes
/// to the store, units of work included.
struct StaleLedger<'s> {
    store: &'s MemoryStore,
    stale: StockEvent,
    stale_reads: Cell<u32>,
    attempted_versions: RefCell<Vec<i64>>,
}

impl LedgerStore for StaleLedger<'_> {
    fn latest_stock_event(&self, id: &ProductId) -> Result<Option<StockEvent>, StoreError> {
        let stale_reads = self.stale_reads.get();
        if stale_reads > 0 {
            self.stale_reads.set(stale_reads - 1);
            return Ok(Some(self.stale.clone()));
        }
        self.store.latest_stock_event(id)
    }

    fn stock_event(&self, id: &EventId) -> Result<Option<RecordedEvent>, StoreError> {
        self.store.stock_event(id)
    }

    fn append_stock_event(&self, event: &StockEvent) -> Result<(), StoreError> {
        self.attempted_versions.borrow_mut().push(event.version);
        self.store.append_stock_event(event)
    }

    fn stock_history(&self, id: &ProductId) -> Result<Option<Vec<StockEvent>>, StoreError> {
        self.store.stock_history(id)
    }

    fn scan_ledgers(
        &self,
        product: Option<&ProductId>,
        sink: &mut dyn FnMut(LedgerScan) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
        self.store.scan_ledgers(product, sink)
    }

    fn stock_log(&self, query: &LogQuery) -> Result<Vec<LoggedEvent>, StoreError> {
        self.store.stock_log(query)
    }

    fn stock_log_tail(&self, query: &LogQuery) -> Result<i64, StoreError> {
        self.store.stock_log_tail(query)
    }

    fn change_stock(
        &self,
        work: &mut dyn FnMut(&mut dyn StockBatch) -> Result<bool, StoreError>,
    ) -> Result<bool, StoreError> {
        self.store.change_stock(work)
    }
}

impl UnitOfWork for StaleLedger<'_> {
    fn unit(
        &self,
        work: &mut dyn FnMut() -> Result<UnitEnd, StoreError>,
    ) -> Result<UnitEnd, StoreError> {
        self.store.unit(work)
    }
}

/// A product at 100 (v1) to which another writer has added 100 (v2) since
/// the stale snapshot of v1 was taken.
fn raced(store: &MemoryStore, stale_reads: u32) -> (StaleLedger<'_>, ProductId) {
    let when = at("2025-01-01");
    let product = Product {
        id: ProductId::generate(when, 1),
        name: ProductName::parse("name", "Raced").unwrap(),
        description: Description::empty(),
        price: crate::money("1.00"),
        created_at: when,
        updated_at: when,
        archived_at: None,
        actor: None,
    };
    let opening = StockEvent::opening(
        EventId::generate(when, 2),
        product.id.clone(),
        Quantity::parse("stock", "100").unwrap(),
        when,
    );
    store.create_product(&product, &opening).unwrap();
    let theirs = opening
        .next(EventId::generate(when, 3), change("+100"), None, when)
        .unwrap();
    store.append_stock_event(&theirs).unwrap();
    let ledger = StaleLedger {
        store,
        stale: opening,
        stale_reads: Cell::new(stale_reads),
        attempted_versions: RefCell::new(Vec::new()),
    };
    (ledger, product.id)
}

fn add_20_expecting(
    ledger: &StaleLedger<'_>,
    product: ProductId,
    attempts: u32,
    expected_version: Option<i64>,
) -> Result<StockAdjusted, AppError> {
    let clock = TestClock(Cell::new(at("2025-01-02")));
    let stores = Stores {
        ledger,
        units: ledger,
        ..Stores::of(ledger.store)
    };
    Catalog::with_stores(stores, &clock, no_wait(attempts)).adjust_stock(AdjustStock {
        product_id: product,
        change: change("+20"),
        reason: None,
        expected_version,
    })
}

fn totals(store: &MemoryStore, product: &ProductId) -> Vec<i64> {
    store
        .stock_history(product)
        .unwrap()
        .unwrap()
        .iter()
        .map(|e| e.total_after_change)
        .collect()
}

#[test]
fn a_stale_read_conflicts_and_the_retry_applies_the_change_on_the_fresh_total() {
    let store = MemoryStore::new();
    let (ledger, product) = raced(&store, 1);
    let adjusted = add_20_expecting(&ledger, product.clone(), 3, None).unwrap();
    assert_eq!(*ledger.attempted_versions.borrow(), vec![2, 3]);
    assert_eq!(adjusted.attempts, 2);
    assert_eq!(
        (adjusted.event.version, adjusted.event.total_after_change),
        (3, 220)
    );
    assert_eq!(totals(&store, &product), vec![100, 200, 220]);
}

#[test]
fn conflicts_on_every_attempt_give_up_and_write_nothing() {
    let store = MemoryStore::new();
    let (ledger, product) = raced(&store, u32::MAX);
    let err = add_20_expecting(&ledger, product.clone(), 4, None).err();
    assert_eq!(err, Some(AppError::Conflict { attempts: 4 }));
    assert_eq!(*ledger.attempted_versions.borrow(), vec![2, 2, 2, 2]);
    assert_eq!(totals(&store, &product), vec![100, 200]);
}

#[test]
fn a_lost_race_with_an_expected_version_is_refused_not_applied_on_top() {
    let store = MemoryStore::new();
    let (ledger, product) = raced(&store, 1);
    let err = add_20_expecting(&ledger, product.clone(), 5, Some(1))
        .err()
        .unwrap();
    let AppError::Rejected { code, message } = err else {
        panic!("expected a rejection, got {err:?}");
    };
    assert_eq!(code, "version_mismatch");
    assert!(message.contains("at version 2"), "{message}");
    // One write was tried (and lost); nothing was written after the re-read.
    assert_eq!(*ledger.attempted_versions.borrow(), vec![2]);
    assert_eq!(totals(&store, &product), vec![100, 200]);
}

#[test]
fn the_expected_version_applies_when_it_is_current() {
    let store = MemoryStore::new();
    let (ledger, product) = raced(&store, 0);
    let adjusted = add_20_expecting(&ledger, product.clone(), 5, Some(2)).unwrap();
    assert_eq!(adjusted.event.version, 3);
    let err = add_20_expecting(&ledger, product.clone(), 5, Some(2))
        .err()
        .unwrap();
    assert!(matches!(
        err,
        AppError::Rejected {
            code: "version_mismatch",
            ..
        }
    ));
    assert_eq!(totals(&store, &product), vec![100, 200, 220]);
}
