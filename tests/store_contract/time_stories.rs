//! Time you can trust: an answer for a moment uses only what was recorded
//! by then, and a database server stamps rows with its own clock.

use milly::app::ports::*;
use milly::domain::*;

use crate::backends::{Engine, TestDb};
use crate::stories::{coupon, discount, next_event, product_at};

fn at(raw: &str) -> Instant {
    Instant::parse("test time", raw).unwrap()
}

fn window(from: &str, until: &str) -> Window {
    Window::new(at(from), at(until), "window").unwrap()
}

/// A product recorded on 1 February with 10 in stock, +5 recorded on
/// 1 March; a discount and a coupon recorded on 1 April with windows
/// reaching back to January; a second product recorded on 1 May.
pub fn answers_for_a_moment_use_only_what_was_recorded_by_then(db: &TestDb) {
    let store = db.store();
    let (tea, opening) = product_at("Tea", 10_000, 10, at("2025-02-01"));
    store.create_product(&tea, &opening).unwrap();
    let more = StockEvent {
        created_at: at("2025-03-01"),
        ..next_event(&opening, 5)
    };
    store.append_stock_event(&more).unwrap();
    let off = Discount {
        created_at: at("2025-04-01"),
        ..discount(&tea.id, "10", window("2025-01-01", "2026-01-01"))
    };
    store.replace_discount(&off).unwrap();
    let welcome = Coupon {
        created_at: at("2025-04-01"),
        ..coupon("42", "WELCOME", "20", window("2025-01-01", "2026-01-01"))
    };
    store.create_coupon(&welcome).unwrap();
    let (late, late_opening) = product_at("Late", 100, 1, at("2025-05-01"));
    store.create_product(&late, &late_opening).unwrap();

    let customer = CustomerId::parse("user", "42").unwrap();
    let query = ProductQuery {
        name_contains: None,
        start: PageStart::Offset(0),
        limit: 10,
        include_archived: false,
    };
    for (when, stock, discounted, listed) in [
        ("2025-02-01", 10, false, 1),
        ("2025-02-28T23:59:59.999999Z", 10, false, 1),
        ("2025-03-01", 15, false, 1),
        ("2025-03-31T23:59:59.999999Z", 15, false, 1),
        ("2025-04-01", 15, true, 1),
        ("2025-05-01", 15, true, 2),
    ] {
        let shown = store
            .product_details(&tea.id, Some(&customer), at(when))
            .unwrap()
            .unwrap();
        assert_eq!(shown.stock, stock, "{when}");
        assert_eq!(shown.discount.is_some(), discounted, "{when}");
        assert_eq!(shown.coupon.is_some(), discounted, "{when}");
        let page = store.list_products(&query, at(when)).unwrap();
        assert_eq!(page.len(), listed, "{when}");
        assert_eq!(page[0].stock, stock, "{when}");
        assert_eq!(page[0].discount.is_some(), discounted, "{when}");
        let mut scanned = Vec::new();
        store
            .scan_products(false, at(when), &mut |row| {
                scanned.push(row);
                std::ops::ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(scanned, page, "{when}");
    }
    // Lists judged active at a moment count only what was recorded by then.
    let active = |when: &str| {
        let discounts = store
            .list_discounts(&DiscountQuery {
                product_id: None,
                active_at: Some(at(when)),
                offset: 0,
                limit: 10,
            })
            .unwrap();
        let coupons = store
            .list_coupons(&CouponQuery {
                user_id: None,
                active_at: Some(at(when)),
                offset: 0,
                limit: 10,
            })
            .unwrap();
        (discounts.len(), coupons.len())
    };
    assert_eq!(active("2025-03-15"), (0, 0));
    assert_eq!(active("2025-04-15"), (1, 1));
    // Before it was recorded the product's details still come back (the
    // caller refuses the moment), with no stock recorded yet.
    let early = store
        .product_details(&late.id, None, at("2025-01-01"))
        .unwrap()
        .unwrap();
    assert_eq!((early.product.id, early.stock), (late.id, 0));
}

/// A database server has a clock every client shares; a local file has
/// none but the machine's.
pub fn a_server_tells_its_own_time(db: &TestDb) {
    let store = db.store();
    let told = store.database_time().unwrap();
    match db.engine() {
        Engine::Mysql => {
            // The server runs on this machine in the tests: its clock and
            // ours agree to within a minute.
            let told = told.expect("a server tells its time").as_datetime();
            let drift = (told - chrono::Utc::now()).num_seconds().abs();
            assert!(drift < 60, "server time {told} is {drift} s from ours");
            let later = store.database_time().unwrap().unwrap().as_datetime();
            assert!(
                later >= told,
                "the clock moves forward: {told} then {later}"
            );
        }
        Engine::Sqlite | Engine::Memory => assert_eq!(told, None),
    }
}
