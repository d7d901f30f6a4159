//! Ledger corrections and reading the end of the log:
//! `LedgerStore::stock_event`, the one-revert-per-row rule of
//! `append_stock_event`, the `stock revert` use case on each real store, the
//! append-only ledger the schema itself enforces, and `stock_log`'s `until`
//! with `stock_log_tail`.

use std::time::Duration;

use milly::app::ports::*;
use milly::app::usecases::RevertStock;
use milly::app::{AppError, Catalog, RetryPolicy};
use milly::domain::*;

use crate::backends::TestDb;
use crate::stories::{create, next_event, t0, FixedClock, RacedOnce};

fn no_wait(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        attempts,
        base_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
        time_budget: None,
    }
}

/// The revert of `reverted` on top of `latest`, as the use case builds it.
fn revert_event(latest: &StockEvent, reverted: &StockEvent) -> StockEvent {
    latest
        .revert(
            reverted,
            EventId::generate(t0(), rand::random()),
            None,
            t0(),
        )
        .expect("a change to undo")
        .expect("stock to undo it with")
}

/// A product at 10, then +160 (the mistyped delivery): the delivery.
fn delivered(store: &dyn CatalogStore) -> (Product, StockEvent) {
    let product = create(store, "Corrected", 100, 10);
    let opening = store.latest_stock_event(&product.id).unwrap().unwrap();
    let delivery = next_event(&opening, 160);
    store.append_stock_event(&delivery).unwrap();
    (product, delivery)
}

fn revert(store: &dyn CatalogStore, event: &StockEvent) -> Result<StockEvent, AppError> {
    let clock = FixedClock(t0());
    Catalog::new(store, &clock, no_wait(3))
        .revert_stock(RevertStock {
            event_id: event.id.clone(),
            reason: Some(Reason::parse("reason", "typo").unwrap()),
        })
        .map(|r| r.event)
}

