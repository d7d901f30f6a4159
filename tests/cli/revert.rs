//! `stock revert`: a correction appended to the ledger and linked to the
//! row it undoes; its refusals; dry runs, idempotency keys and actors like
//! every write; the append-only ledger the schema enforces; and the end of
//! the log (`stock history --until`, `--tail`).

use std::sync::Barrier;
use std::thread;

use serde_json::Value;

use crate::harness::TestDb;
use crate::on_every_backend;

on_every_backend!(
    a_revert_appends_the_opposite_change_linked_to_its_row,
    a_second_revert_of_one_row_is_refused,
    a_revert_that_would_go_below_zero_is_refused,
    racing_reverts_of_one_row_let_exactly_one_win,
    a_revert_is_a_write_like_any_other,
    a_raw_update_or_delete_of_a_ledger_row_is_refused,
    history_until_and_tail_give_the_end_of_the_log,
);

/// A product at 10, then a delivery of 16 mistyped as 160, then a sale of
/// 5 (stock 165): (product id, the delivery's event id).
fn mistyped(db: &TestDb) -> (String, String) {
    let id = db.product("Tea", "4.00", "10");
    let delivery = db.json(&["stock", "adjust", &id, "--change", "+160"])["event_id"]
        .as_str()
        .unwrap()
        .to_owned();
    db.run(&["stock", "adjust", &id, "--change", "-5"])
        .expect(0);
    (id, delivery)
}

fn stock(db: &TestDb, id: &str) -> Value {
    db.json(&["product", "show", id])["stock_count"].clone()
}

