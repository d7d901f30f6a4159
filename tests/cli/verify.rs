//! `stock verify`: ledgers damaged on purpose through the raw client are
//! reported row by row with exit 4; a sound database gives exit 0.

use serde_json::Value;

use crate::harness::{Backend, TestDb};
use crate::on_every_backend;

on_every_backend!(
    a_sound_database_gives_exit_0_and_the_summary,
    a_version_gap_is_reported_with_its_product_and_version,
    a_broken_total_is_reported_with_its_product_and_version,
    a_negative_total_is_reported_with_its_product_and_version,
    every_problem_is_one_row_in_every_format,
    one_product_can_be_verified_alone,
    a_removed_latest_row_is_reported,
);

/// A product at 100 with changes +5 and -15: versions 1..3, totals 100, 105, 90.
fn ledger(db: &TestDb, name: &str) -> String {
    let id = db.product(name, "1", "100");
    db.run(&["stock", "adjust", &id, "--change", "+5"])
        .expect(0);
    db.run(&["stock", "adjust", &id, "--change", "-15"])
        .expect(0);
    id
}

/// Runs raw SQL with CHECK constraints off and the ledger's append-only
/// triggers dropped: someone bypassing the schema on purpose, the only way
/// a ledger row can be changed or removed.
fn damage(db: &TestDb, sql: &str) {
    let bypass = "DROP TRIGGER IF EXISTS stock_events_no_update; \
                  DROP TRIGGER IF EXISTS stock_events_no_delete;";
    match db.backend {
        Backend::Sqlite => db.execute(&format!(
            "PRAGMA ignore_check_constraints = ON; {bypass} {sql}"
        )),
        Backend::Mysql => db.execute(&format!(
            "SET SESSION check_constraint_checks = 0; {bypass} {sql}"
        )),
    }
}

