//! `stock history` without a product, or with `--since`/`--until`/
//! `--limit`/`--tail`: the movement log, streamed page by page.

use milly::app::ports::{ImportItem, ImportStore};
use milly::app::usecases::{AdjustStock, StockLog};
use milly::app::AppError;
use milly::domain::*;

use crate::{at, change, money, World, T0};

fn adjust(world: &World, product: &Product, by: &str) {
    world
        .catalog()
        .adjust_stock(AdjustStock {
            product_id: product.id.clone(),
            change: change(by),
            reason: None,
            expected_version: None,
        })
        .unwrap();
}

fn log(world: &World, input: StockLog) -> Result<(u64, Vec<(ProductId, i64)>), AppError> {
    let mut seen = Vec::new();
    let count = world.catalog().stream_stock_log(input, &mut |e| {
        seen.push((e.product_id, e.version));
        Ok(())
    })?;
    Ok((count, seen))
}

fn all() -> StockLog {
    StockLog {
        product: None,
        since: None,
        until: None,
        limit: None,
        tail: None,
    }
}

#[test]
fn the_log_is_every_event_in_the_order_written() {
    let world = World::new();
    let a = world.product("A", "1.00", "5");
    let b = world.product("B", "1.00", "5");
    world.clock.set("2025-06-02T00:00:00Z");
    adjust(&world, &a, "+1");
    world.clock.set("2025-06-03T00:00:00Z");
    adjust(&world, &b, "+1");
    adjust(&world, &a, "+1");
    let (count, seen) = log(&world, all()).unwrap();
    assert_eq!(count, 5);
    assert_eq!(
        seen,
        [
            (a.id.clone(), 1),
            (b.id.clone(), 1),
            (a.id.clone(), 2),
            (b.id.clone(), 2),
            (a.id.clone(), 3)
        ]
    );
    let since = log(
        &world,
        StockLog {
            since: Some(at("2025-06-03").into()),
            ..all()
        },
    )
    .unwrap();
    assert_eq!(since.1, [(b.id.clone(), 2), (a.id.clone(), 3)]);
    let limited = log(
        &world,
        StockLog {
            limit: Some(2),
            ..all()
        },
    )
    .unwrap();
    assert_eq!(limited, (2, vec![(a.id.clone(), 1), (b.id.clone(), 1)]));
    let one = log(
        &world,
        StockLog {
            product: Some(a.id.clone()),
            ..all()
        },
    )
    .unwrap();
    assert_eq!(
        one.1,
        [(a.id.clone(), 1), (a.id.clone(), 2), (a.id.clone(), 3)]
    );
    assert_eq!(
        log(
            &world,
            StockLog {
                limit: Some(0),
                ..all()
            }
        )
        .unwrap(),
        (0, vec![])
    );
}

#[test]
fn a_long_log_is_read_past_its_first_page() {
    let world = World::new();
    // One product with 2,500 ledger rows: more than two pages of the log.
    let when = at(T0);
    let product = Product {
        id: ProductId::generate(when, 1),
        name: ProductName::parse("name", "Busy").unwrap(),
        description: Description::empty(),
        price: money("1.00"),
        created_at: when,
        updated_at: when,
        archived_at: None,
        actor: None,
    };
    let mut events = vec![StockEvent::opening(
        EventId::generate(when, 0),
        product.id.clone(),
        Quantity::zero(),
        when,
    )];
    for i in 1..2_500 {
        let next = events
            .last()
            .unwrap()
            .next(EventId::generate(when, i), change("+1"), None, when)
            .unwrap();
        events.push(next);
    }
    let mut items = vec![Ok(ImportItem::Product {
        product: product.clone(),
        events,
        discount: None,
    })]
    .into_iter();
    world.store.import(&mut items).unwrap().unwrap();
    let (count, seen) = log(&world, all()).unwrap();
    assert_eq!(count, 2_500);
    assert!(seen
        .iter()
        .enumerate()
        .all(|(i, (_, v))| *v == i as i64 + 1));
    let (count, seen) = log(
        &world,
        StockLog {
            product: Some(product.id.clone()),
            limit: Some(2_001),
            ..all()
        },
    )
    .unwrap();
    assert_eq!(count, 2_001);
    assert_eq!(seen.last().map(|(_, v)| *v), Some(2_001));
}

#[test]
fn until_ends_the_log_and_a_tail_is_its_newest_events_in_order() {
    let world = World::new();
    let a = world.product("A", "1.00", "5");
    let b = world.product("B", "1.00", "5");
    world.clock.set("2025-06-02T00:00:00Z");
    adjust(&world, &a, "+1");
    world.clock.set("2025-06-03T00:00:00Z");
    adjust(&world, &b, "+1");
    world.clock.set("2025-06-04T00:00:00Z");
    adjust(&world, &a, "+1");
    let until = |raw: &str| StockLog {
        until: Some(at(raw).into()),
        ..all()
    };
    assert_eq!(
        log(&world, until("2025-06-03")).unwrap().1,
        [(a.id.clone(), 1), (b.id.clone(), 1), (a.id.clone(), 2)],
        "until is exclusive"
    );
    let tail = |n: u32, input: StockLog| {
        log(
            &world,
            StockLog {
                tail: Some(n),
                ..input
            },
        )
        .unwrap()
    };
    assert_eq!(
        tail(2, all()),
        (2, vec![(b.id.clone(), 2), (a.id.clone(), 3)])
    );
    assert_eq!(
        tail(2, until("2025-06-04")),
        (2, vec![(a.id.clone(), 2), (b.id.clone(), 2)])
    );
    assert_eq!(
        tail(
            2,
            StockLog {
                product: Some(a.id.clone()),
                ..all()
            }
        )
        .1,
        [(a.id.clone(), 2), (a.id.clone(), 3)]
    );
    assert_eq!(
        tail(50, all()).0,
        5,
        "a tail longer than the log is all of it"
    );
    // Relative times resolve against the clock, like --since.
    assert_eq!(
        log(
            &world,
            StockLog {
                until: Some(Moment::parse("--until", "-1d").unwrap()),
                ..all()
            }
        )
        .unwrap()
        .0,
        3
    );
}

#[test]
fn an_unknown_product_is_not_found_before_anything_is_handed_over() {
    let world = World::new();
    world.product("A", "1.00", "5");
    let ghost = ProductId::generate(at(T0), 1);
    let mut handed = 0;
    let missing = world.catalog().stream_stock_log(
        StockLog {
            product: Some(ghost.clone()),
            ..all()
        },
        &mut |_| {
            handed += 1;
            Ok(())
        },
    );
    assert_eq!(
        missing.err(),
        Some(AppError::NotFound {
            what: "product",
            id: ghost.to_string()
        })
    );
    assert_eq!(handed, 0);
}

#[test]
fn a_failing_sink_stops_the_log() {
    let world = World::new();
    let a = world.product("A", "1.00", "5");
    adjust(&world, &a, "+1");
    let mut handed = 0;
    let stopped = world.catalog().stream_stock_log(all(), &mut |_| {
        handed += 1;
        Err(AppError::Unavailable("closed".into()))
    });
    assert_eq!(stopped.err(), Some(AppError::Unavailable("closed".into())));
    assert_eq!(handed, 1);
}
