//! Idempotent writes: a command under a key applies once.

use std::cell::Cell;

use milly::adapters::persistence::memory::MemoryStore;
use milly::app::ports::*;
use milly::app::usecases::{AdjustStock, Keyed, Once, StockAdjusted};
use milly::app::{AppError, Catalog};
use milly::domain::*;

use crate::{change, no_wait, rejected, World};

fn key(raw: &str) -> IdempotencyKey {
    IdempotencyKey::parse("key", raw).unwrap()
}

fn take(product: &Product, by: &str) -> AdjustStock {
    AdjustStock {
        product_id: product.id.clone(),
        change: change(by),
        reason: None,
        expected_version: None,
    }
}

/// Adjusts `product` by `by` under `k` (or without a key), printing the new
/// event's version.
fn adjust_once(
    catalog: &Catalog<'_>,
    k: Option<&IdempotencyKey>,
    fingerprint: &str,
    product: &Product,
    by: &str,
) -> Result<Once<StockAdjusted>, AppError> {
    catalog.once(
        k.map(|key| Keyed {
            key,
            fingerprint: fingerprint.into(),
        }),
        |c| c.adjust_stock(take(product, by)),
        |adjusted| Ok(format!("version {}", adjusted.event.version)),
    )
}

#[test]
fn without_a_key_the_work_just_runs() {
    let world = World::new();
    let product = world.product("Mug", "1.00", "10");
    for expected in [9, 8] {
        let Ok(Once::Done(adjusted)) = adjust_once(&world.catalog(), None, "f", &product, "-1")
        else {
            panic!("the work runs every time");
        };
        assert_eq!(adjusted.event.total_after_change, expected);
    }
    assert_eq!(world.stock(&product), 8);
}

#[test]
fn a_keyed_write_is_done_once_and_replayed_after() {
    let world = World::new();
    let product = world.product("Mug", "1.00", "10");
    let k = key("order-1");
    let Ok(Once::Done(first)) = adjust_once(&world.catalog(), Some(&k), "take 3", &product, "-3")
    else {
        panic!("the first run does the work");
    };
    assert_eq!(first.event.version, 2);
    assert_eq!(
        world.store.recorded_request(&k).unwrap(),
        Some(RecordedRequest {
            fingerprint: "take 3".into(),
            result: "version 2".into()
        })
    );
    world.clock.set("2025-06-02T00:00:00Z");
    let Ok(Once::Replayed(printed)) =
        adjust_once(&world.catalog(), Some(&k), "take 3", &product, "-3")
    else {
        panic!("the rerun replays");
    };
    assert_eq!(printed, "version 2");
    assert_eq!(world.stock(&product), 7, "applied once");
}

#[test]
fn a_key_reused_for_another_request_is_refused() {
    let world = World::new();
    let product = world.product("Mug", "1.00", "10");
    let k = key("order-2");
    adjust_once(&world.catalog(), Some(&k), "take 3", &product, "-3").unwrap();
    let reused = adjust_once(&world.catalog(), Some(&k), "take 4", &product, "-4");
    assert_eq!(rejected(reused), "idempotency_key_reused");
    assert_eq!(world.stock(&product), 7);
}

