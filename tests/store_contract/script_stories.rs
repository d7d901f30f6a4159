//! Stories for the ports that scripts and cron jobs use: ledger scans,
//! the movement log and bulk stock changes.

use std::ops::ControlFlow;

use milly::app::ports::*;
use milly::domain::*;

use crate::backends::{Engine, Sql, TestDb};
use crate::stories::{create, next_event, t0};

/// Every scan result, in the order the store handed them over.
fn scan(store: &dyn CatalogStore, product: Option<&ProductId>) -> Vec<LedgerScan> {
    let mut found = Vec::new();
    store
        .scan_ledgers(product, &mut |row| {
            found.push(row);
            ControlFlow::Continue(())
        })
        .unwrap();
    found
}

/// A scanned row of `p`, whose product row records `latest` as its
/// ledger's latest version.
fn entry(p: &Product, latest: i64, (version, change, total): (i64, i64, i64)) -> LedgerScan {
    LedgerScan::Entry(LedgerEntry {
        product_id: p.id.clone(),
        version,
        change,
        total_after_change: total,
        recorded_latest: latest,
    })
}

/// SQL that turns the CHECK constraints off for one raw session, so a
/// test can store what milly never would.
fn without_checks(db: &TestDb, sql: &str) -> String {
    match db.sql() {
        Sql::Sqlite => format!("PRAGMA ignore_check_constraints = ON; {sql}"),
        Sql::Mysql => format!("SET SESSION check_constraint_checks = 0; {sql}"),
    }
}

/// SQL run after the ledger's append-only triggers are dropped: someone
/// bypassing the schema on purpose, the only way a ledger row can be
/// changed or removed.
pub fn bypassing_the_append_only_ledger(sql: &str) -> String {
    format!(
        "DROP TRIGGER IF EXISTS stock_events_no_update; DROP TRIGGER IF EXISTS stock_events_no_delete; {sql}"
    )
}

pub fn ledger_scans_hand_over_rows_as_stored(db: &TestDb) {
    let store = db.store();
    let a = create(store.as_ref(), "A", 100, 10);
    let b = create(store.as_ref(), "B", 100, 0);
    let bare = create(store.as_ref(), "Bare", 100, 5);
    let cut = create(store.as_ref(), "Cut", 100, 3);
    let opening = store.latest_stock_event(&cut.id).unwrap().unwrap();
    store.append_stock_event(&next_event(&opening, 2)).unwrap();
    let mut latest = store.latest_stock_event(&a.id).unwrap().unwrap();
    for change in [5, -15] {
        let next = next_event(&latest, change);
        store.append_stock_event(&next).unwrap();
        latest = next;
    }
    // Damage through the raw client: a broken total, a negative one, a
    // product without any ledger row, and one without its latest row.
    db.raw_exec(&without_checks(
        db,
        &bypassing_the_append_only_ledger(&format!(
            "UPDATE stock_events SET total_after_change = -7 WHERE product_id = '{}' AND version = 3",
            a.id
        )),
    ))
    .unwrap();
    db.raw_exec(&bypassing_the_append_only_ledger(&format!(
        "DELETE FROM stock_events WHERE product_id = '{}'",
        bare.id
    )))
    .unwrap();
    db.raw_exec(&bypassing_the_append_only_ledger(&format!(
        "DELETE FROM stock_events WHERE product_id = '{}' AND version = 2",
        cut.id
    )))
    .unwrap();

    let mut by_product: Vec<(&Product, Vec<LedgerScan>)> = vec![
        (
            &a,
            vec![
                entry(&a, 3, (1, 10, 10)),
                entry(&a, 3, (2, 5, 15)),
                entry(&a, 3, (3, -15, -7)),
            ],
        ),
        (&b, vec![entry(&b, 1, (1, 0, 0))]),
        (&cut, vec![entry(&cut, 2, (1, 3, 3))]),
    ];
    // Products come grouped, in an order of the store's choosing.
    by_product.sort_by(|x, y| x.0.id.cmp(&y.0.id));
    let mut expected: Vec<LedgerScan> = by_product.into_iter().flat_map(|(_, rows)| rows).collect();
    expected.push(LedgerScan::NoLedger(bare.id.clone()));
    assert_eq!(scan(store.as_ref(), None), expected);

    assert_eq!(
        scan(store.as_ref(), Some(&b.id)),
        vec![entry(&b, 1, (1, 0, 0))]
    );
    assert_eq!(
        scan(store.as_ref(), Some(&cut.id)),
        vec![entry(&cut, 2, (1, 3, 3))]
    );
    assert_eq!(
        scan(store.as_ref(), Some(&bare.id)),
        vec![LedgerScan::NoLedger(bare.id.clone())]
    );
    let ghost = ProductId::generate(a.created_at, 7);
    assert_eq!(scan(store.as_ref(), Some(&ghost)), vec![]);

    // A sink that breaks stops the scan.
    let mut seen = 0;
    store
        .scan_ledgers(None, &mut |_| {
            seen += 1;
            ControlFlow::Break(())
        })
        .unwrap();
    assert_eq!(seen, 1);
}

