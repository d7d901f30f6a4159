//! `import stock`: a feed of stock changes, all or nothing, in file order,
//! each row checked against its product's running total; and `stock
//! adjust` processes running during a large import lose nothing.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use serde_json::Value;

use crate::harness::{Run, TestDb};
use crate::on_every_backend;

on_every_backend!(
    rows_for_one_product_apply_in_order_against_the_running_total,
    csv_and_ndjson_from_a_file_or_stdin_print_one_record_per_row,
    the_first_bad_row_is_reported_with_its_line_and_exit_code_and_nothing_is_written,
    an_empty_feed_changes_nothing,
    adjust_processes_during_a_large_import_lose_nothing,
);

fn import(db: &TestDb, args: &[&str], content: &str) -> Run {
    let file = db.home.path().join("feed");
    std::fs::write(&file, content).unwrap();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["import", "stock", file.to_str().unwrap()]);
    db.run(&all)
}

fn stock(db: &TestDb, id: &str) -> i64 {
    db.json(&["product", "show", id])["stock_count"]
        .as_i64()
        .unwrap()
}

fn error_line(run: &Run) -> &str {
    run.stderr.lines().next().unwrap_or("")
}

fn rows_for_one_product_apply_in_order_against_the_running_total(db: &TestDb) {
    let a = db.product("A", "1", "10");
    let b = db.product("B", "1", "0");
    // A goes 10 → 15 → 0 → 4: the -15 is allowed only after the +5.
    let feed = format!(
        "product_id,change,reason\n{a},+5,delivery 7\n{b},3,\n{a},-15,sold out\n{a},+4,restock\n"
    );
    let run = import(db, &[], &feed).expect(0);
    assert!(run.stdout.contains("stock_events"), "{run:?}");
    assert_eq!((stock(db, &a), stock(db, &b)), (4, 3));
    let history = db.json(&["stock", "history", &a]);
    let rows: Vec<(i64, i64, i64, Value)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["version"].as_i64().unwrap(),
                e["change"].as_i64().unwrap(),
                e["total_after_change"].as_i64().unwrap(),
                e["reason"].clone(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (1, 10, 10, Value::Null),
            (2, 5, 15, "delivery 7".into()),
            (3, -15, 0, "sold out".into()),
            (4, 4, 4, "restock".into()),
        ]
    );
    // An empty CSV cell is no reason at all.
    assert_eq!(db.json(&["stock", "history", &b])[1]["reason"], Value::Null);
    let summary = import(db, &["-o", "json"], &format!("product_id,change\n{a},-4\n"))
        .expect(0)
        .json();
    assert_eq!(summary[0]["new_stock_count"], 0);
    db.run(&["stock", "verify"]).expect(0);
}

fn csv_and_ndjson_from_a_file_or_stdin_print_one_record_per_row(db: &TestDb) {
    let a = db.product("A", "1", "10");
    let ndjson = format!(
        "{{\"product_id\":\"{a}\",\"change\":-2}}\n\n{{\"product_id\":\"{a}\",\"change\":\"+7\",\"reason\":\"r\"}}\n"
    );
    let records = import(db, &["-o", "json"], &ndjson).expect(0).json();
    let records = records.as_array().unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["line"], 1);
    assert_eq!(records[1]["line"], 3, "blank lines count");
    assert_eq!(
        (
            records[1]["product_id"].as_str(),
            records[1]["version"].as_i64(),
            records[1]["change"].as_i64(),
            records[1]["new_stock_count"].as_i64()
        ),
        (Some(a.as_str()), Some(3), Some(7), Some(15))
    );
    let history = db.json(&["stock", "history", &a]);
    assert_eq!(records[1]["id"], history[2]["id"]);
    let table = import(db, &[], &ndjson).expect(0);
    assert!(table.stdout.contains("stock_events") && table.stdout.contains('2'));
    let csv = import(db, &["-o", "csv"], &format!("product_id,change\n{a},+1\n")).expect(0);
    assert_eq!(
        csv.stdout.lines().next(),
        Some("line,id,product_id,version,change,new_stock_count")
    );
    let mut child = db
        .command()
        .args(["-o", "ndjson", "import", "stock", "--format", "csv"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("product_id,change\n{a},-1\n{a},-1\n").as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&output.stdout).lines().count(), 2);
    // 10, then -2 +7 twice, +1, and -1 twice.
    assert_eq!(stock(db, &a), 19);
}

