//! `discount set`: discounts whose windows do not overlap, a new one
//! replacing from its start those it overlaps.

use milly::app::ports::{DiscountQuery, DiscountStore};
use milly::app::usecases::{SetDiscount, ShowProduct};
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
    assert_eq!(set_now.replaced, Replacement::default());
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
fn setting_again_cuts_the_running_discount_where_the_new_one_starts() {
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
    assert_eq!(second.replaced.in_force(), Some(&first.discount.id));
    assert_eq!(
        second.replaced.replaced(),
        std::slice::from_ref(&first.discount.id)
    );
    let stored = discounts(&world, &product);
    assert_eq!(stored.len(), 2);
    // Cut short, not switched off: it ran until the second took over.
    assert!(stored[0].is_active);
    assert_eq!(stored[0].window.until(), at("2025-06-02"));
    assert_eq!(stored[0].replaced_by.as_ref(), Some(&second.discount.id));
    assert_eq!(
        stored[0].status_at(at("2025-06-01T13:00:00Z")).name(),
        "running"
    );
    assert_eq!(stored[0].status_at(at("2025-06-02")).name(), "replaced");
    assert!(stored[1].is_active);
    assert_eq!(stored[1].status_at(at("2025-06-02")).name(), "running");
}

/// The schedule measured in the issue: on December 1st, a December
/// discount and then a February one. Both stay; each applies in its month.
#[test]
fn next_months_promotion_leaves_this_months_running() {
    let world = World::new();
    world.clock.set("2025-12-01T00:00:00Z");
    let product = world.product("Mug", "100.00", "1");
    let window = |from: &str, until: &str| SetDiscount {
        from: Some(Moment::parse("--from", from).unwrap()),
        until: Some(Moment::parse("--until", until).unwrap()),
        ..set(&product.id, "10")
    };
    let december = world
        .catalog()
        .set_discount(window("2025-12-01", "2026-01-01"))
        .unwrap();
    let february = world
        .catalog()
        .set_discount(SetDiscount {
            percentage: percent("20"),
            ..window("2026-02-01", "2026-03-01")
        })
        .unwrap();
    assert_eq!(february.replaced, Replacement::default());
    assert_eq!(
        february.discount.status_at(at("2025-12-01")).name(),
        "scheduled"
    );
    let price = |when: &str| {
        world
            .catalog()
            .show_product(ShowProduct {
                id: product.id.clone(),
                customer: None,
                at: Some(Moment::parse("--at", when).unwrap()),
            })
            .unwrap()
            .pricing
            .final_price
            .to_string()
    };
    assert_eq!(price("2025-12-15"), "90.00");
    assert_eq!(price("2026-01-15"), "100.00");
    assert_eq!(price("2026-02-15"), "80.00");
    let stored = discounts(&world, &product);
    assert_eq!(stored, [december.discount, february.discount]);
}

#[test]
fn a_window_already_over_is_refused_quoting_what_was_typed() {
    let world = World::new();
    let product = world.product("Mug", "10.00", "1");
    for (from, until, quoted) in [
        (Some("2025-02-01"), Some("2025-03-01"), "\"2025-03-01\""),
        (Some("-3d"), Some("-1d"), "\"-1d\""),
        (Some("2025-01-01"), None, "\"2025-01-01\""),
    ] {
        let refused = world.catalog().set_discount(SetDiscount {
            from: from.map(|f| Moment::parse("--from", f).unwrap()),
            until: until.map(|u| Moment::parse("--until", u).unwrap()),
            ..set(&product.id, "50")
        });
        let Err(AppError::Invalid(error)) = refused else {
            panic!("{from:?}..{until:?}: {:?}", refused.map(|s| s.discount));
        };
        let message = error.to_string();
        assert!(message.contains(quoted), "{message}");
        assert!(message.contains("already over"), "{message}");
        assert!(message.contains(if until.is_some() { "--until" } else { "--from" }));
    }
    assert!(discounts(&world, &product).is_empty());
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
