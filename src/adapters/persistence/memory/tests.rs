//! What the contract stories that need SQL check on the SQL stores, checked
//! here through the ports alone, and what is particular to this store:
//! connections, isolation of a unit's writes and the write lock.

use std::ops::ControlFlow;
use std::time::Duration;

use super::*;
use crate::app::ports::{in_unit, CatalogStore, ImportAborted};
use crate::domain::*;

fn at(raw: &str) -> Instant {
    Instant::parse("at", raw).unwrap()
}

fn t0() -> Instant {
    at("2025-06-01T12:00:00Z")
}

fn product(store: &dyn CatalogStore, name: &str, stock: i64) -> Product {
    let (product, opening) = product_row(name, stock);
    store.create_product(&product, &opening).unwrap();
    product
}

fn product_row(name: &str, stock: i64) -> (Product, StockEvent) {
    let product = Product {
        id: ProductId::generate(t0(), rand::random()),
        name: ProductName::parse("name", name).unwrap(),
        description: Description::empty(),
        price: Money::from_cents(100).unwrap(),
        created_at: t0(),
        updated_at: t0(),
        archived_at: None,
        actor: Some(Actor::parse("actor", "maker").unwrap()),
    };
    let opening = StockEvent::opening(
        EventId::generate(t0(), rand::random()),
        product.id.clone(),
        Quantity::parse("stock", &stock.to_string()).unwrap(),
        t0(),
    );
    (product, opening)
}

fn next(latest: &StockEvent, change: i64) -> StockEvent {
    latest
        .next(
            EventId::generate(t0(), rand::random()),
            StockChange::parse("change", &change.to_string()).unwrap(),
            None,
            t0(),
        )
        .unwrap()
}

fn latest(store: &dyn CatalogStore, p: &Product) -> StockEvent {
    store.latest_stock_event(&p.id).unwrap().unwrap()
}

fn window() -> Window {
    Window::new(at("2025-01-01"), at("2026-01-01"), "until").unwrap()
}

fn discount(p: &Product) -> Discount {
    Discount {
        id: DiscountId::generate(t0(), rand::random()),
        product_id: p.id.clone(),
        percentage: Percentage::parse("p", "10").unwrap(),
        window: window(),
        is_active: true,
        created_at: t0(),
        actor: Some(Actor::parse("actor", "pricer").unwrap()),
        deactivated: None,
        replaced_by: None,
    }
}

fn coupon(raw_code: &str) -> Coupon {
    Coupon {
        id: CouponId::generate(t0(), rand::random()),
        user_id: CustomerId::parse("user", "42").unwrap(),
        code: CouponCode::parse("code", raw_code).unwrap(),
        percentage: Percentage::parse("p", "10").unwrap(),
        window: window(),
        is_active: true,
        created_at: t0(),
        actor: Some(Actor::parse("actor", "marketing").unwrap()),
        deactivated: None,
    }
}

fn counts(store: &dyn CatalogStore) -> (i64, i64, i64, i64) {
    let s = store.status().unwrap();
    (s.products, s.stock_events, s.discounts, s.coupons)
}

fn key(raw: &str) -> IdempotencyKey {
    IdempotencyKey::parse("key", raw).unwrap()
}

fn request(result: &str) -> RecordedRequest {
    RecordedRequest {
        fingerprint: "f".into(),
        result: result.into(),
    }
}

