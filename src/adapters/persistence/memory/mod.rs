//! The in-memory store: every port, with the SQL stores' semantics, and no
//! database.
//!
//! It exists so that the use cases can be tested on a real store without
//! files or servers, and so that a test double can stand in front of one
//! port while a store that keeps every promise of the others serves the
//! rest. It runs the whole store contract suite (`tests/store_contract`),
//! except the stories that reach past the port with SQL. It is a library
//! item only: no database URL names it.
//!
//! **Connections.** A [`MemoryDatabase`] is the data; each [`MemoryStore`]
//! is one connection to it, as each SQL store is one connection to its
//! database. Several connections to one database, on one thread or several,
//! see each other's committed writes, which is what the contract's stories
//! about other connections need; so the data sits behind an `Arc<Mutex<_>>`
//! and a database handle is `Send + Sync`. A connection keeps its open unit
//! of work in a `RefCell` (the ports take `&self`): like the SQL stores, it
//! is not `Sync`.
//!
//! **Transactions.** Writers take turns on one write lock, as on SQLite: a
//! write outside a unit holds it while it runs, a unit of work (and a bulk
//! import or stock batch) from its start to its end, and another
//! connection's write waits for it up to the lock timeout. A unit works on
//! its own copy of the data, taken when it starts: its writes are invisible
//! to other connections until it commits, when the copy replaces the data,
//! and rolling back is dropping the copy. A copy per unit is affordable for
//! the catalogs of tests, which is what this store is for.
//!
//! **Dry runs.** A dry-run connection ([`MemoryStore::dry_run`]) runs every
//! write with every check and then drops what it wrote, like the SQL stores'
//! `--dry-run`: its writes outside a unit work on a copy, and its units
//! never replace the data.
//!
//! **Schema.** There is none: a memory database is born at the binary's
//! latest schema version, `migrate` applies nothing, and `status` reports
//! every migration the binary knows as applied when the database was
//! created.

mod state;
#[cfg(test)]
mod tests;

use std::cell::RefCell;
use std::ops::ControlFlow;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::import::{self, ImportWriter};
use super::migrations;
use crate::app::ports::{
    CouponQuery, CouponStore, DiscountQuery, DiscountStore, ImportAborted, ImportCounts,
    ImportItem, ImportStore, LedgerScan, LedgerStore, LogQuery, LoggedEvent, ProductDetails,
    ProductListing, ProductQuery, ProductStore, RecordedEvent, RecordedRequest, RequestLog,
    SchemaStore, StockBatch, StoreError, StoreStatus, UnitEnd, UnitOfWork,
};
use crate::domain::{
    Actor, Coupon, CouponCode, CustomerId, Discount, DiscountId, EventId, IdempotencyKey, Instant,
    Product, ProductChange, ProductId, Replacement, StockEvent,
};
use state::{EventWrite, State};

/// How long a connection waits for another one's write lock by default, as
/// long as the SQLite store's busy timeout.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// One in-memory database, shared by every connection to it. Cloning the
/// handle shares the data.
#[derive(Clone)]
pub struct MemoryDatabase {
    shared: Arc<Shared>,
}

struct Shared {
    /// The committed data.
    data: Mutex<State>,
    /// Whether a connection holds the write lock.
    writing: Mutex<bool>,
    /// Signalled when the write lock is released.
    released: Condvar,
    /// When the database was created: the time every migration is reported
    /// applied at.
    created_at: Instant,
}

impl Default for MemoryDatabase {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryDatabase {
    /// A new, empty database.
    pub fn new() -> Self {
        MemoryDatabase {
            shared: Arc::new(Shared {
                data: Mutex::new(State::default()),
                writing: Mutex::new(false),
                released: Condvar::new(),
                created_at: Instant::from_datetime(chrono::Utc::now()),
            }),
        }
    }

