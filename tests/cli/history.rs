//! `stock history [PRODUCT_ID] [--since TIME] [--limit N]`: one ledger or the
//! store-wide movement log, streamed page after page.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use serde_json::Value;

use crate::harness::TestDb;
use crate::on_every_backend;

on_every_backend!(
    without_an_id_every_movement_comes_in_the_order_it_was_written,
    since_keeps_movements_at_or_after_the_time,
    limit_keeps_the_oldest_movements,
    long_logs_stream_across_pages_in_every_format,
    an_empty_log_is_an_empty_list,
    bad_ids_times_and_limits_are_refused,
    a_reader_that_closes_the_pipe_ends_the_log_with_exit_0,
);

fn create_at(db: &TestDb, now: &str, name: &str) -> String {
    let run = db
        .run_at(
            now,
            &[
                "-o", "json", "product", "create", "--name", name, "--price", "1", "--stock", "10",
            ],
        )
        .expect(0);
    run.json()["id"].as_str().unwrap().to_owned()
}

fn adjust_at(db: &TestDb, now: &str, id: &str, change: &str) {
    db.run_at(now, &["stock", "adjust", id, "--change", change])
        .expect(0);
}

/// (product id, version) of each event listed.
fn moves(log: &Value) -> Vec<(String, i64)> {
    log.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["product_id"].as_str().unwrap().to_owned(),
                e["version"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// A at day 1, B at day 2, then A, B, A adjusted on days 3, 4, 5.
fn three_days(db: &TestDb) -> (String, String) {
    let a = create_at(db, "2025-06-01T10:00:00Z", "A");
    let b = create_at(db, "2025-06-02T10:00:00Z", "B");
    adjust_at(db, "2025-06-03T10:00:00Z", &a, "+1");
    adjust_at(db, "2025-06-04T10:00:00Z", &b, "-1");
    adjust_at(db, "2025-06-05T10:00:00Z", &a, "+2");
    (a, b)
}

fn without_an_id_every_movement_comes_in_the_order_it_was_written(db: &TestDb) {
    let (a, b) = three_days(db);
    let log = db.json(&["stock", "history"]);
    assert_eq!(
        moves(&log),
        [
            (a.clone(), 1),
            (b.clone(), 1),
            (a.clone(), 2),
            (b.clone(), 2),
            (a.clone(), 3)
        ]
    );
    assert_eq!(log[4]["total_after_change"], 13);
    assert_eq!(log[4]["created_at"], "2025-06-05T10:00:00.000000Z");
    // One product's ledger is unchanged by the new flags.
    assert_eq!(
        moves(&db.json(&["stock", "history", &a])),
        [(a.clone(), 1), (a.clone(), 2), (a, 3)]
    );
}

fn since_keeps_movements_at_or_after_the_time(db: &TestDb) {
    let (a, b) = three_days(db);
    assert_eq!(
        moves(&db.json(&["stock", "history", "--since", "2025-06-03T10:00:00Z"])),
        [(a.clone(), 2), (b.clone(), 2), (a.clone(), 3)],
        "the boundary is included"
    );
    assert_eq!(
        moves(&db.json(&["stock", "history", "--since", "2025-06-04"])),
        [(b.clone(), 2), (a.clone(), 3)]
    );
    assert_eq!(
        moves(&db.json(&["stock", "history", &a, "--since", "2025-06-02"])),
        [(a.clone(), 2), (a.clone(), 3)]
    );
    assert_eq!(
        db.json(&["stock", "history", "--since", "2025-07-01"]),
        serde_json::json!([])
    );
    // An offset is converted to UTC.
    assert_eq!(
        moves(&db.json(&["stock", "history", "--since", "2025-06-05T12:00:00+02:00"])),
        [(a, 3)]
    );
}

fn limit_keeps_the_oldest_movements(db: &TestDb) {
    let (a, b) = three_days(db);
    assert_eq!(
        moves(&db.json(&["stock", "history", "--limit", "2"])),
        [(a.clone(), 1), (b.clone(), 1)]
    );
    assert_eq!(
        moves(&db.json(&["stock", "history", "--since", "2025-06-02", "--limit", "2"])),
        [(b.clone(), 1), (a.clone(), 2)]
    );
    assert_eq!(
        moves(&db.json(&["stock", "history", &b, "--limit", "1"])),
        [(b, 1)]
    );
    assert_eq!(
        moves(&db.json(&["stock", "history", "--limit", "99"])).len(),
        5
    );
}

/// More than two pages (1,000 events each), for one product and for all.
fn long_logs_stream_across_pages_in_every_format(db: &TestDb) {
    let changes: Vec<String> = (0..2_399).map(|i| format!("\"+{}\"", i % 7 + 1)).collect();
    let rows = format!(
        "{{\"name\":\"Long\",\"price\":1,\"stock_changes\":[{}]}}\n{{\"name\":\"Short\",\"price\":1}}\n",
        changes.join(",")
    );
    let file = db.home.path().join("long.ndjson");
    std::fs::write(&file, rows).unwrap();
    db.run(&["import", "products", file.to_str().unwrap()])
        .expect(0);
    let log = db.json(&["stock", "history"]);
    let events = log.as_array().unwrap();
    assert_eq!(events.len(), 2_401);
    let long = events[0]["product_id"].as_str().unwrap().to_owned();
    let mut total = 0;
    for (i, event) in events[..2_400].iter().enumerate() {
        assert_eq!(event["product_id"], long.as_str());
        assert_eq!(event["version"], i as i64 + 1);
        total += event["change"].as_i64().unwrap();
        assert_eq!(event["total_after_change"], total);
    }
    assert_ne!(events[2_400]["product_id"], long.as_str());
    let one = db.json(&["stock", "history", &long, "--limit", "2100"]);
    assert_eq!(one.as_array().unwrap().len(), 2_100);
    assert_eq!(one[2_099]["version"], 2_100);
    let csv = db.run(&["-o", "csv", "stock", "history"]).expect(0);
    assert_eq!(csv.stdout.lines().count(), 2_402);
    let ndjson = db
        .run(&["-o", "ndjson", "stock", "history", &long])
        .expect(0);
    assert_eq!(ndjson.stdout.lines().count(), 2_400);
    let table = db.run(&["stock", "history", "--limit", "1500"]).expect(0);
    assert_eq!(table.stdout.matches(&long).count(), 1_500);
}

fn an_empty_log_is_an_empty_list(db: &TestDb) {
    db.run(&["db", "migrate"]).expect(0);
    assert_eq!(db.json(&["stock", "history"]), serde_json::json!([]));
    let csv = db.run(&["-o", "csv", "stock", "history"]).expect(0);
    assert_eq!(
        csv.stdout,
        "id,product_id,version,change,total_after_change,reason,created_at,actor,reverts\n"
    );
    assert_eq!(
        db.run(&["-o", "ndjson", "stock", "history"])
            .expect(0)
            .stdout,
        ""
    );
}

fn bad_ids_times_and_limits_are_refused(db: &TestDb) {
    db.product("A", "1", "1");
    let run = db
        .run(&[
            "-o",
            "json",
            "stock",
            "history",
            "PROD01JD5Q3Z8X4N2M7K9P6R3T1V0W",
        ])
        .expect(3);
    assert!(run.stdout.is_empty(), "{run:?}");
    db.run(&["stock", "history", "nonsense"]).expect(2);
    for bad in ["someday", "2025-02-30", "", "7d"] {
        let run = db.run(&["stock", "history", "--since", bad]);
        assert_eq!(run.code, 2, "{bad:?}: {run:?}");
    }
    for bad in ["0", "-1", "x"] {
        let run = db.run(&["stock", "history", &format!("--limit={bad}")]);
        assert_eq!(run.code, 2, "{bad:?}: {run:?}");
    }
}

fn a_reader_that_closes_the_pipe_ends_the_log_with_exit_0(db: &TestDb) {
    let changes: Vec<&str> = vec!["\"+1\""; 2_500];
    let file = db.home.path().join("long.ndjson");
    std::fs::write(
        &file,
        format!(
            "{{\"name\":\"Long\",\"price\":1,\"stock_changes\":[{}]}}\n",
            changes.join(",")
        ),
    )
    .unwrap();
    db.run(&["import", "products", file.to_str().unwrap()])
        .expect(0);
    for format in ["table", "json", "ndjson", "csv"] {
        let mut child = db
            .command()
            .args(["-o", format, "stock", "history"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{format}: {stderr}");
        assert_eq!(stderr, "", "{format}");
    }
}
