//! `discount set`: one active discount per product, replaced whole.

use milly::app::ports::{DiscountQuery, DiscountStore};
use milly::app::usecases::SetDiscount;
use milly::app::AppError;
use milly::domain::*;

use crate::{actor, at, percent, rejected, World, T0};

fn set(product: &ProductId, pct: &str) -> SetDiscount {
    SetDiscount {
        product_id: product.clone(),
        percentage: percent(pct),
        from: None,
        until: None,
    }
}

fn discounts(world: &World, product: &Product) -> Vec<Discount> {
    world
        .store
        .list_discounts(&DiscountQuery {
            product_id: Some(product.id.clone()),
            active_at: None,
            offset: 0,
            limit: 10,
        })
        .unwrap()
}

#[test]
fn a_discount_runs_thirty_days_from_now_unless_told() {
    let world = World::new();
    let product = world.product("Mug", "10.00", "1");
    let set_now = world
        .catalog()
        .set_discount(set(&product.id, "15"))
        .unwrap();
    assert_eq!(set_now.replaced, None);
    let d = &set_now.discount;
    assert_eq!(
        (d.window.from(), d.window.until()),
        (at(T0), at(T0).plus_days(30))
    );
    assert!(d.is_active);
    assert_eq!(d.actor, Some(actor("tester")));
    assert_eq!(discounts(&world, &product), vec![d.clone()]);

    let later = world
        .catalog()
        .set_discount(SetDiscount {
            from: Some(at("2025-07-01").into()),
            until: Some(at("2025-07-02").into()),
            ..set(&product.id, "20")
        })
        .unwrap();
    assert_eq!(
        (later.discount.window.from(), later.discount.window.until()),
        (at("2025-07-01"), at("2025-07-02"))
    );
}

#[test]
fn setting_again_replaces_the_active_discount() {
    let world = World::new();
    let product = world.product("Mug", "10.00", "1");
    let first = world
        .catalog()
        .set_discount(set(&product.id, "10"))
        .unwrap();
    world.clock.set("2025-06-02T00:00:00Z");
    let second = world
        .catalog()
        .set_discount(set(&product.id, "20"))
        .unwrap();
    assert_eq!(second.replaced, Some(first.discount.id.clone()));
    let stored = discounts(&world, &product);
    assert_eq!(stored.len(), 2);
    assert!(!stored[0].is_active);
    assert_eq!(
        stored[0].deactivated.as_ref().map(|d| d.at),
        Some(at("2025-06-02"))
    );
    assert!(stored[1].is_active);
}

#[test]
fn an_empty_window_unknown_and_archived_products_are_refused() {
    let world = World::new();
    let product = world.product("Mug", "10.00", "1");
    let backwards = world.catalog().set_discount(SetDiscount {
        from: Some(at("2025-07-01").into()),
        until: Some(at("2025-06-01").into()),
        ..set(&product.id, "10")
    });
    assert!(
        matches!(backwards, Err(AppError::Invalid(_))),
        "{:?}",
        backwards.err()
    );

    let ghost = ProductId::generate(at(T0), 5);
    assert_eq!(
        world.catalog().set_discount(set(&ghost, "10")).err(),
        Some(AppError::NotFound {
            what: "product",
            id: ghost.to_string()
        })
    );
    world.catalog().archive_product(&product.id, true).unwrap();
    assert_eq!(
        rejected(world.catalog().set_discount(set(&product.id, "10"))),
        "product_archived"
    );
    assert!(discounts(&world, &product).is_empty());
}
