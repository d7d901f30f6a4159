//! Discounts, coupons and the prices they produce.

use serde_json::{json, Value};

use crate::harness::TestDb;
use crate::on_every_backend;

on_every_backend!(
    a_10_percent_discount_on_10000_lists_as_1000_off_final_9000,
    a_discount_over_the_same_window_replaces_the_previous_one,
    next_months_promotion_leaves_this_months_running,
    a_discount_window_already_over_is_refused,
    discount_applies_only_inside_its_window,
    discount_for_an_unknown_product_is_not_found,
    customer_price_applies_discount_then_best_coupon,
    coupon_is_stored_with_customer_and_code,
    duplicate_coupon_code_in_any_case_is_rejected,
    deactivated_coupon_no_longer_applies,
    half_up_rounding_to_the_cent,
);

fn a_10_percent_discount_on_10000_lists_as_1000_off_final_9000(db: &TestDb) {
    let id = db.product("Mug", "10000", "1");
    let d = db.json(&["discount", "set", &id, "--percent", "10"]);
    assert_eq!(d["percentage"].to_string(), "10.0");
    assert_eq!(d["is_active"], true);
    let row = &db.json(&["product", "list"])[0];
    assert_eq!(row["discount_amount"].to_string(), "1000.0");
    assert_eq!(row["final_price"].to_string(), "9000.0");
    assert_eq!(row["discount_id"], d["discount_id"]);
}

fn a_discount_over_the_same_window_replaces_the_previous_one(db: &TestDb) {
    let id = db.product("Mug", "100", "1");
    let first = db.json(&["discount", "set", &id, "--percent", "10"]);
    let second = db.json(&["discount", "set", &id, "--percent", "25"]);
    // The first starts where the second does: cancelled, not cut, and the
    // one the second took over from.
    assert_eq!(second["replaced_discount_id"], first["discount_id"]);
    assert_eq!(
        second["replaced_discount_ids"],
        json!([first["discount_id"]])
    );
    let active = db.query_strings(&format!(
        "SELECT id FROM discounts WHERE product_id = '{id}' AND is_active = 1"
    ));
    assert_eq!(active, [second["discount_id"].as_str().unwrap()]);
    let inactive = db.query_strings(&format!(
        "SELECT id FROM discounts WHERE product_id = '{id}' AND is_active = 0"
    ));
    assert_eq!(inactive, [first["discount_id"].as_str().unwrap()]);
    let listed = db.json(&["discount", "list", &id]);
    assert_eq!(listed[0]["status"], "replaced");
    assert_eq!(listed[0]["replaced_by"], second["discount_id"]);
    assert_eq!(listed[1]["status"], "running");
    assert_eq!(
        db.json(&["product", "show", &id])["final_price"].to_string(),
        "75.0"
    );
}

/// The schedule the issue measured: on December 1st, December's discount
/// and then February's. Before, the second switched the first off at once
/// and December sold at full price; now both stay, each in its month.
fn next_months_promotion_leaves_this_months_running(db: &TestDb) {
    let id = db.product("Mug", "100", "1");
    let december_1 = "2025-12-01T00:00:00Z";
    let set = |pct: &str, from: &str, until: &str| {
        db.json_at(
            december_1,
            &[
                "discount",
                "set",
                &id,
                "--percent",
                pct,
                "--from",
                from,
                "--until",
                until,
            ],
        )
    };
    let december = set("10", "2025-12-01", "2026-01-01");
    assert_eq!(december["status"], "running");
    let february = set("20", "2026-02-01", "2026-03-01");
    assert_eq!(february["replaced_discount_id"], Value::Null);
    assert_eq!(february["replaced_discount_ids"], json!([]));
    assert_eq!(february["is_active"], true);
    assert_eq!(february["status"], "scheduled");

    for (now, price, running) in [
        ("2025-12-15T00:00:00Z", "90.0", &december),
        ("2026-02-15T00:00:00Z", "80.0", &february),
    ] {
        let shown = db.json_at(now, &["product", "show", &id]);
        assert_eq!(shown["final_price"].to_string(), price, "{now}");
        assert_eq!(shown["discount_id"], running["discount_id"], "{now}");
        let active = db.json_at(now, &["discount", "list", "--active"]);
        assert_eq!(
            active,
            json!([db
                .json_at(now, &["discount", "list"])
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["discount_id"] == running["discount_id"])
                .unwrap()]),
            "{now}"
        );
        assert_eq!(active[0]["status"], "running", "{now}");
    }
    let between = db.json_at("2026-01-15T00:00:00Z", &["product", "show", &id]);
    assert_eq!(between["final_price"].to_string(), "100.0");
    let statuses: Vec<Value> = db
        .json_at("2026-01-15T00:00:00Z", &["discount", "list", &id])
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["status"].clone())
        .collect();
    assert_eq!(statuses, [json!("ended"), json!("scheduled")]);
}