    /// A new connection to this database.
    pub fn connect(&self) -> MemoryStore {
        MemoryStore {
            shared: Arc::clone(&self.shared),
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            dry_run: false,
            unit: RefCell::new(None),
        }
    }
}

/// One connection to a [`MemoryDatabase`]: a store implementing every port.
///
/// Cloning it opens another connection to the same database, with the same
/// settings and without this one's open unit of work.
pub struct MemoryStore {
    shared: Arc<Shared>,
    lock_timeout: Duration,
    /// Drop every write instead of keeping it (see [`MemoryStore::dry_run`]).
    dry_run: bool,
    /// The open unit of work's copy of the data, which every method of this
    /// connection reads and writes until the unit ends.
    unit: RefCell<Option<State>>,
}

impl Clone for MemoryStore {
    fn clone(&self) -> Self {
        self.database()
            .connect()
            .lock_timeout(self.lock_timeout)
            .dry_run(self.dry_run)
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// A connection to a new, empty database.
    pub fn new() -> Self {
        MemoryDatabase::new().connect()
    }

    /// The database this connection is to, for opening more connections.
    pub fn database(&self) -> MemoryDatabase {
        MemoryDatabase {
            shared: Arc::clone(&self.shared),
        }
    }

    /// A connection whose writes all roll back (`--dry-run`): every write
    /// runs with every check and returns what it would have returned, and
    /// nothing is kept.
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// How long a write waits for another connection's write lock before
    /// giving up.
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    fn committed(&self) -> MutexGuard<'_, State> {
        // A test that panicked while holding the data left it consistent:
        // every write checks before it changes anything.
        self.shared
            .data
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the write lock, waiting up to the lock timeout for the
    /// connection holding it; `timed_out` is the refusal when it runs out.
    fn lock_writes(&self, timed_out: Waited) -> Result<WriteLock<'_>, StoreError> {
        let shared = &*self.shared;
        let deadline = std::time::Instant::now() + self.lock_timeout;
        let mut writing = shared
            .writing
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while *writing {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(timed_out.error());
            }
            writing = shared
                .released
                .wait_timeout(writing, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        *writing = true;
        Ok(WriteLock(shared))
    }

    fn in_unit(&self) -> bool {
        self.unit.borrow().is_some()
    }

    /// Runs a read on what this connection sees: its unit's copy, or the
    /// committed data.
    fn read<T>(&self, read: impl FnOnce(&State) -> T) -> T {
        if let Some(state) = self.unit.borrow().as_ref() {
            return read(state);
        }
        read(&self.committed())
    }

    /// Runs one write that checks everything before it changes anything
    /// (so it is all or nothing on its own): inside the open unit, or under
    /// the write lock on the committed data (on a copy, for a dry run).
    fn write<T>(
        &self,
        timed_out: Waited,
        write: impl FnOnce(&mut State) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if let Some(state) = self.unit.borrow_mut().as_mut() {
            return write(state);
        }
        let _lock = self.lock_writes(timed_out)?;
        let mut committed = self.committed();
        if self.dry_run {
            return write(&mut committed.clone());
        }
        write(&mut committed)
    }

    /// A write on the open unit's copy, for the steps of a write that runs
    /// in a transaction of its own ([`MemoryStore::all_or_nothing`]).
    fn step<T>(
        &self,
        write: impl FnOnce(&mut State) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match self.unit.borrow_mut().as_mut() {
            Some(state) => write(state),
            None => Err(StoreError::Internal(
                "a transaction step ran outside its transaction".into(),
            )),
        }
    }

    /// Runs `body`, which takes its steps through [`MemoryStore::step`] and
    /// may call back into the caller between them, as one transaction: kept
    /// when it returns `Ok(Some(_))`, rolled back when it returns `Ok(None)`
    /// or fails. Inside a unit it joins the unit, and a rollback restores
    /// the unit's copy as it was before `body`.
    fn all_or_nothing<T>(
        &self,
        timed_out: Waited,
        mut body: impl FnMut() -> Result<Option<T>, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        if self.in_unit() {
            let before = self.unit.borrow().clone();
            let outcome = body();
            if !matches!(outcome, Ok(Some(_))) {
                *self.unit.borrow_mut() = before;
            }
            return outcome;
        }
        let mut kept = None;
        self.run_unit(timed_out, &mut || {
            kept = body()?;
            Ok(if kept.is_some() {
                UnitEnd::Commit
            } else {
                UnitEnd::Rollback
            })
        })?;
        Ok(kept)
    }

    /// The outermost unit of work: the write lock and a copy of the data
    /// from start to end; the copy replaces the data on commit.
    fn run_unit(
        &self,
        timed_out: Waited,
        work: &mut dyn FnMut() -> Result<UnitEnd, StoreError>,
    ) -> Result<UnitEnd, StoreError> {
        let _lock = self.lock_writes(timed_out)?;
        let copy = self.committed().clone();
        *self.unit.borrow_mut() = Some(copy);
        let open = OpenUnit(&self.unit);
        let outcome = work();
        let copy = open.close();
        match outcome {
            Ok(UnitEnd::Commit) => {
                if let (Some(copy), false) = (copy, self.dry_run) {
                    *self.committed() = copy;
                }
                Ok(UnitEnd::Commit)
            }
            other => other,
        }
    }
}

/// Why a connection waited for the write lock, which decides what running
/// out of time means (as on SQLite, whose busy timeout is the same wait).
#[derive(Debug, Clone, Copy)]
enum Waited {
    /// A ledger append, or the start of a unit, which its caller retries:
    /// contention, a conflict.
    Retried,
    /// Any other write: the database is unavailable for now.
    Write,
}

impl Waited {
    fn error(self) -> StoreError {
        let held =
            "another connection held the in-memory database's write lock past the lock timeout";
        match self {
            Waited::Retried => StoreError::Conflict(held.into()),
            Waited::Write => StoreError::Unavailable(format!("{held}; try again later")),
        }
    }
}

/// The write lock, released when dropped (also when a test panics).
struct WriteLock<'a>(&'a Shared);

impl Drop for WriteLock<'_> {
    fn drop(&mut self) {
        *self
            .0
            .writing
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = false;
        self.0.released.notify_all();
    }
}