fn log(store: &dyn CatalogStore, query: &LogQuery) -> Vec<(ProductId, i64)> {
    store
        .stock_log(query)
        .unwrap()
        .into_iter()
        .map(|l| (l.event.product_id, l.event.version))
        .collect()
}

pub fn the_log_pages_in_the_order_events_were_written(db: &TestDb) {
    let store = db.store();
    let a = create(store.as_ref(), "A", 100, 1);
    let b = create(store.as_ref(), "B", 100, 1);
    let mut latest_a = store.latest_stock_event(&a.id).unwrap().unwrap();
    let latest_b = store.latest_stock_event(&b.id).unwrap().unwrap();
    let later = |e: StockEvent, at: &str| StockEvent {
        created_at: Instant::parse("at", at).unwrap(),
        ..e
    };
    let a2 = later(next_event(&latest_a, 1), "2025-07-01T00:00:00Z");
    store.append_stock_event(&a2).unwrap();
    let b2 = later(next_event(&latest_b, 1), "2025-07-02T00:00:00Z");
    store.append_stock_event(&b2).unwrap();
    latest_a = a2;
    let a3 = later(next_event(&latest_a, 1), "2025-07-03T00:00:00Z");
    store.append_stock_event(&a3).unwrap();

    let mut query = LogQuery {
        product: None,
        since: None,
        until: None,
        after: 0,
        limit: 3,
    };
    let first = store.stock_log(&query).unwrap();
    assert_eq!(
        first
            .iter()
            .map(|l| (l.event.product_id.clone(), l.event.version))
            .collect::<Vec<_>>(),
        vec![(a.id.clone(), 1), (b.id.clone(), 1), (a.id.clone(), 2)]
    );
    assert_eq!(first[2].event, latest_a);
    // The next page starts after the last position seen.
    query.after = first[2].position;
    assert_eq!(
        log(store.as_ref(), &query),
        vec![(b.id.clone(), 2), (a.id.clone(), 3)]
    );
    query.after = store.stock_log(&query).unwrap()[1].position;
    assert_eq!(log(store.as_ref(), &query), vec![]);

    let since = LogQuery {
        product: None,
        since: Some(Instant::parse("at", "2025-07-02T00:00:00Z").unwrap()),
        until: None,
        after: 0,
        limit: 10,
    };
    assert_eq!(
        log(store.as_ref(), &since),
        vec![(b.id.clone(), 2), (a.id.clone(), 3)],
        "since is inclusive"
    );
    let one = LogQuery {
        product: Some(a.id.clone()),
        since: None,
        until: None,
        after: 1,
        limit: 1,
    };
    let page = store.stock_log(&one).unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].event, latest_a);
    let ghost = LogQuery {
        product: Some(ProductId::generate(a.created_at, 9)),
        ..one
    };
    assert_eq!(log(store.as_ref(), &ghost), vec![]);
}

