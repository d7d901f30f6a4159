//! `stock history PRODUCT`: one product's whole ledger.

use milly::app::usecases::AdjustStock;
use milly::app::AppError;
use milly::domain::*;

use crate::{at, change, World, T0};

#[test]
fn the_ledger_is_listed_oldest_first() {
    let world = World::new();
    let product = world.product("Mug", "1.00", "5");
    let other = world.product("Cup", "1.00", "5");
    for (p, by) in [(&product, "+3"), (&other, "-1"), (&product, "-8")] {
        world
            .catalog()
            .adjust_stock(AdjustStock {
                product_id: p.id.clone(),
                change: change(by),
                reason: None,
                expected_version: None,
            })
            .unwrap();
    }
    let history = world.catalog().stock_history(&product.id).unwrap();
    let rows: Vec<(i64, i64, i64)> = history
        .iter()
        .map(|e| (e.version, e.change, e.total_after_change))
        .collect();
    assert_eq!(rows, [(1, 5, 5), (2, 3, 8), (3, -8, 0)]);
    assert!(history.iter().all(|e| e.product_id == product.id));
}

#[test]
fn an_unknown_product_is_not_found() {
    let world = World::new();
    let ghost = ProductId::generate(at(T0), 1);
    assert_eq!(
        world.catalog().stock_history(&ghost).err(),
        Some(AppError::NotFound {
            what: "product",
            id: ghost.to_string()
        })
    );
}