/// The open unit of a connection, closed (its copy dropped) when dropped.
struct OpenUnit<'a>(&'a RefCell<Option<State>>);

impl OpenUnit<'_> {
    /// Ends the unit, handing over its copy.
    fn close(self) -> Option<State> {
        self.0.borrow_mut().take()
    }
}

impl Drop for OpenUnit<'_> {
    fn drop(&mut self) {
        self.0.borrow_mut().take();
    }
}

impl ProductStore for MemoryStore {
    fn create_product(&self, product: &Product, opening: &StockEvent) -> Result<(), StoreError> {
        self.write(Waited::Write, |s| s.create_product(product, opening))
    }

    fn update_product(
        &self,
        before: &Product,
        after: &Product,
        change: &ProductChange,
    ) -> Result<(), StoreError> {
        self.write(Waited::Write, |s| s.update_product(before, after, change))
    }

    fn set_archived(&self, change: &ProductChange) -> Result<bool, StoreError> {
        self.write(Waited::Write, |s| s.set_archived(change))
    }

    fn product_changes(&self, id: &ProductId) -> Result<Vec<ProductChange>, StoreError> {
        Ok(self.read(|s| s.product_changes(id)))
    }

    fn list_products(
        &self,
        query: &ProductQuery,
        at: Instant,
    ) -> Result<Vec<ProductListing>, StoreError> {
        self.read(|s| s.list_products(query, at))
    }

    /// Read at once (one consistent snapshot), then handed over, so that
    /// `sink` may use the store.
    fn scan_products(
        &self,
        include_archived: bool,
        at: Instant,
        sink: &mut dyn FnMut(ProductListing) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
        let listings = self.read(|s| s.all_products(include_archived, at))?;
        for listing in listings {
            if sink(listing).is_break() {
                break;
            }
        }
        Ok(())
    }