/// Appends `changes` to `product` in one `change_stock` batch that commits
/// when `commit` says so.
fn batch_of(
    store: &dyn CatalogStore,
    product: &Product,
    changes: &[i64],
    commit: bool,
) -> Result<bool, StoreError> {
    store.change_stock(&mut |batch| {
        let mut latest = batch.latest_events(std::slice::from_ref(&product.id))?;
        let mut tip = latest.pop().expect("the product exists");
        for change in changes {
            let next = next_event(&tip, *change);
            batch.append(next.clone())?;
            tip = next;
        }
        Ok(commit)
    })
}

pub fn a_stock_batch_commits_all_or_nothing(db: &TestDb) {
    let store = db.store();
    let a = create(store.as_ref(), "A", 100, 10);
    let b = create(store.as_ref(), "B", 100, 0);
    let ghost = ProductId::generate(a.created_at, 11);
    store
        .change_stock(&mut |batch| {
            let mut found: Vec<(ProductId, i64)> = batch
                .latest_events(&[a.id.clone(), ghost.clone(), b.id.clone()])?
                .into_iter()
                .map(|e| (e.product_id, e.total_after_change))
                .collect();
            found.sort();
            let mut expected = vec![(a.id.clone(), 10), (b.id.clone(), 0)];
            expected.sort();
            assert_eq!(found, expected, "an unknown product is left out");
            Ok(false)
        })
        .unwrap();
    // More rows than a server batch holds, then rolled back: nothing.
    let many = vec![1; 1_234];
    assert_eq!(batch_of(store.as_ref(), &a, &many, false), Ok(false));
    assert_eq!(db.raw_i64("SELECT COUNT(*) FROM stock_events"), 2);
    assert_eq!(batch_of(store.as_ref(), &a, &many, true), Ok(true));
    let latest = store.latest_stock_event(&a.id).unwrap().unwrap();
    assert_eq!((latest.version, latest.total_after_change), (1_235, 1_244));
    // A failing append (a version taken) writes nothing either.
    let stale = store.change_stock(&mut |batch| {
        let tip = batch
            .latest_events(std::slice::from_ref(&b.id))?
            .pop()
            .unwrap();
        batch.append(next_event(&tip, 1))?;
        let mut taken = next_event(&tip, 2);
        taken.id = EventId::generate(tip.created_at, 99);
        batch.append(taken)?;
        Ok(true)
    });
    assert!(stale.is_err(), "{stale:?}");
    assert_eq!(store.latest_stock_event(&b.id).unwrap().unwrap().version, 1);
}

/// Another connection appending to a product the batch has read waits for
/// the batch and then finds its version taken: the batch never fails
/// because of it, and no change is lost. A rival with a short lock timeout,
/// run to its end while the batch is open, gives up (it did not take the
/// version the batch is about to write); one with time to wait, seen
/// waiting where the server shows it, conflicts once the batch commits.
pub fn a_stock_batch_holds_off_other_writers_of_its_products(db: &TestDb) {
    use std::time::Duration;
    let store = db.store();
    let a = create(store.as_ref(), "A", 100, 10);
    let v1 = store.latest_stock_event(&a.id).unwrap().unwrap();
    // Opened before the batch takes its locks: opening is not the race.
    let impatient = crate::backends::open_url(&db.url, Duration::from_millis(200));
    let (held_off, rival) = std::thread::scope(|scope| {
        let mut held_off = None;
        let mut rival = None;
        let committed = store
            .change_stock(&mut |batch| {
                let tip = batch
                    .latest_events(std::slice::from_ref(&a.id))?
                    .pop()
                    .unwrap();
                held_off = Some(impatient.append_stock_event(&next_event(&v1, 50)));
                let (ready, started) = std::sync::mpsc::channel();
                let v1 = &v1;
                rival = Some(scope.spawn(move || {
                    let other = db.store();
                    ready.send(()).unwrap();
                    other.append_stock_event(&next_event(v1, 100))
                }));
                started.recv().unwrap();
                match db.engine() {
                    Engine::Mysql => db.await_a_lock_wait(),
                    // A waiting writer is invisible from outside: the
                    // impatient rival has shown the hold-off already.
                    Engine::Sqlite | Engine::Memory => {}
                }
                batch.append(next_event(&tip, 1))?;
                Ok(true)
            })
            .unwrap();
        assert!(committed);
        (held_off.unwrap(), rival.unwrap().join().unwrap())
    });
    assert!(
        matches!(&held_off, Err(StoreError::Conflict(m)) if m.to_lowercase().contains("lock")),
        "a rival that cannot wait for the batch gives up without writing: {held_off:?}"
    );
    assert!(matches!(rival, Err(StoreError::Conflict(_))), "{rival:?}");
    assert!(
        matches!(&rival, Err(StoreError::Conflict(m)) if !m.to_lowercase().contains("lock")),
        "the waiting rival found its version taken, it did not time out: {rival:?}"
    );
    let latest = store.latest_stock_event(&a.id).unwrap().unwrap();
    assert_eq!((latest.version, latest.total_after_change), (2, 11));
}