fn the_first_bad_row_is_reported_with_its_line_and_exit_code_and_nothing_is_written(db: &TestDb) {
    let a = db.product("A", "1", "10");
    let ghost = "PROD01JD5Q3Z8X4N2M7K9P6R3T1V0W";
    let good = format!("{a},+1\n").repeat(1_200);
    let header = "product_id,change\n";
    let cases: Vec<(String, i32, String, &str)> = vec![
        (
            format!("{header}{a},+1\n{a},0\n"),
            2,
            "line 3: invalid change \"0\"".into(),
            "invalid_input",
        ),
        (
            format!("{header}{a},1.5\n"),
            2,
            "line 2: invalid change \"1.5\"".into(),
            "invalid_input",
        ),
        (
            format!("{header}nope,+1\n"),
            2,
            "line 2: invalid product_id \"nope\"".into(),
            "invalid_input",
        ),
        (
            format!("{header}{a}\n"),
            2,
            "line 2: expected 2 values".into(),
            "invalid_input",
        ),
        (
            "product_id,change,price\n".into(),
            2,
            "line 1: in the header: unknown field `price`".into(),
            "invalid_input",
        ),
        (
            format!("{{\"product_id\":\"{a}\"}}\n"),
            2,
            "line 1: invalid change \"\": expected a value (the field is required)".into(),
            "invalid_input",
        ),
        (
            format!("{header}{a},+1\n{ghost},+1\n"),
            3,
            format!("line 3: product {ghost} not found"),
            "not_found",
        ),
        // The running total: 10 + 1 - 12 < 0 on line 3, not the first row.
        (
            format!("{header}{a},+1\n{a},-12\n"),
            4,
            format!(
                "line 3: insufficient stock for {a}: stock is 11, a change of -12 would leave -1"
            ),
            "insufficient_stock",
        ),
        // After more rows than one chunk: still the first bad row, and still nothing.
        (
            format!("{header}{good}{a},-99999\n"),
            4,
            format!("line 1202: insufficient stock for {a}: stock is 1210"),
            "insufficient_stock",
        ),
        // An unknown product before an unreadable row is reported first.
        (
            format!("{header}{ghost},+1\n{a},x\n"),
            3,
            format!("line 2: product {ghost} not found"),
            "not_found",
        ),
        (
            format!("{header}{a},+999999999999999\n"),
            4,
            "line 2: stock for".into(),
            "stock_overflow",
        ),
    ];
    let before = db.counts();
    for (content, code, message, json_code) in &cases {
        let run = import(db, &["-o", "json"], content);
        assert_eq!(run.code, *code, "{content:.80}: {run:?}");
        assert!(
            error_line(&run).starts_with(&format!("error: {message}")),
            "{content:.80}: {run:?}"
        );
        let object: Value = serde_json::from_str(run.stderr.lines().nth(1).unwrap()).unwrap();
        assert_eq!(object["code"], *json_code);
        assert!(run.stdout.is_empty(), "{run:?}");
    }
    assert_eq!(db.counts(), before);
    assert_eq!(stock(db, &a), 10);
}

fn an_empty_feed_changes_nothing(db: &TestDb) {
    db.product("A", "1", "10");
    let before = db.counts();
    for content in ["", "\n\n", "product_id,change\n"] {
        let run = import(db, &["-o", "json"], content).expect(2);
        assert!(run.stderr.contains("--allow-empty"), "{content:?}: {run:?}");
        let file = db.home.path().join("feed");
        let path = file.to_str().unwrap();
        let run = db
            .run(&["-o", "json", "import", "stock", "--allow-empty", path])
            .expect(0);
        assert_eq!(run.json(), serde_json::json!([]), "{content:?}");
    }
    assert_eq!(db.counts(), before);
}