    fn product_details(
        &self,
        id: &ProductId,
        customer: Option<&CustomerId>,
        at: Instant,
    ) -> Result<Option<ProductDetails>, StoreError> {
        self.read(|s| s.product_details(id, customer, at))
    }
}

impl LedgerStore for MemoryStore {
    fn latest_stock_event(&self, id: &ProductId) -> Result<Option<StockEvent>, StoreError> {
        Ok(self.read(|s| s.latest_event(id).cloned()))
    }

    fn stock_event(&self, id: &EventId) -> Result<Option<RecordedEvent>, StoreError> {
        Ok(self.read(|s| s.recorded_event(id)))
    }

    fn append_stock_event(&self, event: &StockEvent) -> Result<(), StoreError> {
        self.write(Waited::Retried, |s| s.append_event(event))
    }

    fn stock_history(&self, id: &ProductId) -> Result<Option<Vec<StockEvent>>, StoreError> {
        Ok(self.read(|s| s.history(id)))
    }

    /// Read at once (one consistent snapshot), then handed over.
    fn scan_ledgers(
        &self,
        product: Option<&ProductId>,
        sink: &mut dyn FnMut(LedgerScan) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
        for found in self.read(|s| s.scan_ledgers(product)) {
            if sink(found).is_break() {
                break;
            }
        }
        Ok(())
    }

    fn stock_log(&self, query: &LogQuery) -> Result<Vec<LoggedEvent>, StoreError> {
        Ok(self.read(|s| s.stock_log(query)))
    }

    fn stock_log_tail(&self, query: &LogQuery) -> Result<i64, StoreError> {
        Ok(self.read(|s| s.stock_log_tail(query)))
    }

    /// The batch holds the write lock from its first read to its end, so
    /// another connection's append to one of its products waits for it and
    /// then finds its version taken.
    fn change_stock(
        &self,
        work: &mut dyn FnMut(&mut dyn StockBatch) -> Result<bool, StoreError>,
    ) -> Result<bool, StoreError> {
        let kept = self.all_or_nothing(Waited::Write, || {
            let mut batch = MemoryBatch(self);
            Ok(work(&mut batch)?.then_some(()))
        })?;
        Ok(kept.is_some())
    }
}

/// A stock batch: the steps of [`MemoryStore::change_stock`]'s transaction.
struct MemoryBatch<'s>(&'s MemoryStore);

impl StockBatch for MemoryBatch<'_> {
    fn latest_events(&mut self, ids: &[ProductId]) -> Result<Vec<StockEvent>, StoreError> {
        self.0.step(|s| {
            Ok(ids
                .iter()
                .filter_map(|id| s.latest_event(id).cloned())
                .collect())
        })
    }

    fn archived_among(&mut self, ids: &[ProductId]) -> Result<Vec<ProductId>, StoreError> {
        self.0.step(|s| {
            Ok(ids
                .iter()
                .filter(|id| s.archived_state(id) == Some(true))
                .cloned()
                .collect())
        })
    }

    /// Checked like any ledger row (a taken version is a conflict, an
    /// unknown product not found); whether the product is archived is the
    /// batch's business, as in the SQL stores.
    fn append(&mut self, event: StockEvent) -> Result<(), StoreError> {
        self.0.step(|s| s.insert_event(&event, EventWrite::Append))
    }
}

impl DiscountStore for MemoryStore {
    fn replace_discount(&self, discount: &Discount) -> Result<Replacement, StoreError> {
        self.write(Waited::Write, |s| s.replace_discount(discount))
    }

    fn clear_discount(
        &self,
        product_id: &ProductId,
        at: Instant,
        actor: Option<&Actor>,
    ) -> Result<Vec<DiscountId>, StoreError> {
        self.write(Waited::Write, |s| s.clear_discount(product_id, at, actor))
    }

    fn list_discounts(&self, query: &DiscountQuery) -> Result<Vec<Discount>, StoreError> {
        Ok(self.read(|s| s.list_discounts(query)))
    }
}

impl CouponStore for MemoryStore {
    fn create_coupon(&self, coupon: &Coupon) -> Result<(), StoreError> {
        self.write(Waited::Write, |s| s.create_coupon(coupon))
    }

