//! The stock ledger through `stock adjust` and `stock history`.

use crate::harness::TestDb;
use crate::on_every_backend;

on_every_backend!(
    adding_50_to_100_gives_150_and_two_events,
    taking_50_from_30_is_rejected_and_writes_nothing,
    both_forms_of_a_negative_change_work,
    an_adjustment_can_take_stock_to_exactly_zero,
    reasons_are_recorded_on_the_ledger,
);

fn adding_50_to_100_gives_150_and_two_events(db: &TestDb) {
    let id = db.product("Mug", "10", "100");
    let adjusted = db.json(&["stock", "adjust", &id, "--change", "+50"]);
    assert_eq!(adjusted["new_stock_count"], 150);
    assert_eq!(adjusted["version"], 2);
    let history = db.json(&["stock", "history", &id]);
    let rows: Vec<(i64, i64, i64)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["version"].as_i64().unwrap(),
                e["change"].as_i64().unwrap(),
                e["total_after_change"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(rows, [(1, 100, 100), (2, 50, 150)]);
    assert_eq!(db.json(&["product", "show", &id])["stock_count"], 150);
}

fn taking_50_from_30_is_rejected_and_writes_nothing(db: &TestDb) {
    let id = db.product("Mug", "10", "30");
    let run = db
        .run(&["-o", "json", "stock", "adjust", &id, "--change", "-50"])
        .expect(4);
    assert!(run.stderr.contains("insufficient stock"), "{run:?}");
    assert!(
        run.stderr.contains("\"code\":\"insufficient_stock\""),
        "{run:?}"
    );
    assert!(run.stdout.is_empty());
    assert_eq!(
        db.json(&["stock", "history", &id])
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

fn both_forms_of_a_negative_change_work(db: &TestDb) {
    let id = db.product("Mug", "10", "100");
    assert_eq!(
        db.json(&["stock", "adjust", &id, "--change", "-20"])["new_stock_count"],
        80
    );
    assert_eq!(
        db.json(&["stock", "adjust", &id, "--change=-20"])["new_stock_count"],
        60
    );
    assert_eq!(
        db.json(&["stock", "adjust", &id, "--change", "5"])["new_stock_count"],
        65
    );
}

fn an_adjustment_can_take_stock_to_exactly_zero(db: &TestDb) {
    let id = db.product("Mug", "10", "0");
    db.run(&["stock", "adjust", &id, "--change", "-1"])
        .expect(4);
    db.json(&["stock", "adjust", &id, "--change", "+3"]);
    assert_eq!(
        db.json(&["stock", "adjust", &id, "--change", "-3"])["new_stock_count"],
        0
    );
}

fn reasons_are_recorded_on_the_ledger(db: &TestDb) {
    let id = db.product("Mug", "10", "10");
    db.json(&[
        "stock",
        "adjust",
        &id,
        "--change",
        "-1",
        "--reason",
        "order #42",
    ]);
    let history = db.json(&["stock", "history", &id]);
    assert_eq!(history[0]["reason"], serde_json::Value::Null);
    assert_eq!(history[1]["reason"], "order #42");
}