fn a_discount_window_already_over_is_refused(db: &TestDb) {
    let id = db.product("Mug", "100", "1");
    let refused = db.run(&[
        "discount",
        "set",
        &id,
        "--percent",
        "50",
        "--from",
        "2025-02-01",
        "--until",
        "2025-03-01",
    ]);
    let refused = refused.expect(2);
    assert!(
        refused.stderr.contains("\"2025-03-01\""),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("already over"),
        "{}",
        refused.stderr
    );
    assert_eq!(db.json(&["discount", "list"]), json!([]));
}

fn discount_applies_only_inside_its_window(db: &TestDb) {
    let id = db.product("Mug", "100", "1");
    let d = db.json(&[
        "discount",
        "set",
        &id,
        "--percent",
        "20",
        "--from",
        "2025-07-01",
        "--until",
        "2025-08-01",
    ]);
    assert_eq!(d["valid_from"], "2025-07-01T00:00:00.000000Z");
    assert_eq!(d["valid_to"], "2025-08-01T00:00:00.000000Z");
    let price_at =
        |at: &str| db.json(&["product", "show", &id, "--at", at])["final_price"].to_string();
    assert_eq!(price_at("2025-06-30T23:59:59Z"), "100.0");
    assert_eq!(price_at("2025-07-01"), "80.0");
    assert_eq!(price_at("2025-07-31T23:59:59.999999Z"), "80.0");
    assert_eq!(price_at("2025-08-01"), "100.0");
    // Without --from/--until: from now (MILLY_NOW) for 30 days.
    let d = db.json(&["discount", "set", &id, "--percent", "5"]);
    assert_eq!(d["valid_from"], "2025-06-01T12:00:00.000000Z");
    assert_eq!(d["valid_to"], "2025-07-01T12:00:00.000000Z");
    let until_before_from = db.run(&[
        "discount",
        "set",
        &id,
        "--percent",
        "5",
        "--from",
        "2025-07-01",
        "--until",
        "2025-06-01",
    ]);
    assert_eq!(until_before_from.code, 2, "{until_before_from:?}");
}

fn discount_for_an_unknown_product_is_not_found(db: &TestDb) {
    db.run(&["db", "migrate"]).expect(0);
    let run = db
        .run(&[
            "discount",
            "set",
            "PROD01JD5Q3Z8X4N2M7K9P6R3T1V0W",
            "--percent",
            "10",
        ])
        .expect(3);
    assert!(
        run.stderr
            .contains("PROD01JD5Q3Z8X4N2M7K9P6R3T1V0W not found"),
        "{run:?}"
    );
    assert_eq!(db.counts(), [0, 0, 0, 0]);
}

fn customer_price_applies_discount_then_best_coupon(db: &TestDb) {
    let id = db.product("Chair", "20000", "1");
    db.json(&["discount", "set", &id, "--percent", "10"]);
    db.json(&[
        "coupon",
        "create",
        "--user",
        "alice",
        "--percent",
        "5",
        "--valid-to",
        "2026-01-01",
        "--code",
        "FIVE",
    ]);
    db.json(&[
        "coupon",
        "create",
        "--user",
        "alice",
        "--percent",
        "10",
        "--valid-to",
        "2026-01-01",
        "--code",
        "TEN",
    ]);
    // Higher, but expired or not yet valid, or someone else's: never chosen.
    db.json(&[
        "coupon",
        "create",
        "--user",
        "alice",
        "--percent",
        "50",
        "--valid-from",
        "2025-01-01",
        "--valid-to",
        "2025-02-01",
        "--code",
        "OLD",
    ]);
    db.json(&[
        "coupon",
        "create",
        "--user",
        "alice",
        "--percent",
        "60",
        "--valid-from",
        "2025-09-01",
        "--valid-to",
        "2025-10-01",
        "--code",
        "LATER",
    ]);
    db.json(&[
        "coupon",
        "create",
        "--user",
        "bob",
        "--percent",
        "90",
        "--valid-to",
        "2026-01-01",
        "--code",
        "BOBS",
    ]);

    let shown = db.json(&["product", "show", &id, "--user", "alice"]);
    assert_eq!(shown["price"].to_string(), "20000.0");
    assert_eq!(shown["product_discount_amount"].to_string(), "2000.0");
    assert_eq!(shown["coupon_discount_amount"].to_string(), "1800.0");
    assert_eq!(shown["final_price"].to_string(), "16200.0");
    assert_eq!(shown["coupon_code"], "TEN");

    let anonymous = db.json(&["product", "show", &id]);
    assert_eq!(anonymous["coupon_discount_amount"].to_string(), "0.0");
    assert_eq!(anonymous["final_price"].to_string(), "18000.0");
    assert_eq!(anonymous["coupon_code"], serde_json::Value::Null);

    let later = db.json(&[
        "product",
        "show",
        &id,
        "--user",
        "alice",
        "--at",
        "2025-09-15",
    ]);
    assert_eq!(later["coupon_code"], "LATER");
}

