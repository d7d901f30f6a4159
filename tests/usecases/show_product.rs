//! `product show`: one product priced for a customer at an instant.

use milly::app::usecases::{CreateCoupon, SetDiscount, ShowProduct};
use milly::app::AppError;
use milly::domain::*;

use crate::{at, code, customer, money, percent, World, T0};

fn show(
    world: &World,
    product: &Product,
    who: Option<&str>,
    when: Option<&str>,
) -> milly::app::usecases::ProductView {
    world
        .catalog()
        .show_product(ShowProduct {
            id: product.id.clone(),
            customer: who.map(customer),
            at: when.map(|w| at(w).into()),
        })
        .unwrap()
}

fn coupon(world: &World, user: &str, raw_code: &str, pct: &str, until: &str) {
    world
        .catalog()
        .create_coupon(CreateCoupon {
            user_id: customer(user),
            percentage: percent(pct),
            valid_from: None,
            valid_to: at(until).into(),
            code: Some(code(raw_code)),
        })
        .unwrap();
}

#[test]
fn the_coupon_applies_after_the_product_discount() {
    let world = World::new();
    let product = world.product("Teapot", "100.00", "3");
    world
        .catalog()
        .set_discount(SetDiscount {
            product_id: product.id.clone(),
            percentage: percent("10"),
            from: None,
            until: None,
        })
        .unwrap();
    coupon(&world, "42", "SAVE20", "20", "2025-12-31");
    coupon(&world, "42", "SAVE5", "5", "2025-12-31");
    let view = show(&world, &product, Some("42"), None);
    assert_eq!(view.at, at(T0));
    assert_eq!(view.stock, 3);
    assert_eq!(
        view.coupon.as_ref().map(|c| c.code.as_str()),
        Some("SAVE20")
    );
    let p = &view.pricing;
    assert_eq!(
        (
            p.price,
            p.product_discount,
            p.coupon_discount,
            p.final_price
        ),
        (
            money("100.00"),
            money("10.00"),
            money("18.00"),
            money("72.00")
        )
    );
}

#[test]
fn another_customer_or_none_gets_no_coupon() {
    let world = World::new();
    let product = world.product("Teapot", "100.00", "3");
    coupon(&world, "42", "SAVE20", "20", "2025-12-31");
    for who in [Some("7"), None] {
        let view = show(&world, &product, who, None);
        assert_eq!(view.coupon, None);
        assert_eq!(view.pricing.final_price, money("100.00"));
    }
}

#[test]
fn a_past_instant_shows_what_applied_then() {
    let world = World::new();
    let product = world.product("Teapot", "100.00", "3");
    world.clock.set("2025-06-10T00:00:00Z");
    world
        .catalog()
        .set_discount(SetDiscount {
            product_id: product.id.clone(),
            percentage: percent("50"),
            from: None,
            until: None,
        })
        .unwrap();
    let then = show(&world, &product, None, Some("2025-06-05"));
    assert_eq!(
        (then.discount.is_none(), then.pricing.final_price),
        (true, money("100.00"))
    );
    let now = show(&world, &product, None, None);
    assert_eq!(now.at, at("2025-06-10"));
    assert_eq!(now.pricing.final_price, money("50.00"));
}

#[test]
fn archived_products_are_still_shown_and_unknown_ones_are_not_found() {
    let world = World::new();
    let product = world.product("Old", "1.00", "0");
    world.catalog().archive_product(&product.id, true).unwrap();
    assert_eq!(
        show(&world, &product, None, None).product.archived_at,
        Some(at(T0))
    );
    let ghost = ProductId::generate(at(T0), 9);
    let missing = world.catalog().show_product(ShowProduct {
        id: ghost.clone(),
        customer: None,
        at: None,
    });
    assert_eq!(
        missing.err(),
        Some(AppError::NotFound {
            what: "product",
            id: ghost.to_string()
        })
    );
}