#[test]
fn connections_on_several_threads_share_one_database() {
    let database = MemoryDatabase::new();
    let writers: Vec<_> = (0..4)
        .map(|i| {
            let database = database.clone();
            std::thread::spawn(move || {
                let store = database.connect();
                for j in 0..25 {
                    product(&store, &format!("P{i}-{j}"), 1);
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    let store = database.connect();
    assert_eq!(counts(&store), (100, 100, 0, 0));
    let positions: Vec<i64> = store
        .list_products(
            &ProductQuery {
                name_contains: None,
                start: crate::app::ports::PageStart::Offset(0),
                limit: 200,
                include_archived: false,
            },
            t0(),
        )
        .unwrap()
        .iter()
        .map(|l| l.position)
        .collect();
    assert_eq!(positions, (1..=100).collect::<Vec<i64>>());
}

#[test]
fn it_has_no_schema_to_migrate_and_reports_the_binary_s_latest() {
    let store = MemoryStore::new();
    assert_eq!(store.migrate(), Ok(vec![]));
    assert_eq!(store.prepare(), Ok(vec![]));
    assert_eq!(store.clone().dry_run(true).migrate(), Ok(vec![]));
    let status = store.status().unwrap();
    let latest = migrations::LATEST;
    assert_eq!(status.backend, "memory");
    assert_eq!(
        (status.schema_version, status.supported_version),
        (latest, latest)
    );
    assert_eq!(status.migrations.len(), migrations::VERSIONS.len());
    assert!(status.migrations.iter().all(|m| m.applied_at.is_some()));
    assert_eq!(store.tls_version(), Ok(None));
}

#[test]
fn every_row_keeps_the_actor_it_was_given() {
    let store = MemoryStore::new();
    let p = product(&store, "Stamped", 1);
    let clerk = Actor::parse("actor", "clerk").unwrap();
    store
        .append_stock_event(&next(&latest(&store, &p), 1).by(Some(clerk.clone())))
        .unwrap();
    let d = discount(&p);
    store.replace_discount(&d).unwrap();
    let c = coupon("STAMPED");
    store.create_coupon(&c).unwrap();
    let shown = store.product_details(&p.id, None, t0()).unwrap().unwrap();
    assert_eq!(shown.product.actor, p.actor);
    assert_eq!(shown.discount.and_then(|d| d.actor), d.actor);
    assert_eq!(
        store.coupon(&c.code).unwrap().and_then(|c| c.actor),
        c.actor
    );
    assert_eq!(latest(&store, &p).actor, Some(clerk));
}

#[test]
fn ledger_scans_group_rows_by_product_then_name_the_bare_ones() {
    let store = MemoryStore::new();
    let a = product(&store, "A", 10);
    let b = product(&store, "B", 0);
    store
        .append_stock_event(&next(&latest(&store, &a), 5))
        .unwrap();
    // Rows are kept as given: a total that does not follow is handed over.
    let mut broken = next(&latest(&store, &b), 1);
    broken.total_after_change = 7;
    store.append_stock_event(&broken).unwrap();
    let (bare, _) = product_row("Bare", 0);
    let mut items = vec![Ok(ImportItem::Product {
        product: bare.clone(),
        events: vec![],
        discount: None,
    })]
    .into_iter();
    store.import(&mut items).unwrap().unwrap();

    let scan = |product: Option<&ProductId>| {
        let mut found = Vec::new();
        store
            .scan_ledgers(product, &mut |row| {
                found.push(row);
                ControlFlow::Continue(())
            })
            .unwrap();
        found
    };
    let entry = |p: &Product, version, change, total| {
        LedgerScan::Entry(LedgerEntry {
            product_id: p.id.clone(),
            version,
            change,
            total_after_change: total,
            recorded_latest: 2,
        })
    };
    let mut by_id = vec![
        (&a, vec![entry(&a, 1, 10, 10), entry(&a, 2, 5, 15)]),
        (&b, vec![entry(&b, 1, 0, 0), entry(&b, 2, 1, 7)]),
    ];
    by_id.sort_by(|x, y| x.0.id.cmp(&y.0.id));
    let mut expected: Vec<LedgerScan> = by_id.into_iter().flat_map(|(_, rows)| rows).collect();
    expected.push(LedgerScan::NoLedger(bare.id.clone()));
    assert_eq!(scan(None), expected);
    assert_eq!(
        scan(Some(&bare.id)),
        vec![LedgerScan::NoLedger(bare.id.clone())]
    );
    assert_eq!(scan(Some(&ProductId::generate(t0(), 1))), vec![]);
    // A product without a ledger has no history, and cannot be priced.
    assert_eq!(store.stock_history(&bare.id), Ok(None));
    assert!(matches!(
        store.product_details(&bare.id, None, t0()),
        Err(StoreError::Internal(_))
    ));
    let mut seen = 0;
    store
        .scan_ledgers(None, &mut |_| {
            seen += 1;
            ControlFlow::Break(())
        })
        .unwrap();
    assert_eq!(seen, 1);
}

#[test]
fn a_stock_batch_commits_all_or_nothing() {
    let store = MemoryStore::new();
    let a = product(&store, "A", 10);
    let batch = |changes: Vec<i64>, commit: bool| {
        store.change_stock(&mut |batch| {
            let mut tip = batch
                .latest_events(std::slice::from_ref(&a.id))?
                .pop()
                .expect("the product exists");
            for change in &changes {
                let event = next(&tip, *change);
                batch.append(event.clone())?;
                tip = event;
            }
            Ok(commit)
        })
    };
    assert_eq!(batch(vec![1; 50], false), Ok(false));
    assert_eq!(counts(&store).1, 1);
    assert_eq!(batch(vec![1; 50], true), Ok(true));
    assert_eq!(latest(&store, &a).total_after_change, 60);
    // A taken version fails the batch, which then writes nothing.
    let stale = store.change_stock(&mut |batch| {
        let tip = batch.latest_events(std::slice::from_ref(&a.id))?.remove(0);
        batch.append(next(&tip, 1))?;
        batch.append(next(&tip, 2))?;
        Ok(true)
    });
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    assert_eq!(latest(&store, &a).version, 51);
    // An archived product is named as such; a ghost is left out.
    let ghost = ProductId::generate(t0(), 3);
    store
        .set_archived(&ProductChange::archival(a.id.clone(), true, t0(), None))
        .unwrap();
    store
        .change_stock(&mut |batch| {
            let ids = [a.id.clone(), ghost.clone()];
            assert_eq!(batch.latest_events(&ids)?.len(), 1);
            assert_eq!(batch.archived_among(&ids)?, vec![a.id.clone()]);
            Ok(false)
        })
        .unwrap();
}

#[test]
fn a_dry_run_checks_every_write_and_keeps_nothing() {
    let real = MemoryStore::new();
    let a = product(&real, "A", 10);
    real.create_coupon(&coupon("TAKEN1")).unwrap();
    let v1 = latest(&real, &a);
    let dry = real.clone().dry_run(true);
    let before = counts(&real);

    let (b, opening) = product_row("B", 1);
    dry.create_product(&b, &opening).unwrap();
    dry.append_stock_event(&next(&v1, 1)).unwrap();
    dry.replace_discount(&discount(&a)).unwrap();
    dry.create_coupon(&coupon("NEW1")).unwrap();
    let off = dry
        .deactivate_coupon(&CouponCode::parse("c", "taken1").unwrap(), t0(), None)
        .unwrap()
        .unwrap();
    assert!(!off.is_active, "the result is as the write left it");
    let (c, c_opening) = product_row("C", 1);
    let mut items = vec![Ok(ImportItem::Product {
        product: c,
        events: vec![c_opening],
        discount: None,
    })]
    .into_iter();
    assert!(dry.import(&mut items).unwrap().is_some());
    assert_eq!(
        dry.change_stock(&mut |batch| {
            let tip = batch.latest_events(std::slice::from_ref(&a.id))?.remove(0);
            batch.append(next(&tip, 2))?;
            Ok(true)
        }),
        Ok(true)
    );
    let committed = in_unit(&dry, || {
        dry.record_request(&key("dry"), &request("r"), t0())?;
        Ok::<_, StoreError>(((), UnitEnd::Commit))
    });
    assert_eq!(committed, Ok(()));
    assert_eq!(
        dry.set_archived(&ProductChange::archival(a.id.clone(), true, t0(), None)),
        Ok(true)
    );

    // The checks are made as in a real run.
    let mut taken = next(&v1, 1);
    real.append_stock_event(&taken).unwrap();
    taken.id = EventId::generate(t0(), 5);
    assert!(matches!(
        dry.append_stock_event(&taken),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        dry.create_coupon(&coupon("taken1")),
        Err(StoreError::DuplicateCouponCode("taken1".into()))
    );

    let (products, events, discounts, coupons) = before;
    assert_eq!(counts(&real), (products, events + 1, discounts, coupons));
    assert_eq!(real.recorded_request(&key("dry")), Ok(None));
    let shown = real.product_details(&a.id, None, t0()).unwrap().unwrap();
    assert_eq!((shown.stock, shown.product.archived_at), (11, None));
    assert!(
        real.coupon(&CouponCode::parse("c", "TAKEN1").unwrap())
            .unwrap()
            .unwrap()
            .is_active
    );
}

#[test]
fn a_unit_s_writes_are_seen_by_other_connections_only_once_committed() {
    let store = MemoryStore::new();
    let other = store.clone();
    let p = product(&store, "Shared", 1);
    let seen_inside = in_unit(&store, || {
        store.append_stock_event(&next(&latest(&store, &p), 4))?;
        // Its own connection sees it; another one does not, yet.
        let own = latest(&store, &p).total_after_change;
        let others = latest(&other, &p).total_after_change;
        Ok::<_, StoreError>(((own, others), UnitEnd::Commit))
    });
    assert_eq!(seen_inside, Ok((5, 1)));
    assert_eq!(latest(&other, &p).total_after_change, 5);
}

#[test]
fn a_long_result_is_kept_whole() {
    let store = MemoryStore::new();
    let huge = "x".repeat(17 * 1024 * 1024);
    in_unit(&store, || {
        store.record_request(&key("huge"), &request(&huge), t0())?;
        Ok::<_, StoreError>(((), UnitEnd::Commit))
    })
    .unwrap();
    assert_eq!(
        store
            .recorded_request(&key("huge"))
            .unwrap()
            .unwrap()
            .result
            .len(),
        huge.len()
    );
}

#[test]
fn a_failed_import_inside_a_unit_leaves_what_the_unit_wrote_before_it() {
    let store = MemoryStore::new();
    let kept = in_unit(&store, || {
        let kept = product(&store, "Before the import", 1);
        let (p, opening) = product_row("Aborted", 1);
        let mut items = vec![
            Ok(ImportItem::Product {
                product: p,
                events: vec![opening],
                discount: None,
            }),
            Err(ImportAborted),
        ]
        .into_iter();
        assert_eq!(store.import(&mut items), Ok(None));
        assert_eq!(counts(&store), (1, 1, 0, 0));
        Ok::<_, StoreError>((kept, UnitEnd::Commit))
    })
    .unwrap();
    assert_eq!(counts(&store), (1, 1, 0, 0));
    assert!(store
        .product_details(&kept.id, None, t0())
        .unwrap()
        .is_some());
}

#[test]
fn another_connection_s_write_waits_for_the_unit_then_times_out() {
    let store = MemoryStore::new();
    let p = product(&store, "Locked", 1);
    let impatient = store.clone().lock_timeout(Duration::from_millis(20));
    let refused = in_unit(&store, || {
        let append = impatient.append_stock_event(&next(&latest(&impatient, &p), 1));
        let coupon = impatient.create_coupon(&coupon("WAITED"));
        let unit = impatient.unit(&mut || Ok(UnitEnd::Commit));
        Ok::<_, StoreError>(((append, coupon, unit), UnitEnd::Rollback))
    })
    .unwrap();
    // A ledger append and a unit are retried by their callers: conflicts.
    assert!(
        matches!(refused.0, Err(StoreError::Conflict(_))),
        "{:?}",
        refused.0
    );
    assert!(
        matches!(refused.1, Err(StoreError::Unavailable(_))),
        "{:?}",
        refused.1
    );
    assert!(
        matches!(refused.2, Err(StoreError::Conflict(_))),
        "{:?}",
        refused.2
    );
    // Once the unit ended, the lock is free again.
    impatient
        .append_stock_event(&next(&latest(&impatient, &p), 1))
        .unwrap();
    assert_eq!(latest(&store, &p).version, 2);
}

#[test]
fn a_writer_on_another_thread_goes_once_the_unit_commits() {
    let store = MemoryStore::new();
    let p = product(&store, "Queued", 1);
    let database = store.database();
    let v1 = latest(&store, &p);
    let v2 = in_unit(&store, || {
        let v2 = next(&v1, 1);
        store.append_stock_event(&v2)?;
        let rival = std::thread::spawn({
            let database = database.clone();
            let rival_v2 = next(&v1, 5);
            move || database.connect().append_stock_event(&rival_v2)
        });
        std::thread::sleep(Duration::from_millis(100));
        Ok::<_, StoreError>(((v2, rival), UnitEnd::Commit))
    })
    .unwrap();
    let (v2, rival) = v2;
    // The rival waited for the commit, then found version 2 taken.
    assert!(matches!(
        rival.join().unwrap(),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(latest(&store, &p), v2);
}