fn error_code(stderr: &str) -> String {
    let line = stderr.lines().last().unwrap_or_default();
    serde_json::from_str::<Value>(line).unwrap_or_else(|_| panic!("{stderr}"))["code"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn a_revert_appends_the_opposite_change_linked_to_its_row(db: &TestDb) {
    let (id, delivery) = mistyped(db);
    let reverted = db.json(&[
        "stock",
        "revert",
        &delivery,
        "--reason",
        "typed 160, was 16",
    ]);
    assert_eq!(reverted["product_id"], id.as_str());
    assert_eq!(reverted["reverts"], delivery.as_str());
    assert_eq!(reverted["change"], -160);
    assert_eq!(reverted["new_stock_count"], 5);
    assert_eq!(reverted["version"], 4);
    assert_eq!(reverted["reason"], "typed 160, was 16");
    db.run(&["stock", "adjust", &id, "--change", "+16"])
        .expect(0);
    assert_eq!(stock(db, &id), 21);
    let history = db.json(&["stock", "history", &id]);
    let rows: Vec<(i64, i64, Value)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["change"].as_i64().unwrap(),
                e["total_after_change"].as_i64().unwrap(),
                e["reverts"].clone(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (10, 10, Value::Null),
            (160, 170, Value::Null),
            (-5, 165, Value::Null),
            (-160, 5, Value::from(delivery.as_str())),
            (16, 21, Value::Null),
        ]
    );
    let verified = db.json(&["stock", "verify"]);
    assert_eq!(verified["problems"], 0);
}

fn a_second_revert_of_one_row_is_refused(db: &TestDb) {
    let (id, delivery) = mistyped(db);
    let first = db.json(&["stock", "revert", &delivery]);
    let again = db
        .run(&["-o", "json", "stock", "revert", &delivery])
        .expect(4);
    assert!(again.stdout.is_empty(), "{again:?}");
    assert_eq!(error_code(&again.stderr), "already_reverted");
    let by = first["event_id"].as_str().unwrap();
    assert!(again.stderr.contains(by), "names the revert: {again:?}");
    assert_eq!(stock(db, &id), 5);
    assert_eq!(db.query_i64("SELECT count(*) FROM stock_events"), 4);
    // An unknown row is not found; something that is not an event id is
    // bad input.
    db.run(&["stock", "revert", "EVT01JD5Q3Z8X4N2M7K9P6R3T1V0W"])
        .expect(3);
    db.run(&["stock", "revert", &id]).expect(2);
}

fn a_revert_that_would_go_below_zero_is_refused(db: &TestDb) {
    let (id, delivery) = mistyped(db);
    db.run(&["stock", "adjust", &id, "--change", "-150"])
        .expect(0);
    let refused = db
        .run(&["-o", "json", "stock", "revert", &delivery])
        .expect(4);
    assert_eq!(error_code(&refused.stderr), "insufficient_stock");
    assert!(
        refused.stderr.contains(&delivery) && refused.stderr.contains("would leave -145"),
        "{refused:?}"
    );
    assert_eq!(stock(db, &id), 15);
    // Nothing was written, so the row can still be reverted once stock
    // allows it.
    db.run(&["stock", "adjust", &id, "--change", "+145"])
        .expect(0);
    assert_eq!(
        db.json(&["stock", "revert", &delivery])["new_stock_count"],
        0
    );
}

/// N processes revert one row at once: the schema lets one row revert it,
/// so one wins and every other one is refused as a double revert.
fn racing_reverts_of_one_row_let_exactly_one_win(db: &TestDb) {
    const RACERS: usize = 6;
    let (id, delivery) = mistyped(db);
    let start = Barrier::new(RACERS);
    let runs: Vec<_> = thread::scope(|scope| {
        let workers: Vec<_> = (0..RACERS)
            .map(|_| {
                scope.spawn(|| {
                    start.wait();
                    db.run(&["-o", "json", "stock", "revert", &delivery])
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let winners = runs.iter().filter(|r| r.code == 0).count();
    assert_eq!(winners, 1, "exactly one winner: {runs:#?}");
    for run in runs.iter().filter(|r| r.code != 0) {
        assert_eq!(run.code, 4, "{run:#?}");
        assert_eq!(error_code(&run.stderr), "already_reverted", "{run:#?}");
    }
    assert_eq!(stock(db, &id), 5);
    assert_eq!(
        db.query_i64("SELECT count(*) FROM stock_events WHERE reverts IS NOT NULL"),
        1
    );
}

fn a_revert_is_a_write_like_any_other(db: &TestDb) {
    let (id, delivery) = mistyped(db);
    // A dry run prints what the real run would, and writes nothing.
    let dry = db.json(&["--dry-run", "stock", "revert", &delivery]);
    assert_eq!(dry["new_stock_count"], 5);
    assert_eq!(db.query_i64("SELECT count(*) FROM stock_events"), 3);
    let dry_refused = db.run(&[
        "--dry-run",
        "stock",
        "revert",
        "EVT01JD5Q3Z8X4N2M7K9P6R3T1V0W",
    ]);
    dry_refused.expect(3);
    // A key: the rerun replays the result; another request is refused.
    let keyed = |args: &[&str]| {
        let mut all = vec![
            "-o",
            "json",
            "--idempotency-key",
            "fix-160",
            "--actor",
            "alice",
        ];
        all.extend_from_slice(args);
        db.run(&all)
    };
    let first = keyed(&["stock", "revert", &delivery]).expect(0).json();
    assert_eq!(first["actor"], "alice");
    let replayed = keyed(&["stock", "revert", &delivery]).expect(0).json();
    assert_eq!(replayed, first);
    let other = keyed(&["stock", "revert", &delivery, "--reason", "other"]).expect(4);
    assert_eq!(error_code(&other.stderr), "idempotency_key_reused");
    assert_eq!(db.query_i64("SELECT count(*) FROM stock_events"), 4);
    let history = db.json(&["stock", "history", &id]);
    assert_eq!(history[3]["actor"], "alice");
    assert_eq!(history[3]["reverts"], delivery.as_str());
}

fn a_raw_update_or_delete_of_a_ledger_row_is_refused(db: &TestDb) {
    let (id, delivery) = mistyped(db);
    let before = db.json(&["stock", "history", &id]);
    for sql in [
        format!("DELETE FROM stock_events WHERE id = '{delivery}'"),
        format!("DELETE FROM stock_events WHERE product_id = '{id}' AND version = 3"),
        format!("UPDATE stock_events SET total_after_change = 16 WHERE id = '{delivery}'"),
        "UPDATE stock_events SET reason = 'tidied'".to_owned(),
    ] {
        let refused = db.try_execute(&sql);
        assert!(
            refused.as_ref().is_err_and(|e| e.contains("append-only")),
            "{sql}: {refused:?}"
        );
    }
    assert_eq!(db.json(&["stock", "history", &id]), before);
    assert_eq!(db.json(&["stock", "verify"])["problems"], 0);
}

fn history_until_and_tail_give_the_end_of_the_log(db: &TestDb) {
    let id = db.product("Logged", "1", "1");
    for change in ["+1", "+2", "+3", "+4"] {
        db.run(&["stock", "adjust", &id, "--change", change])
            .expect(0);
    }
    let changes = |args: &[&str]| -> Vec<i64> {
        let mut all = vec!["stock", "history"];
        all.extend_from_slice(args);
        db.json(&all)
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["change"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(
        changes(&[&id, "--tail", "2"]),
        [3, 4],
        "the newest, in order"
    );
    assert_eq!(changes(&["--tail", "3"]), [2, 3, 4]);
    assert_eq!(changes(&[&id, "--tail", "99"]), [1, 1, 2, 3, 4]);
    assert_eq!(changes(&["--limit", "2"]), [1, 1], "--limit: the oldest");
    // Every row was written at the tests' fixed now.
    assert_eq!(changes(&[&id, "--until", "now"]), Vec::<i64>::new());
    assert_eq!(changes(&[&id, "--until", "+1d", "--tail", "1"]), [4]);
    assert_eq!(
        changes(&[&id, "--since", "-1d", "--until", "tomorrow"]),
        [1, 1, 2, 3, 4]
    );
    let both = db.run(&["stock", "history", "--tail", "1", "--limit", "1"]);
    both.expect(2);
    db.run(&["stock", "history", "--tail", "0"]).expect(2);
    db.run(&["stock", "history", "--until", "someday"])
        .expect(2);
}