fn coupon_is_stored_with_customer_and_code(db: &TestDb) {
    let c = db.json(&[
        "coupon",
        "create",
        "--user",
        "cust-42",
        "--percent",
        "20",
        "--valid-to",
        "2025-12-31T23:59:59Z",
        "--code",
        "DISCOUNT20",
    ]);
    assert_eq!(c["user_id"], "cust-42");
    assert_eq!(c["code"], "DISCOUNT20");
    assert_eq!(c["discount_percentage"].to_string(), "20.0");
    assert_eq!(c["valid_from"], "2025-06-01T12:00:00.000000Z");
    assert_eq!(c["valid_to"], "2025-12-31T23:59:59.000000Z");
    assert!(c["coupon_id"].as_str().unwrap().starts_with("CPN"));
    let stored = db.query_strings("SELECT user_id FROM coupons WHERE code = 'DISCOUNT20'");
    assert_eq!(stored, ["cust-42"]);
    // Without --code a code is generated.
    let generated = db.json(&[
        "coupon",
        "create",
        "--user",
        "cust-42",
        "--percent",
        "5",
        "--valid-to",
        "2026-01-01",
    ]);
    assert_eq!(generated["code"].as_str().unwrap().len(), 10);
    assert_eq!(db.counts()[3], 2);
}

fn duplicate_coupon_code_in_any_case_is_rejected(db: &TestDb) {
    db.json(&[
        "coupon",
        "create",
        "--user",
        "a",
        "--percent",
        "20",
        "--valid-to",
        "2026-01-01",
        "--code",
        "SAVE20",
    ]);
    let run = db
        .run(&[
            "--json",
            "coupon",
            "create",
            "--user",
            "b",
            "--percent",
            "5",
            "--valid-to",
            "2026-01-01",
            "--code",
            "save20",
        ])
        .expect(4);
    assert!(
        run.stderr.contains("\"code\":\"duplicate_coupon_code\""),
        "{run:?}"
    );
    assert_eq!(db.counts()[3], 1);
}

fn deactivated_coupon_no_longer_applies(db: &TestDb) {
    let id = db.product("Lamp", "100", "1");
    db.json(&[
        "coupon",
        "create",
        "--user",
        "u",
        "--percent",
        "10",
        "--valid-to",
        "2026-01-01",
        "--code",
        "LAMP10",
    ]);
    assert_eq!(
        db.json(&["product", "show", &id, "--user", "u"])["final_price"].to_string(),
        "90.0"
    );
    let off = db.json(&["coupon", "deactivate", "lamp10"]);
    assert_eq!(off["is_active"], false);
    assert_eq!(
        db.json(&["product", "show", &id, "--user", "u"])["final_price"].to_string(),
        "100.0"
    );
    db.json(&["coupon", "deactivate", "LAMP10"]);
    db.run(&["coupon", "deactivate", "NOPE"]).expect(3);
}

fn half_up_rounding_to_the_cent(db: &TestDb) {
    let id = db.product("Pen", "19.99", "1");
    db.json(&["discount", "set", &id, "--percent", "12.5"]);
    let shown = db.json(&["product", "show", &id]);
    assert_eq!(shown["product_discount_amount"].to_string(), "2.5");
    assert_eq!(shown["final_price"].to_string(), "17.49");
}
