//! `coupon create`, `coupon deactivate`, `coupon show`, `coupon list`.

use milly::app::ports::CouponStore;
use milly::app::usecases::{CreateCoupon, ListCoupons};
use milly::app::AppError;
use milly::domain::*;

use crate::{actor, at, code, customer, percent, rejected, World, T0};

fn create(user: &str, raw_code: Option<&str>, pct: &str) -> CreateCoupon {
    CreateCoupon {
        user_id: customer(user),
        percentage: percent(pct),
        valid_from: None,
        valid_to: at("2025-12-31").into(),
        code: raw_code.map(code),
    }
}

#[test]
fn a_coupon_is_stored_as_created() {
    let world = World::new();
    let coupon = world
        .catalog()
        .create_coupon(create("42", Some("Welcome10"), "10"))
        .unwrap();
    assert_eq!(coupon.code.as_str(), "Welcome10");
    assert_eq!(
        (coupon.window.from(), coupon.window.until()),
        (at(T0), at("2025-12-31"))
    );
    assert!(coupon.is_active);
    assert_eq!(coupon.actor, Some(actor("tester")));
    assert_eq!(
        world.store.coupon(&code("WELCOME10")).unwrap(),
        Some(coupon)
    );
}

#[test]
fn a_taken_code_is_refused_in_any_case() {
    let world = World::new();
    world
        .catalog()
        .create_coupon(create("42", Some("Welcome10"), "10"))
        .unwrap();
    let again = world
        .catalog()
        .create_coupon(create("7", Some("WELCOME10"), "50"));
    assert_eq!(rejected(again), "duplicate_coupon_code");
    assert_eq!(world.counts().3, 1);
}

#[test]
fn a_generated_code_has_ten_unambiguous_characters() {
    let world = World::new();
    let a = world
        .catalog()
        .create_coupon(create("42", None, "10"))
        .unwrap();
    let b = world
        .catalog()
        .create_coupon(create("42", None, "10"))
        .unwrap();
    for c in [&a, &b] {
        let raw = c.code.as_str();
        assert_eq!(raw.len(), 10, "{raw}");
        assert!(
            raw.chars()
                .all(|ch| "ABCDEFGHJKMNPQRSTVWXYZ23456789".contains(ch)),
            "{raw}"
        );
    }
    assert_ne!(a.code, b.code);
    assert_eq!(world.counts().3, 2);
}

#[test]
fn a_window_that_ends_before_it_starts_is_invalid() {
    let world = World::new();
    let refused = world.catalog().create_coupon(CreateCoupon {
        valid_to: at("2025-05-01").into(),
        ..create("42", Some("LATE1"), "10")
    });
    assert!(
        matches!(refused, Err(AppError::Invalid(_))),
        "{:?}",
        refused.err()
    );
    assert_eq!(world.counts().3, 0);
}

#[test]
fn deactivating_records_when_and_who_once() {
    let world = World::new();
    world
        .catalog()
        .create_coupon(create("42", Some("OFF10"), "10"))
        .unwrap();
    world.clock.set("2025-06-05T00:00:00Z");
    let off = world.catalog().deactivate_coupon(&code("off10")).unwrap();
    assert!(!off.is_active);
    let stamped = Deactivation {
        at: at("2025-06-05"),
        by: Some(actor("tester")),
    };
    assert_eq!(off.deactivated, Some(stamped.clone()));
    world.clock.set("2025-06-09T00:00:00Z");
    let again = world.catalog().deactivate_coupon(&code("OFF10")).unwrap();
    assert_eq!(
        again.deactivated,
        Some(stamped),
        "deactivating again changes nothing"
    );
    assert_eq!(
        world.catalog().deactivate_coupon(&code("NOPE1")).err(),
        Some(AppError::NotFound {
            what: "coupon",
            id: "NOPE1".into()
        })
    );
}

#[test]
fn coupons_are_shown_by_code_and_listed_by_customer_and_activity() {
    let world = World::new();
    let catalog = world.catalog();
    for (user, raw_code) in [
        ("42", "FIRST"),
        ("7", "SECOND"),
        ("42", "THIRD"),
        ("42", "FOURTH"),
    ] {
        catalog
            .create_coupon(create(user, Some(raw_code), "10"))
            .unwrap();
    }
    catalog.deactivate_coupon(&code("THIRD")).unwrap();
    assert_eq!(
        catalog.show_coupon(&code("second")).unwrap().user_id,
        customer("7")
    );
    assert!(matches!(
        catalog.show_coupon(&code("NONE1")),
        Err(AppError::NotFound { what: "coupon", .. })
    ));
    let listed = |user: Option<&str>, active: bool, page: u64, page_size: u32| {
        catalog
            .list_coupons(ListCoupons {
                user_id: user.map(customer),
                active,
                at: None,
                page,
                page_size,
            })
            .unwrap()
            .items
            .into_iter()
            .map(|c| c.code.as_str().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        listed(None, false, 1, 10),
        ["FIRST", "SECOND", "THIRD", "FOURTH"]
    );
    assert_eq!(
        listed(Some("42"), false, 1, 10),
        ["FIRST", "THIRD", "FOURTH"]
    );
    assert_eq!(listed(Some("42"), true, 1, 10), ["FIRST", "FOURTH"]);
    assert_eq!(listed(Some("42"), false, 2, 2), ["FOURTH"]);
    // Judged at another instant: after every window, none is active.
    let after = catalog
        .list_coupons(ListCoupons {
            user_id: None,
            active: true,
            at: Some(at("2026-01-01").into()),
            page: 1,
            page_size: 10,
        })
        .unwrap();
    assert!(after.items.is_empty());
    assert_eq!(after.at, at("2026-01-01"));
}
