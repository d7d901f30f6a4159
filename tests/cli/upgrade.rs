//! Databases made by earlier releases upgrade in place, keeping every row.
//!
//! `tests/fixtures/` holds a small catalog made by milly 0.1.0 on each
//! backend (an SQLite file, and a dump of the MySQL database): three
//! products with ledgers, a replaced discount, coupons (one deactivated) and
//! an imported product. 0.1.0 recorded SQLite's schema as one migration and
//! MySQL's as five; both are now versions 1–5 of one history.

use crate::harness::{Backend, TestDb, LATEST};
use crate::on_every_backend;

const SQLITE_FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/release-0.1.0.sqlite"
);
const MYSQL_FIXTURE: &str = include_str!("../fixtures/release-0.1.0.mysql.sql");

/// Every column of every table, in row order, as the raw client reads it.
fn snapshot(db: &TestDb) -> Vec<(String, Vec<String>)> {
    let tables: [(&str, &[&str]); 4] = [
        (
            "products",
            &[
                "seq",
                "id",
                "name",
                "name_folded",
                "description",
                "price_cents",
                "created_at",
                "updated_at",
            ],
        ),
        (
            "stock_events",
            &[
                "seq",
                "id",
                "product_id",
                "`change`",
                "total_after_change",
                "version",
                "reason",
                "created_at",
            ],
        ),
        (
            "discounts",
            &[
                "seq",
                "id",
                "product_id",
                "percentage_bp",
                "valid_from",
                "valid_to",
                "is_active",
                "created_at",
            ],
        ),
        (
            "coupons",
            &[
                "seq",
                "id",
                "user_id",
                "code",
                "code_key",
                "percentage_bp",
                "valid_from",
                "valid_to",
                "is_active",
                "created_at",
            ],
        ),
    ];
    tables
        .iter()
        .flat_map(|(table, columns)| {
            columns.iter().map(move |column| {
                let values =
                    db.query_strings(&format!("SELECT {column} FROM {table} ORDER BY seq"));
                (format!("{table}.{column}"), values)
            })
        })
        .collect()
}

fn load_fixture(db: &TestDb) {
    match db.backend {
        Backend::Sqlite => {
            std::fs::copy(SQLITE_FIXTURE, db.sqlite_path()).unwrap();
        }
        // The dump creates tables in name order, children before their
        // parents, and gives generated columns their values: mysqldump's
        // header, which --compact leaves out, relaxes both checks.
        Backend::Mysql => {
            use mysql::prelude::Queryable;
            let mut conn = mysql::Conn::new(mysql::Opts::from_url(&db.url).unwrap()).unwrap();
            conn.query_drop("SET FOREIGN_KEY_CHECKS = 0, SQL_MODE = 'NO_AUTO_VALUE_ON_ZERO'")
                .unwrap();
            for statement in MYSQL_FIXTURE.split(";\n").filter(|s| !s.trim().is_empty()) {
                conn.query_drop(statement).unwrap();
            }
        }
    }
}