const PRODUCTS: usize = 20;
const FEED_ROWS: usize = 40_000;
const ADJUSTERS: usize = 4;
const MIN_ADJUSTS: usize = 5;

/// Adjusters run `stock adjust` in a loop on the feed's products for as
/// long as the import runs (and a few times more): every change, theirs and
/// the feed's, is in the final totals, and every ledger stays sound.
fn adjust_processes_during_a_large_import_lose_nothing(db: &TestDb) {
    let ids: Vec<String> = (0..PRODUCTS)
        .map(|i| db.product(&format!("P{i}"), "1", "1000"))
        .collect();
    let feed: String = (0..FEED_ROWS)
        .map(|i| format!("{},+1\n", ids[i % PRODUCTS]))
        .collect();
    let file = db.home.path().join("large.csv");
    std::fs::write(&file, format!("product_id,change\n{feed}")).unwrap();
    // 0: adjusters warming up, 1: the import runs, 2: it ended. The import
    // starts only once every adjuster has finished a run, so adjustments
    // are under way for its whole duration.
    let phase = AtomicUsize::new(0);
    let warmed = AtomicUsize::new(0);
    let during = AtomicUsize::new(0);
    let applied: Vec<Vec<(usize, i64)>> = thread::scope(|scope| {
        let adjusters: Vec<_> = (0..ADJUSTERS)
            .map(|w| {
                let (ids, phase, warmed, during) = (&ids, &phase, &warmed, &during);
                scope.spawn(move || {
                    let mut done = Vec::new();
                    let mut n = 0;
                    while phase.load(Ordering::SeqCst) < 2 || n < MIN_ADJUSTS {
                        let product = (w * 7 + n) % PRODUCTS;
                        let change: i64 = if n % 2 == 0 { 3 } else { -2 };
                        let started_before_end = phase.load(Ordering::SeqCst) <= 1;
                        db.run(&[
                            "stock",
                            "adjust",
                            &ids[product],
                            &format!("--change={change:+}"),
                        ])
                        .expect(0);
                        // Overlapped the import: started before it ended and
                        // ended after it started (a run in flight when it
                        // starts counts, so every adjuster contributes).
                        if started_before_end && phase.load(Ordering::SeqCst) >= 1 {
                            during.fetch_add(1, Ordering::SeqCst);
                        }
                        if n == 0 {
                            warmed.fetch_add(1, Ordering::SeqCst);
                        }
                        done.push((product, change));
                        n += 1;
                    }
                    done
                })
            })
            .collect();
        // (An adjuster that failed has ended: its panic is reported on join.)
        while warmed.load(Ordering::SeqCst) < ADJUSTERS
            && !adjusters.iter().any(|a| a.is_finished())
        {
            thread::sleep(std::time::Duration::from_millis(5));
        }
        phase.store(1, Ordering::SeqCst);
        let import = db.run(&["import", "stock", file.to_str().unwrap()]);
        // Stop the adjusters before judging, so a failed import fails the
        // test instead of leaving them looping.
        phase.store(2, Ordering::SeqCst);
        import.expect(0);
        adjusters.into_iter().map(|a| a.join().unwrap()).collect()
    });
    let mut expected = vec![1000 + (FEED_ROWS / PRODUCTS) as i64; PRODUCTS];
    for (product, change) in applied.iter().flatten() {
        expected[*product] += change;
    }
    let totals: Vec<i64> = ids.iter().map(|id| stock(db, id)).collect();
    assert_eq!(totals, expected);
    let adjusts = applied.iter().map(Vec::len).sum::<usize>();
    let summary = db.json(&["stock", "verify"]);
    assert_eq!(summary["problems"], 0);
    assert_eq!(
        summary["events_checked"],
        (PRODUCTS + FEED_ROWS + adjusts) as i64
    );
    let during = during.load(Ordering::SeqCst);
    assert!(
        during > 0,
        "no adjustment ran while the import did: the race went untested"
    );
    println!(
        "{:?}: {adjusts} adjustments, {during} of them overlapping a {FEED_ROWS}-row import: nothing lost",
        db.backend
    );
}