fn code(result: Result<StockEvent, AppError>) -> &'static str {
    match result {
        Err(AppError::Rejected { code, .. }) => code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

pub fn an_event_is_found_by_its_id_with_the_row_that_reverts_it(db: &TestDb) {
    let store = db.store();
    let (product, delivery) = delivered(store.as_ref());
    let found = store.stock_event(&delivery.id).unwrap().unwrap();
    assert_eq!(found.event, delivery);
    assert_eq!(found.reverted_by, None);
    let unknown = EventId::generate(t0(), rand::random());
    assert_eq!(store.stock_event(&unknown).unwrap(), None);

    let undo = revert_event(&delivery, &delivery);
    store.append_stock_event(&undo).unwrap();
    // Seen from another connection, as stored.
    let other = db.store();
    let found = other.stock_event(&delivery.id).unwrap().unwrap();
    assert_eq!(found.reverted_by.as_ref(), Some(&undo.id));
    let found = other.stock_event(&undo.id).unwrap().unwrap();
    assert_eq!(found.event, undo);
    assert_eq!(found.event.reverts.as_ref(), Some(&delivery.id));
    assert_eq!(found.reverted_by, None);
    let history = other.stock_history(&product.id).unwrap().unwrap();
    let rows: Vec<(i64, i64, i64, Option<&EventId>)> = history
        .iter()
        .map(|e| {
            (
                e.version,
                e.change,
                e.total_after_change,
                e.reverts.as_ref(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (1, 10, 10, None),
            (2, 160, 170, None),
            (3, -160, 10, Some(&delivery.id))
        ]
    );
}

pub fn an_event_is_reverted_at_most_once(db: &TestDb) {
    let store = db.store();
    let (product, delivery) = delivered(store.as_ref());
    let first = revert(store.as_ref(), &delivery).unwrap();
    assert_eq!(
        (first.change, first.total_after_change, first.version),
        (-160, 10, 3)
    );
    assert_eq!(first.reverts.as_ref(), Some(&delivery.id));
    assert_eq!(
        first.reason.as_ref().map(|r| r.as_str()),
        Some("typo"),
        "the reason is recorded on the new row"
    );
    // Through the use case: refused, naming the rule.
    assert_eq!(code(revert(store.as_ref(), &delivery)), "already_reverted");
    // Through the port, at the next free version: the store refuses it
    // too, whoever builds the row.
    let again = StockEvent {
        reverts: Some(delivery.id.clone()),
        ..next_event(&first, 1)
    };
    assert!(matches!(
        store.append_stock_event(&again),
        Err(StoreError::Conflict(_))
    ));
    let latest = store.latest_stock_event(&product.id).unwrap().unwrap();
    assert_eq!(latest, first, "a refused revert writes nothing");
    // A revert is a row like any other: it can itself be reverted once.
    let redo = revert(store.as_ref(), &first).unwrap();
    assert_eq!((redo.change, redo.total_after_change), (160, 170));
    assert_eq!(code(revert(store.as_ref(), &first)), "already_reverted");
}

pub fn a_revert_below_zero_or_of_nothing_is_refused_and_writes_nothing(db: &TestDb) {
    let store = db.store();
    let (product, delivery) = delivered(store.as_ref());
    let sold = next_event(&delivery, -165);
    store.append_stock_event(&sold).unwrap();
    match revert(store.as_ref(), &delivery) {
        Err(AppError::Rejected { code, message }) => {
            assert_eq!(code, "insufficient_stock");
            assert!(message.contains(delivery.id.as_str()), "{message}");
        }
        other => panic!("expected insufficient_stock, got {other:?}"),
    }
    let empty = create(store.as_ref(), "Empty", 100, 0);
    let opening = store.latest_stock_event(&empty.id).unwrap().unwrap();
    assert_eq!(code(revert(store.as_ref(), &opening)), "nothing_to_revert");
    assert_eq!(
        store.latest_stock_event(&product.id).unwrap().unwrap(),
        sold
    );
    assert_eq!(
        store
            .stock_event(&delivery.id)
            .unwrap()
            .unwrap()
            .reverted_by,
        None
    );
    let unknown = StockEvent {
        id: EventId::generate(t0(), rand::random()),
        ..delivery
    };
    assert!(matches!(
        revert(store.as_ref(), &unknown),
        Err(AppError::NotFound {
            what: "stock event",
            ..
        })
    ));
}

/// The rival reverts the row the use case is about to revert.
fn revert_it_first(rival: &dyn CatalogStore, event: &StockEvent) {
    let reverted = rival
        .stock_event(event.reverts.as_ref().unwrap())
        .unwrap()
        .unwrap()
        .event;
    let latest = rival
        .latest_stock_event(&event.product_id)
        .unwrap()
        .unwrap();
    rival
        .append_stock_event(&revert_event(&latest, &reverted))
        .unwrap();
}

pub fn reverts_race_and_only_one_wins(db: &TestDb) {
    // A rival reverts the row just before the use case's first append, so
    // the use case loses the race at the database and must find, on its
    // retry, that it lost.
    let store = RacedOnce::new(db, revert_it_first);
    let (product, delivery) = delivered(&*store.inner);
    let clock = FixedClock(t0());
    let outcome =
        Catalog::with_stores(store.stores(), &clock, no_wait(3)).revert_stock(RevertStock {
            event_id: delivery.id.clone(),
            reason: None,
        });
    assert!(
        matches!(
            outcome,
            Err(AppError::Rejected {
                code: "already_reverted",
                ..
            })
        ),
        "{:?}",
        outcome.map(|r| r.event)
    );
    let history = store.stock_history(&product.id).unwrap().unwrap();
    let changes: Vec<i64> = history.iter().map(|e| e.change).collect();
    assert_eq!(changes, vec![10, 160, -160], "reverted once, by the rival");
}

pub fn the_database_itself_refuses_changing_or_removing_ledger_rows(db: &TestDb) {
    let store = db.store();
    let (product, delivery) = delivered(store.as_ref());
    let before = store.stock_history(&product.id).unwrap().unwrap();
    let refusals = [
        format!(
            "UPDATE stock_events SET `change` = 16, total_after_change = 26 WHERE id = '{}'",
            delivery.id
        ),
        format!(
            "UPDATE stock_events SET reason = 'quiet fix' WHERE product_id = '{}'",
            product.id
        ),
        format!("DELETE FROM stock_events WHERE id = '{}'", delivery.id),
        "DELETE FROM stock_events".to_string(),
    ];
    for sql in refusals {
        let refused = db.raw_exec(&sql);
        let message = refused.expect_err(&sql);
        assert!(message.contains("append-only"), "{sql}: {message}");
    }
    assert_eq!(store.stock_history(&product.id).unwrap().unwrap(), before);
    // Appending is still what the ledger is for.
    store
        .append_stock_event(&next_event(&delivery, -1))
        .unwrap();
}

/// (product, version) of each event of a page.
fn page(store: &dyn CatalogStore, query: &LogQuery) -> Vec<(ProductId, i64)> {
    store
        .stock_log(query)
        .unwrap()
        .into_iter()
        .map(|l| (l.event.product_id, l.event.version))
        .collect()
}

pub fn the_log_ends_before_until_and_its_tail_is_its_newest_events(db: &TestDb) {
    let store = db.store();
    let a = create(store.as_ref(), "A", 100, 1);
    let b = create(store.as_ref(), "B", 100, 1);
    let day = |d: u32| Instant::parse("at", &format!("2025-07-{d:02}T00:00:00Z")).unwrap();
    // a: v2 on the 1st, v3 on the 3rd, v4 on the 5th; b: v2 on the 2nd,
    // v3 on the 4th. Written in that order.
    let mut latest_a = store.latest_stock_event(&a.id).unwrap().unwrap();
    let mut latest_b = store.latest_stock_event(&b.id).unwrap().unwrap();
    for d in 1..=5 {
        let latest = if d % 2 == 1 {
            &mut latest_a
        } else {
            &mut latest_b
        };
        let next = StockEvent {
            created_at: day(d),
            ..next_event(latest, 1)
        };
        store.append_stock_event(&next).unwrap();
        *latest = next;
    }
    let all = LogQuery {
        product: None,
        since: Some(day(1)),
        until: None,
        after: 0,
        limit: 100,
    };
    let until = LogQuery {
        until: Some(day(4)),
        ..all.clone()
    };
    assert_eq!(
        page(store.as_ref(), &until),
        vec![(a.id.clone(), 2), (b.id.clone(), 2), (a.id.clone(), 3)],
        "until is exclusive"
    );
    // The tail: the position to read a page of `limit` from.
    let tail = |query: &LogQuery, n: u32| {
        let after = store
            .stock_log_tail(&LogQuery {
                limit: n,
                ..query.clone()
            })
            .unwrap();
        page(
            store.as_ref(),
            &LogQuery {
                after,
                limit: n,
                ..query.clone()
            },
        )
    };
    assert_eq!(
        tail(&all, 2),
        vec![(b.id.clone(), 3), (a.id.clone(), 4)],
        "the newest two, oldest first"
    );
    assert_eq!(
        tail(&until, 2),
        vec![(b.id.clone(), 2), (a.id.clone(), 3)],
        "the tail of what until keeps"
    );
    assert_eq!(
        tail(&all, 99).len(),
        5,
        "a tail longer than the log is all of it"
    );
    let only_a = LogQuery {
        product: Some(a.id.clone()),
        since: None,
        ..all.clone()
    };
    assert_eq!(
        tail(&only_a, 2),
        vec![(a.id.clone(), 3), (a.id.clone(), 4)],
        "one product's tail, in version order"
    );
    assert_eq!(
        store
            .stock_log_tail(&LogQuery {
                limit: 10,
                ..only_a.clone()
            })
            .unwrap(),
        0,
        "no more than the tail: from the start"
    );
    let ghost = LogQuery {
        product: Some(ProductId::generate(t0(), 9)),
        ..only_a
    };
    assert_eq!(tail(&ghost, 3), vec![]);
}
