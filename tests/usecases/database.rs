//! `db migrate`, `db status` and what every command does first.

use milly::adapters::persistence::migrations;
use milly::app::usecases::{CreateCoupon, SetDiscount};

use crate::{at, code, customer, percent, World};

#[test]
fn a_memory_store_has_nothing_to_migrate() {
    let world = World::new();
    assert_eq!(world.catalog().migrate().unwrap(), Vec::<i64>::new());
    assert_eq!(world.catalog().prepare().unwrap(), Vec::<i64>::new());
    assert_eq!(world.catalog().connection_tls().unwrap(), None);
}

#[test]
fn status_reports_the_latest_schema_and_counts_rows() {
    let world = World::new();
    let empty = world.catalog().database_status().unwrap();
    let latest = migrations::LATEST;
    assert_eq!(empty.backend, "memory");
    assert_eq!(
        (empty.schema_version, empty.supported_version),
        (latest, latest)
    );
    assert_eq!(empty.migrations.len(), migrations::VERSIONS.len());
    assert!(empty.migrations.iter().all(|m| m.applied_at.is_some()));
    assert_eq!(
        (
            empty.products,
            empty.stock_events,
            empty.discounts,
            empty.coupons
        ),
        (0, 0, 0, 0)
    );

    let product = world.product("Counted", "1.00", "4");
    world
        .catalog()
        .adjust_stock(milly::app::usecases::AdjustStock {
            product_id: product.id.clone(),
            change: crate::change("+1"),
            reason: None,
            expected_version: None,
        })
        .unwrap();
    world
        .catalog()
        .set_discount(SetDiscount {
            product_id: product.id.clone(),
            percentage: percent("5"),
            from: None,
            until: None,
        })
        .unwrap();
    world
        .catalog()
        .create_coupon(CreateCoupon {
            user_id: customer("42"),
            percentage: percent("5"),
            valid_from: None,
            valid_to: at("2026-01-01").into(),
            code: Some(code("COUNTED")),
        })
        .unwrap();
    let status = world.catalog().database_status().unwrap();
    assert_eq!(
        (
            status.products,
            status.stock_events,
            status.discounts,
            status.coupons
        ),
        (1, 2, 1, 1)
    );
}