/// Every write of a dry-run store runs with the database's own checks (a
/// taken version, a taken code, a missing product) and keeps nothing.
pub fn a_dry_run_store_checks_every_write_and_keeps_nothing(db: &TestDb) {
    use crate::stories::{all_window, coupon, discount, product_at};
    let real = db.store();
    let a = create(real.as_ref(), "A", 100, 10);
    real.create_coupon(&coupon("u", "TAKEN1", "5", all_window()))
        .unwrap();
    let v1 = real.latest_stock_event(&a.id).unwrap().unwrap();
    let dry = db.open_dry_run();
    assert_eq!(dry.migrate(), Ok(vec![]));
    let counts = |s: &dyn CatalogStore| {
        let st = s.status().unwrap();
        (st.products, st.stock_events, st.discounts, st.coupons)
    };
    let before = counts(real.as_ref());

    let (b, opening) = product_at("B", 100, 1, a.created_at);
    dry.create_product(&b, &opening).unwrap();
    dry.append_stock_event(&next_event(&v1, 1)).unwrap();
    dry.replace_discount(&discount(&a.id, "10", all_window()))
        .unwrap();
    dry.create_coupon(&coupon("u", "NEW1", "5", all_window()))
        .unwrap();
    let deactivated = dry
        .deactivate_coupon(&CouponCode::parse("code", "taken1").unwrap(), t0(), None)
        .unwrap()
        .unwrap();
    assert!(!deactivated.is_active, "the result is as the write left it");
    assert!(dry.clear_discount(&a.id, t0(), None).is_ok());
    let (c, c_opening) = product_at("C", 100, 1, a.created_at);
    let mut items = vec![Ok(ImportItem::Product {
        product: c,
        events: vec![c_opening],
        discount: None,
    })]
    .into_iter();
    assert!(dry.import(&mut items).unwrap().is_some());
    assert_eq!(
        dry.change_stock(&mut |batch| {
            let tip = batch
                .latest_events(std::slice::from_ref(&a.id))?
                .pop()
                .unwrap();
            batch.append(next_event(&tip, 2))?;
            Ok(true)
        }),
        Ok(true)
    );
    // The checks are the database's, as in a real run.
    let mut taken = next_event(&v1, 1);
    real.append_stock_event(&taken).unwrap();
    taken.id = EventId::generate(a.created_at, 5);
    assert!(matches!(
        dry.append_stock_event(&taken),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        dry.create_coupon(&coupon("u", "taken1", "5", all_window())),
        Err(StoreError::DuplicateCouponCode("taken1".into()))
    );
    let ghost = ProductId::generate(a.created_at, 13);
    assert_eq!(
        dry.replace_discount(&discount(&ghost, "10", all_window())),
        Err(StoreError::ProductNotFound(ghost.to_string()))
    );

    let (products, events, discounts, coupons) = before;
    assert_eq!(
        counts(real.as_ref()),
        (products, events + 1, discounts, coupons),
        "only the real append was kept"
    );
    let details = real.product_details(&a.id, None, t0()).unwrap().unwrap();
    assert_eq!(details.stock, 11);
    assert_eq!(
        db.raw_i64("SELECT COUNT(*) FROM coupons WHERE is_active = 1"),
        1
    );
}