    fn deactivate_coupon(
        &self,
        code: &CouponCode,
        at: Instant,
        actor: Option<&Actor>,
    ) -> Result<Option<Coupon>, StoreError> {
        self.write(Waited::Write, |s| Ok(s.deactivate_coupon(code, at, actor)))
    }

    fn list_coupons(&self, query: &CouponQuery) -> Result<Vec<Coupon>, StoreError> {
        Ok(self.read(|s| s.list_coupons(query)))
    }

    fn coupon(&self, code: &CouponCode) -> Result<Option<Coupon>, StoreError> {
        Ok(self.read(|s| s.coupon(code)))
    }
}

impl ImportStore for MemoryStore {
    /// Pulls one item at a time and writes it before pulling the next, in
    /// one transaction: the first refused item ends the import, and the
    /// items after it are never pulled.
    fn import(
        &self,
        items: &mut dyn Iterator<Item = Result<ImportItem, ImportAborted>>,
    ) -> Result<Option<ImportCounts>, StoreError> {
        let mut pulled = Some(items);
        self.all_or_nothing(Waited::Write, || {
            let Some(items) = pulled.take() else {
                return Err(StoreError::Internal("an import ran twice".into()));
            };
            import::write_all(items, &mut Steps(self))
        })
    }
}

/// The import loop's writer: each row one step of the open transaction.
struct Steps<'a>(&'a MemoryStore);

impl ImportWriter for Steps<'_> {
    fn product(
        &mut self,
        product: &Product,
        events: &[StockEvent],
        discount: Option<&Discount>,
    ) -> Result<(), StoreError> {
        self.0.step(|s| s.import_product(product, events, discount))
    }

    fn coupon(&mut self, coupon: &Coupon) -> Result<(), StoreError> {
        self.0.step(|s| s.create_coupon(coupon))
    }
}

impl SchemaStore for MemoryStore {
    /// Nothing to apply: the data has no schema to upgrade.
    fn migrate(&self) -> Result<Vec<i64>, StoreError> {
        Ok(Vec::new())
    }

    fn status(&self) -> Result<StoreStatus, StoreError> {
        let latest = migrations::LATEST;
        let created = self.shared.created_at;
        let counts = self.read(|s| s.counts());
        Ok(StoreStatus {
            backend: "memory",
            location: "memory (this process only)".into(),
            schema_version: latest,
            supported_version: latest,
            migrations: migrations::VERSIONS
                .iter()
                .map(|&(version, name)| crate::app::ports::MigrationState {
                    version,
                    name: name.to_owned(),
                    applied_at: Some(created),
                })
                .collect(),
            products: counts.products,
            stock_events: counts.stock_events,
            discounts: counts.discounts,
            coupons: counts.coupons,
        })
    }
}

impl RequestLog for MemoryStore {
    fn recorded_request(
        &self,
        key: &IdempotencyKey,
    ) -> Result<Option<RecordedRequest>, StoreError> {
        Ok(self.read(|s| s.recorded_request(key)))
    }

    fn record_request(
        &self,
        key: &IdempotencyKey,
        request: &RecordedRequest,
        at: Instant,
    ) -> Result<(), StoreError> {
        self.write(Waited::Write, |s| s.record_request(key, request, at))
    }

    fn prune_requests(&self, before: Instant) -> Result<u64, StoreError> {
        self.write(Waited::Write, |s| Ok(s.prune_requests(before)))
    }
}

impl UnitOfWork for MemoryStore {
    /// A unit opened inside another only runs `work`: the outer one ends
    /// it. Waiting for another connection's write lock past the lock
    /// timeout is a conflict, which the caller retries.
    fn unit(
        &self,
        work: &mut dyn FnMut() -> Result<UnitEnd, StoreError>,
    ) -> Result<UnitEnd, StoreError> {
        if self.in_unit() {
            return work();
        }
        self.run_unit(Waited::Retried, work)
    }
}