#[test]
fn a_failed_write_records_no_key_and_keeps_nothing() {
    let world = World::new();
    let product = world.product("Mug", "1.00", "2");
    let k = key("order-3");
    let refused = adjust_once(&world.catalog(), Some(&k), "take 5", &product, "-5");
    assert_eq!(rejected(refused), "insufficient_stock");
    assert_eq!(world.store.recorded_request(&k).unwrap(), None);

    // Work that wrote and then failed: its write is rolled back with it.
    let created = world.catalog().once(
        Some(Keyed {
            key: &k,
            fingerprint: "two writes".into(),
        }),
        |c| {
            c.adjust_stock(take(&product, "+1"))?;
            c.adjust_stock(take(&product, "-9"))
        },
        |adjusted| Ok(adjusted.event.id.to_string()),
    );
    assert_eq!(rejected(created), "insufficient_stock");
    assert_eq!(world.stock(&product), 2);
    assert_eq!(world.counts().1, 1);

    // So is work whose result cannot be recorded.
    let unprintable = world.catalog().once(
        Some(Keyed {
            key: &k,
            fingerprint: "unprintable".into(),
        }),
        |c| c.adjust_stock(take(&product, "+1")),
        |_| Err(AppError::Internal("cannot print".into())),
    );
    assert_eq!(
        unprintable.err(),
        Some(AppError::Internal("cannot print".into()))
    );
    assert_eq!(world.stock(&product), 2);
    assert_eq!(world.store.recorded_request(&k).unwrap(), None);

    // The key is still free for the request that succeeds.
    let Ok(Once::Done(_)) = adjust_once(&world.catalog(), Some(&k), "take 1", &product, "-1")
    else {
        panic!("the key was never recorded");
    };
    assert_eq!(world.stock(&product), 1);
}

/// A request log that another run beats to the key once: the first record
/// finds it taken (that run then commits), as happens to concurrent runs.
struct BeatenToTheKey<'s> {
    store: &'s MemoryStore,
    beaten: Cell<bool>,
}

impl RequestLog for BeatenToTheKey<'_> {
    fn recorded_request(
        &self,
        key: &IdempotencyKey,
    ) -> Result<Option<RecordedRequest>, StoreError> {
        self.store.recorded_request(key)
    }

    fn record_request(
        &self,
        key: &IdempotencyKey,
        request: &RecordedRequest,
        at: Instant,
    ) -> Result<(), StoreError> {
        if !self.beaten.replace(true) {
            return Err(StoreError::Conflict(format!(
                "key {key} recorded by another run"
            )));
        }
        self.store.record_request(key, request, at)
    }

    fn prune_requests(&self, before: Instant) -> Result<u64, StoreError> {
        self.store.prune_requests(before)
    }
}

#[test]
fn a_conflict_recording_the_key_runs_the_whole_unit_again() {
    let world = World::new();
    let product = world.product("Mug", "1.00", "10");
    let requests = BeatenToTheKey {
        store: &world.store,
        beaten: Cell::new(false),
    };
    let stores = Stores {
        requests: &requests,
        ..Stores::of(&world.store)
    };
    let catalog = Catalog::with_stores(stores, &world.clock, no_wait(3));
    let k = key("order-4");
    let Ok(Once::Done(adjusted)) = adjust_once(&catalog, Some(&k), "take 2", &product, "-2") else {
        panic!("the retried unit does the work");
    };
    // The first unit's adjustment was rolled back with it: applied once.
    assert_eq!(
        (adjusted.event.version, adjusted.event.total_after_change),
        (2, 8)
    );
    assert_eq!(
        world
            .store
            .stock_history(&product.id)
            .unwrap()
            .unwrap()
            .len(),
        2
    );
    assert!(world.store.recorded_request(&k).unwrap().is_some());
}

#[test]
fn prune_keys_forgets_keys_older_than_the_days_given() {
    let world = World::new();
    let product = world.product("Mug", "1.00", "10");
    let (old, new) = (key("old"), key("new"));
    adjust_once(&world.catalog(), Some(&old), "f", &product, "-1").unwrap();
    world.clock.set("2025-06-20T00:00:00Z");
    adjust_once(&world.catalog(), Some(&new), "f", &product, "-1").unwrap();
    world.clock.set("2025-07-01T12:00:00Z");
    assert_eq!(world.catalog().prune_keys(25).unwrap(), 1);
    assert_eq!(world.store.recorded_request(&old).unwrap(), None);
    assert!(world.store.recorded_request(&new).unwrap().is_some());
    assert_eq!(world.catalog().prune_keys(25).unwrap(), 0);
    // A forgotten key runs its request again.
    let Ok(Once::Done(_)) = adjust_once(&world.catalog(), Some(&old), "f", &product, "-1") else {
        panic!("a pruned key is free again");
    };
    assert_eq!(world.stock(&product), 7);
}
