//! `stock revert` on the memory store: what the new row records, and the
//! refusals that come from the product rather than the reverted row.

use milly::app::usecases::{AdjustStock, RevertStock, StockReverted};
use milly::app::AppError;
use milly::domain::stock::MAX_STOCK;
use milly::domain::*;

use crate::{at, change, rejected, World};

fn adjust(world: &World, product: &Product, by: &str) -> StockEvent {
    world
        .catalog()
        .adjust_stock(AdjustStock {
            product_id: product.id.clone(),
            change: change(by),
            reason: None,
            expected_version: None,
        })
        .unwrap()
        .event
}

fn revert(world: &World, event: &StockEvent) -> Result<StockReverted, AppError> {
    world.catalog().revert_stock(RevertStock {
        event_id: event.id.clone(),
        reason: None,
    })
}

#[test]
fn a_revert_is_recorded_now_by_whoever_reverts() {
    let world = World::new();
    let tea = world.product("Tea", "1.00", "10");
    let delivery = adjust(&world, &tea, "+160");
    world.clock.set("2025-06-03T09:30:00Z");
    let reverted = revert(&world, &delivery).unwrap();
    assert_eq!(reverted.attempts, 1);
    let e = reverted.event;
    assert_eq!(e.created_at, at("2025-06-03T09:30:00Z"));
    assert_eq!(e.actor.as_ref().map(|a| a.as_str()), Some("tester"));
    assert_eq!(e.reason, None);
    assert_eq!(e.reverts, Some(delivery.id));
    assert_eq!((e.change, e.total_after_change, e.version), (-160, 10, 3));
    assert_eq!(world.stock(&tea), 10);
}

#[test]
fn a_row_of_an_archived_product_is_not_reverted() {
    let world = World::new();
    let tea = world.product("Tea", "1.00", "10");
    let delivery = adjust(&world, &tea, "+5");
    world.catalog().archive_product(&tea.id, true).unwrap();
    let before = world.counts();
    assert_eq!(rejected(revert(&world, &delivery)), "product_archived");
    assert_eq!(world.counts(), before);
    world.catalog().archive_product(&tea.id, false).unwrap();
    assert_eq!(
        revert(&world, &delivery).unwrap().event.total_after_change,
        10
    );
}

#[test]
fn undoing_a_sale_past_the_maximum_stock_is_refused() {
    let world = World::new();
    let full = world.product("Full", "1.00", &MAX_STOCK.to_string());
    let sale = adjust(&world, &full, "-1");
    adjust(&world, &full, "+1");
    assert_eq!(rejected(revert(&world, &sale)), "stock_overflow");
    assert_eq!(world.stock(&full), MAX_STOCK);
}