fn a_database_made_by_release_0_1_upgrades_with_every_row_kept(db: &TestDb) {
    load_fixture(db);
    let before = snapshot(db);
    assert_eq!(before[0].1.len(), 4, "the fixture has four products");

    // `db status` reads an older schema and lists what `db migrate` would
    // apply (SQLite's 0.1.0 record is only adopted when it migrates).
    let status = db.json(&["db", "status"]);
    assert_eq!(status["supported_schema_version"], LATEST);
    let pending: Vec<i64> = status["pending"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["version"].as_i64().unwrap())
        .collect();
    assert_eq!(pending.last(), Some(&LATEST), "{status}");
    assert!(pending.contains(&6), "{status}");

    let migrated = db.json(&["db", "migrate"]);
    assert_eq!(
        migrated["applied"],
        serde_json::json!((6..=LATEST)
            .map(|v| serde_json::json!({"version": v}))
            .collect::<Vec<_>>()),
        "{migrated}"
    );
    let status = db.json(&["db", "status"]);
    assert_eq!(status["schema_version"], LATEST);
    assert_eq!(status["supported_schema_version"], LATEST);
    assert_eq!(status["pending"], serde_json::json!([]));
    let names: Vec<&str> = status["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            assert!(!m["applied_at"].is_null(), "{m}");
            m["name"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        names,
        [
            "products",
            "stock_events",
            "discounts",
            "coupons",
            "milly_locks",
            "text_limits",
            "product_archive",
            "product_changes",
            "stock_event_actors",
            "discount_deactivations",
            "discount_replacement_times",
            "coupon_deactivations",
            "idempotency_keys",
            "product_name_trigrams",
            "product_name_trigrams_backfill",
            "discount_schedules",
            "discount_replacements",
            "stock_event_reverts",
            "stock_events_no_update",
            "stock_events_no_delete",
            "product_stock_versions",
            "stock_events_latest_version",
            "product_stock_versions_backfill",
        ]
    );
    assert_eq!(snapshot(db), before, "every row and value kept");
    assert_eq!(
        db.query_strings("SELECT stock_version FROM products ORDER BY seq"),
        db.query_strings(
            "SELECT (SELECT MAX(version) FROM stock_events e WHERE e.product_id = p.id) \
               FROM products p ORDER BY p.seq"
        ),
        "each product records its ledger's latest version"
    );
    // The replaced discount was switched off when its replacement was set;
    // the deactivated coupon's time is unknown and stays so.
    assert_eq!(
        db.query_strings("SELECT deactivated_at IS NOT NULL FROM discounts ORDER BY seq"),
        ["1", "0", "0", "0"]
    );
    assert_eq!(
        db.query_i64(
            "SELECT COUNT(*) FROM discounts d JOIN discounts n ON n.seq = 2 \
             WHERE d.seq = 1 AND d.deactivated_at = n.created_at"
        ),
        1
    );
    // The replaced discount names its replacement; the others were never
    // replaced. Each has the status its row says, and the coupon
    // deactivated at an unknown time is deactivated.
    assert_eq!(
        db.query_i64(
            "SELECT COUNT(*) FROM discounts d JOIN discounts n ON n.seq = 2 \
             WHERE d.seq = 1 AND d.replaced_by = n.id"
        ),
        1
    );
    assert_eq!(
        db.query_i64("SELECT COUNT(*) FROM discounts WHERE replaced_by IS NULL"),
        3
    );
    let statuses = |what: &str| -> Vec<String> {
        db.json(&[what, "list"])
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row["status"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        statuses("discount"),
        ["replaced", "running", "running", "running"]
    );
    assert_eq!(statuses("coupon"), ["valid", "valid", "deactivated"]);
    // Nobody is named for rows written before actors were recorded.
    assert_eq!(
        db.query_i64(
            "SELECT (SELECT COUNT(*) FROM products WHERE actor IS NOT NULL) \
                  + (SELECT COUNT(*) FROM stock_events WHERE actor IS NOT NULL)"
        ),
        0
    );

    let green_tea = &db.query_strings("SELECT id FROM products WHERE name = 'Green tea'")[0];
    // The catalog reads as it did, priced with the replacing discount
    // (12.5%) and the customer's best coupon (20%).
    let shown = db.json(&["product", "show", green_tea, "--user", "42"]);
    assert_eq!(shown["stock_count"], 130);
    assert_eq!(shown["discount_percentage"].to_string(), "12.5");
    assert_eq!(shown["final_price"].to_string(), "14000.0");
    // 0.1.0 recorded everything at one moment (12:00 on 1 June): asked
    // about a moment before it, the product did not exist yet, whatever
    // the windows of its discounts say; the replaced 10% discount is kept
    // with its times.
    db.run(&["product", "show", green_tea, "--at", "2025-05-20"])
        .expect(3);
    let discounts = db.json(&["discount", "list", green_tea]);
    let first = discounts
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["percentage"] == serde_json::json!(10.0))
        .expect("the replaced discount is kept");
    assert_eq!(first["valid_from"], "2025-05-01T00:00:00.000000Z");
    assert_eq!(first["created_at"], "2025-06-01T12:00:00.000000Z");
    assert_eq!(
        db.json(&["product", "history", green_tea])
            .as_array()
            .unwrap()
            .len(),
        3,
        "the creation: name, description, price"
    );
    let listed = db.json(&["product", "list"]);
    let listed: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        ["Green tea", "Teapot ÉCLAIR", "Mug", "Imported kettle"]
    );
    // Names written before the upgrade are found by every kind of term
    // (on MySQL, terms of three or more characters through the name index
    // the upgrade filled).
    for (term, expected) in [
        ("ÉCLAIR", &["Teapot ÉCLAIR"][..]),
        ("tea", &["Green tea", "Teapot ÉCLAIR"]),
        ("kettle", &["Imported kettle"]),
        ("ug", &["Mug"]),
        ("n t", &["Green tea"]),
        ("teapots", &[]),
    ] {
        let found = db.json(&["product", "list", "--name", term]);
        let found: Vec<&str> = found
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(found, expected, "{term}");
    }

    // And it takes writes under the new schema.
    db.run(&["stock", "adjust", green_tea, "--change", "-30"])
        .expect(0);
    db.run(&[
        "coupon",
        "create",
        "--user",
        "9",
        "--percent",
        "5",
        "--valid-to",
        "2026-01-01",
        "--code",
        "welcome10",
    ])
    .expect(4);
    db.product("After the upgrade", "1", "1");
    assert_eq!(db.counts(), [5, 11, 4, 3]);

    // The ledger the release wrote is append-only now, and its rows can be
    // reverted like new ones.
    assert_eq!(
        db.query_i64("SELECT COUNT(*) FROM stock_events WHERE reverts IS NOT NULL"),
        0
    );
    let delivery =
        &db.query_strings("SELECT id FROM stock_events WHERE reason = 'delivery 1182'")[0];
    let reverted = db.json(&["stock", "revert", delivery]);
    assert_eq!(reverted["reverts"], delivery.as_str());
    assert_eq!(reverted["change"], -50);
    assert_eq!(reverted["new_stock_count"], 50);
    assert_eq!(reverted["version"], 5);
    db.run(&["stock", "revert", delivery]).expect(4);
    let emptied = &db.query_strings(
        "SELECT o.id FROM stock_events o JOIN stock_events b ON b.product_id = o.product_id \
          WHERE b.reason = 'broken' AND o.version = 1",
    )[0];
    db.run(&["stock", "revert", emptied]).expect(4);
    for sql in [
        format!("DELETE FROM stock_events WHERE id = '{delivery}'"),
        format!("UPDATE stock_events SET reason = NULL WHERE id = '{delivery}'"),
    ] {
        let refused = db.try_execute(&sql);
        assert!(
            refused.as_ref().is_err_and(|e| e.contains("append-only")),
            "{sql}: {refused:?}"
        );
    }
    assert_eq!(db.counts(), [5, 12, 4, 3]);
    let verified = db.json(&["stock", "verify"]);
    assert_eq!(verified["problems"], 0, "{verified}");
    // Migrating again applies nothing.
    assert_eq!(
        db.json(&["db", "migrate"])["applied"],
        serde_json::json!([])
    );
}

