//! `stock verify`: the ledger invariants checked on what the store holds.

use milly::app::ports::{ImportItem, ImportStore, LedgerStore};
use milly::app::usecases::{AdjustStock, LedgerSummary};
use milly::app::AppError;
use milly::domain::*;

use crate::{at, change, money, rejected, World, T0};

fn verify(
    world: &World,
    product: Option<&ProductId>,
) -> (Result<LedgerSummary, AppError>, Vec<LedgerProblem>) {
    let mut problems = Vec::new();
    let summary = world.catalog().verify_ledgers(product, &mut |p| {
        problems.push(p);
        Ok(())
    });
    (summary, problems)
}

#[test]
fn ledgers_kept_by_milly_are_consistent() {
    let world = World::new();
    let a = world.product("A", "1.00", "5");
    world.product("B", "1.00", "0");
    world
        .catalog()
        .adjust_stock(AdjustStock {
            product_id: a.id.clone(),
            change: change("-2"),
            reason: None,
            expected_version: None,
        })
        .unwrap();
    let (summary, problems) = verify(&world, None);
    assert_eq!(
        summary,
        Ok(LedgerSummary {
            products_checked: 2,
            events_checked: 3,
            problems: 0
        })
    );
    assert!(problems.is_empty());
    let (one, _) = verify(&world, Some(&a.id));
    assert_eq!(
        one.map(|s| (s.products_checked, s.events_checked)),
        Ok((1, 2))
    );
}

/// A ledger row whose total does not follow from the previous one, as a
/// hand edit leaves it (the store keeps rows as given).
fn broken_row(world: &World, product: &Product) {
    let latest = world
        .store
        .latest_stock_event(&product.id)
        .unwrap()
        .unwrap();
    let mut bad = latest
        .next(
            EventId::generate(at(T0), rand::random()),
            change("+1"),
            None,
            at(T0),
        )
        .unwrap();
    bad.total_after_change += 10;
    world.store.append_stock_event(&bad).unwrap();
}

#[test]
fn a_broken_total_and_a_missing_ledger_are_reported() {
    let world = World::new();
    let good = world.product("Good", "1.00", "5");
    let broken = world.product("Broken", "1.00", "5");
    broken_row(&world, &broken);
    // A product imported without any ledger row.
    let bare = Product {
        id: ProductId::generate(at(T0), 5),
        name: ProductName::parse("name", "Bare").unwrap(),
        description: Description::empty(),
        price: money("1.00"),
        created_at: at(T0),
        updated_at: at(T0),
        archived_at: None,
        actor: None,
    };
    let mut items = vec![Ok(ImportItem::Product {
        product: bare.clone(),
        events: vec![],
        discount: None,
    })]
    .into_iter();
    world.store.import(&mut items).unwrap().unwrap();

    let (summary, problems) = verify(&world, None);
    assert_eq!(rejected(summary), "ledger_inconsistent");
    let found: Vec<(ProductId, Option<i64>, &str)> = problems
        .iter()
        .map(|p| (p.product_id.clone(), p.version, p.fault.code()))
        .collect();
    assert_eq!(
        found,
        [
            (broken.id.clone(), Some(2), "broken_total"),
            (bare.id.clone(), None, "no_ledger")
        ]
    );
    assert_eq!(verify(&world, Some(&good.id)).0.map(|s| s.problems), Ok(0));
    let (only_bare, problems) = verify(&world, Some(&bare.id));
    assert_eq!(rejected(only_bare), "ledger_inconsistent");
    assert_eq!(problems.len(), 1);
}

#[test]
fn an_unknown_product_is_not_found() {
    let world = World::new();
    world.product("A", "1.00", "5");
    let ghost = ProductId::generate(at(T0), 3);
    assert_eq!(
        verify(&world, Some(&ghost)).0,
        Err(AppError::NotFound {
            what: "product",
            id: ghost.to_string()
        })
    );
}

#[test]
fn a_failing_report_stops_the_check_with_its_error() {
    let world = World::new();
    for name in ["A", "B"] {
        let product = world.product(name, "1.00", "5");
        broken_row(&world, &product);
    }
    let mut reported = 0;
    let stopped = world.catalog().verify_ledgers(None, &mut |_| {
        reported += 1;
        Err(AppError::Unavailable("closed".into()))
    });
    assert_eq!(stopped, Err(AppError::Unavailable("closed".into())));
    assert_eq!(reported, 1);
}