fn verify_json(db: &TestDb, args: &[&str]) -> (i32, Value, String) {
    let mut all = vec!["-o", "json", "stock", "verify"];
    all.extend_from_slice(args);
    let run = db.run(&all);
    let json = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {run:#?}"));
    (run.code, json, run.stderr)
}

/// The problems reported, as (product, version, problem).
fn problems(rows: &Value) -> Vec<(String, Option<i64>, String)> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["product_id"].as_str().unwrap().to_owned(),
                r["version"].as_i64(),
                r["problem"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn expect_inconsistent(stderr: &str) {
    assert!(
        stderr.contains("\"code\":\"ledger_inconsistent\""),
        "{stderr}"
    );
}

fn a_sound_database_gives_exit_0_and_the_summary(db: &TestDb) {
    db.run(&["db", "migrate"]).expect(0);
    let (code, summary, _) = verify_json(db, &[]);
    assert_eq!(code, 0);
    assert_eq!(
        summary,
        serde_json::json!({"products_checked": 0, "events_checked": 0, "problems": 0})
    );
    ledger(db, "A");
    ledger(db, "B");
    db.product("C", "1", "0");
    let (code, summary, stderr) = verify_json(db, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        summary,
        serde_json::json!({"products_checked": 3, "events_checked": 7, "problems": 0})
    );
    let table = db.run(&["stock", "verify"]).expect(0);
    assert!(table.stdout.contains("products_checked"), "{table:?}");
}

fn a_version_gap_is_reported_with_its_product_and_version(db: &TestDb) {
    let id = ledger(db, "Gap");
    ledger(db, "Sound");
    damage(
        db,
        &format!("DELETE FROM stock_events WHERE product_id = '{id}' AND version = 2"),
    );
    let (code, rows, stderr) = verify_json(db, &[]);
    assert_eq!(code, 4, "{stderr}");
    expect_inconsistent(&stderr);
    assert_eq!(problems(&rows), [(id, Some(3), "version_gap".to_owned())]);
    assert!(
        rows[0]["detail"]
            .as_str()
            .unwrap()
            .contains("expected version 2, found version 3"),
        "{rows}"
    );
}

fn a_broken_total_is_reported_with_its_product_and_version(db: &TestDb) {
    let id = ledger(db, "Broken");
    damage(
        db,
        &format!(
            "UPDATE stock_events SET total_after_change = 91 WHERE product_id = '{id}' AND version = 3"
        ),
    );
    let (code, rows, stderr) = verify_json(db, &[]);
    assert_eq!(code, 4, "{stderr}");
    expect_inconsistent(&stderr);
    assert_eq!(problems(&rows), [(id, Some(3), "broken_total".to_owned())]);
    assert_eq!(
        rows[0]["detail"],
        "total is 91, but the previous total 105 plus the change -15 is 90"
    );
}

fn a_negative_total_is_reported_with_its_product_and_version(db: &TestDb) {
    let id = db.product("Negative", "1", "0");
    db.run(&["stock", "adjust", &id, "--change", "+5"])
        .expect(0);
    // Consistent arithmetic, but below zero.
    damage(
        db,
        &format!(
            "UPDATE stock_events SET `change` = -5, total_after_change = -5 WHERE product_id = '{id}' AND version = 2"
        )
        .replace(
            '`',
            match db.backend {
                Backend::Sqlite => "\"",
                Backend::Mysql => "`",
            },
        ),
    );
    let (code, rows, stderr) = verify_json(db, &[]);
    assert_eq!(code, 4, "{stderr}");
    expect_inconsistent(&stderr);
    assert_eq!(
        problems(&rows),
        [(id, Some(2), "negative_total".to_owned())]
    );
    assert_eq!(rows[0]["detail"], "total -5 is below zero");
}

fn every_problem_is_one_row_in_every_format(db: &TestDb) {
    let gap = ledger(db, "Gap");
    let broken = ledger(db, "Broken");
    let bare = db.product("Bare", "1", "1");
    damage(
        db,
        &format!(
            "DELETE FROM stock_events WHERE product_id = '{gap}' AND version = 1;
             UPDATE stock_events SET total_after_change = 1 WHERE product_id = '{broken}' AND version = 2;
             DELETE FROM stock_events WHERE product_id = '{bare}'"
        ),
    );
    let (code, rows, stderr) = verify_json(db, &[]);
    assert_eq!(code, 4, "{stderr}");
    assert!(
        stderr.contains("4 problem(s) found in 3 product(s) and 5 ledger row(s)"),
        "{stderr}"
    );
    let mut found = problems(&rows);
    found.sort();
    let mut expected = vec![
        (gap.clone(), Some(2), "version_gap".to_owned()),
        (broken.clone(), Some(2), "broken_total".to_owned()),
        (broken.clone(), Some(3), "broken_total".to_owned()),
        (bare.clone(), None, "no_ledger".to_owned()),
    ];
    // v3 of `gap` follows v2 (which follows the gap) correctly.
    expected.sort();
    assert_eq!(found.len(), 4, "{rows}");
    assert_eq!(found, expected);
    let csv = db.run(&["-o", "csv", "stock", "verify"]).expect(4);
    let lines: Vec<&str> = csv.stdout.lines().collect();
    assert_eq!(lines[0], "product_id,version,problem,detail");
    assert_eq!(lines.len(), 5, "{csv:?}");
    let ndjson = db.run(&["-o", "ndjson", "stock", "verify"]).expect(4);
    assert_eq!(ndjson.stdout.lines().count(), 4, "{ndjson:?}");
    let table = db.run(&["stock", "verify"]).expect(4);
    assert!(table.stdout.contains("version_gap"), "{table:?}");
    assert!(
        table
            .stderr
            .starts_with("error: the stock ledger is inconsistent"),
        "{table:?}"
    );
}

fn one_product_can_be_verified_alone(db: &TestDb) {
    let sound = ledger(db, "Sound");
    let broken = ledger(db, "Broken");
    damage(
        db,
        &format!("UPDATE stock_events SET total_after_change = 1 WHERE product_id = '{broken}' AND version = 3"),
    );
    let (code, summary, _) = verify_json(db, &[&sound]);
    assert_eq!(code, 0);
    assert_eq!(
        summary,
        serde_json::json!({"products_checked": 1, "events_checked": 3, "problems": 0})
    );
    let (code, rows, _) = verify_json(db, &[&broken]);
    assert_eq!(code, 4);
    assert_eq!(
        problems(&rows),
        [(broken, Some(3), "broken_total".to_owned())]
    );
    let run = db
        .run(&["stock", "verify", "PROD01JD5Q3Z8X4N2M7K9P6R3T1V0W"])
        .expect(3);
    assert!(run.stdout.is_empty(), "{run:?}");
    db.run(&["stock", "verify", "nonsense"]).expect(2);
}

/// Removing a ledger's latest rows leaves no gap and no broken total: only
/// the product row, which records the latest version, tells.
fn a_removed_latest_row_is_reported(db: &TestDb) {
    let id = ledger(db, "Cut short");
    ledger(db, "Sound");
    damage(
        db,
        &format!("DELETE FROM stock_events WHERE product_id = '{id}' AND version = 3"),
    );
    assert_eq!(db.json(&["product", "show", &id])["stock_count"], 105);
    let (code, rows, stderr) = verify_json(db, &[]);
    assert_eq!(code, 4, "{stderr}");
    expect_inconsistent(&stderr);
    assert_eq!(
        problems(&rows),
        [(id.clone(), Some(2), "latest_mismatch".to_owned())]
    );
    assert_eq!(
        rows[0]["detail"],
        "the product records version 3 as its latest, but its ledger ends at version 2: its latest row(s) were removed"
    );
    let (code, rows, _) = verify_json(db, &[&id]);
    assert_eq!(code, 4);
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
}