/// On a shared server, an older schema is the operator's to upgrade: every
/// command but `db migrate` and `db status` exits 6 (`schema_outdated`) and
/// changes nothing, until `db migrate` runs.
fn an_older_mysql_schema_is_refused_until_db_migrate(db: &TestDb) {
    load_fixture(db);
    let before = snapshot(db);
    let green_tea = db.query_strings("SELECT id FROM products WHERE name = 'Green tea'")[0].clone();
    for args in [
        vec!["product", "list"],
        vec!["product", "show", &green_tea],
        vec!["stock", "adjust", &green_tea, "--change", "+1"],
        vec!["product", "create", "--name", "New", "--price", "1"],
        vec![
            "--idempotency-key",
            "k1",
            "product",
            "create",
            "--name",
            "New",
            "--price",
            "1",
        ],
    ] {
        let mut all = vec!["--json"];
        all.extend(args.iter().copied());
        let run = db.run(&all).expect(6);
        assert!(
            run.stderr.contains("\"code\":\"schema_outdated\""),
            "{run:?}"
        );
        assert!(run.stderr.contains("run `milly db migrate`"), "{run:?}");
    }
    assert_eq!(snapshot(db), before, "nothing changed");
    assert_eq!(db.json(&["db", "status"])["schema_version"], 5);

    db.json(&["db", "migrate"]);
    assert_eq!(snapshot(db), before, "every row kept");
    db.run(&["stock", "adjust", &green_tea, "--change", "+1"])
        .expect(0);
    assert_eq!(
        db.counts(),
        [4, 10, 4, 3],
        "the fixture's rows and the new event"
    );
}

/// An SQLite file is upgraded by any command, reads included.
fn an_older_sqlite_file_is_upgraded_by_any_command() {
    let db = &TestDb::sqlite();
    load_fixture(db);
    let before = snapshot(db);
    db.run(&["product", "list"]).expect(0);
    assert_eq!(db.json(&["db", "status"])["schema_version"], LATEST);
    assert_eq!(snapshot(db), before);
}

on_every_backend!(a_database_made_by_release_0_1_upgrades_with_every_row_kept);
crate::plain_tests!(an_older_sqlite_file_is_upgraded_by_any_command);
crate::on_mysql!(an_older_mysql_schema_is_refused_until_db_migrate);
