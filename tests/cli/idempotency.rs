//! `--idempotency-key`: a write runs once per key, whatever happens to the
//! runs (reruns, concurrent runs, a connection lost after the write).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

use crate::faults::{admin_url_via, mysql_server, run_against};
use crate::harness::{mysql_admin_url, Run, TestDb};
use crate::{on_every_backend, on_mysql, plain_tests};

on_every_backend!(
    every_write_command_reruns_under_its_key_without_writing,
    a_key_reused_for_another_request_is_exit_4_and_writes_nothing,
    concurrent_runs_with_one_key_write_once,
    pruned_keys_are_forgotten,
    a_dry_run_under_a_key_keeps_neither_the_write_nor_the_key,
);

on_mysql!(a_connection_lost_after_the_commit_was_sent_is_exit_6_and_the_keyed_rerun_applies_once,);

plain_tests!(a_malformed_key_is_exit_2);

fn keyed(db: &TestDb, key: &str, args: &[&str]) -> Run {
    let mut all = vec!["--idempotency-key", key, "-o", "json"];
    all.extend_from_slice(args);
    db.run(&all)
}

fn every_write_command_reruns_under_its_key_without_writing(db: &TestDb) {
    let product = db.product("Tea", "10", "5");
    let import = db.home.path().join("products.csv");
    std::fs::write(&import, "name,price,stock\nA,1,1\nB,2,2\n").unwrap();
    let import = import.to_str().unwrap().to_owned();
    let shelf = db.product("Shelf", "30", "1");
    let feed = db.home.path().join("feed.csv");
    std::fs::write(&feed, format!("product_id,change\n{product},+3\n")).unwrap();
    let feed = feed.to_str().unwrap().to_owned();
    // What the counts do not show: changes, archiving, cleared discounts.
    let state = || {
        (
            db.counts(),
            db.json(&["product", "history", &product]),
            db.json(&["product", "history", &shelf]),
            db.json(&["discount", "list"]),
        )
    };
    let commands: Vec<Vec<&str>> = vec![
        vec!["product", "create", "--name", "Kettle", "--price", "20"],
        vec!["stock", "adjust", &product, "--change", "-2"],
        vec!["discount", "set", &product, "--percent", "10"],
        vec![
            "coupon",
            "create",
            "--user",
            "7",
            "--percent",
            "5",
            "--valid-to",
            "2026-01-01",
        ],
        vec!["coupon", "deactivate", "WELCOME"],
        vec!["import", "products", &import],
        vec!["product", "update", &product, "--price", "12"],
        vec!["discount", "clear", &product],
        vec!["product", "archive", &shelf],
        vec!["product", "unarchive", &shelf],
        vec!["import", "stock", &feed],
    ];
    db.run(&[
        "coupon",
        "create",
        "--user",
        "8",
        "--percent",
        "5",
        "--valid-to",
        "2026-01-01",
        "--code",
        "welcome",
    ])
    .expect(0);
    for (n, args) in commands.iter().enumerate() {
        let key = format!("job:{n}");
        let first = keyed(db, &key, args).expect(0);
        let counts = state();
        let again = keyed(db, &key, args).expect(0);
        assert_eq!(
            again.stdout, first.stdout,
            "{args:?}: the same result, same ids"
        );
        assert_eq!(state(), counts, "{args:?}: the rerun wrote nothing");
        // Another output format prints the recorded result in that format.
        let mut csv = vec!["--idempotency-key", &key, "-o", "csv"];
        csv.extend_from_slice(args);
        let csv = db.run(&csv).expect(0);
        let first_id = first
            .json()
            .as_object()
            .map(|o| o.values().next().unwrap().clone());
        if let Some(serde_json::Value::String(id)) = first_id {
            assert!(csv.stdout.contains(&id), "{args:?}: {csv:?}");
        }
        assert_eq!(state(), counts);
    }
    let ledger = db.json(&["stock", "history", &product]);
    assert_eq!(
        ledger.as_array().unwrap().len(),
        3,
        "adjusted once, imported once: {ledger}"
    );
}

fn a_key_reused_for_another_request_is_exit_4_and_writes_nothing(db: &TestDb) {
    let product = db.product("Tea", "10", "5");
    keyed(db, "k", &["stock", "adjust", &product, "--change", "+1"]).expect(0);
    let counts = db.counts();
    for args in [
        vec!["stock", "adjust", &product, "--change", "+2"],
        vec!["product", "create", "--name", "Other", "--price", "1"],
    ] {
        let run = keyed(db, "k", &args).expect(4);
        assert!(
            run.stderr.contains("\"code\":\"idempotency_key_reused\""),
            "{run:?}"
        );
        assert!(
            run.stderr
                .starts_with("error: idempotency key k was already used"),
            "{run:?}"
        );
    }
    assert_eq!(db.counts(), counts);
    // Keys are case-sensitive: K is another key.
    keyed(db, "K", &["stock", "adjust", &product, "--change", "+2"]).expect(0);
}

/// Eight processes start the same keyed adjustment at once: one writes,
/// every one exits 0 and prints the same result.
fn concurrent_runs_with_one_key_write_once(db: &TestDb) {
    let product = db.product("Tea", "10", "100");
    let runs: Vec<Run> = thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    keyed(
                        db,
                        "nightly-restock",
                        &[
                            "--lock-timeout-ms",
                            "20000",
                            "stock",
                            "adjust",
                            &product,
                            "--change",
                            "+7",
                        ],
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let first = runs[0].stdout.clone();
    for run in runs {
        assert_eq!(run.expect(0).stdout, first);
    }
    let ledger = db.json(&["stock", "history", &product]);
    let totals: Vec<i64> = ledger
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["total_after_change"].as_i64().unwrap())
        .collect();
    assert_eq!(totals, [100, 107], "written once");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&first).unwrap()["event_id"],
        ledger[1]["id"]
    );
}

fn pruned_keys_are_forgotten(db: &TestDb) {
    let product = db.product("Tea", "10", "0");
    let adjust = ["stock", "adjust", product.as_str(), "--change", "+1"];
    keyed(db, "daily", &adjust).expect(0);
    assert_eq!(
        db.json(&["db", "prune-keys", "--older-than", "1"])["pruned_keys"],
        0
    );
    keyed(db, "daily", &adjust).expect(0);
    assert_eq!(
        db.json(&["stock", "history", &product])
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Two days later the key is past a one-day retention.
    let later = db
        .command()
        .env("MILLY_NOW", "2025-06-03T12:00:00Z")
        .args(["-o", "json", "db", "prune-keys", "--older-than", "1"])
        .output()
        .unwrap();
    assert!(later.status.success(), "{later:?}");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&later.stdout).unwrap()["pruned_keys"],
        1
    );
    // A forgotten key is a new key: the write applies again.
    keyed(db, "daily", &adjust).expect(0);
    assert_eq!(
        db.json(&["stock", "history", &product])
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

fn a_malformed_key_is_exit_2() {
    let db = TestDb::sqlite();
    for bad in ["", "has space", "slash/no", &"k".repeat(129)] {
        let run = keyed(
            &db,
            bad,
            &["product", "create", "--name", "X", "--price", "1"],
        )
        .expect(2);
        assert!(run.stderr.contains("--idempotency-key"), "{run:?}");
    }
    assert!(!db.sqlite_path().exists(), "nothing created");
}

/// A proxy that relays one MySQL session in plaintext and, once the client
/// sends `COMMIT`, lets it reach the server but never relays the answer:
/// the change is committed, and the client sees the connection drop.
struct CutAfterCommit {
    port: u16,
    cut: Arc<AtomicBool>,
}

impl CutAfterCommit {
    fn start(upstream: String) -> CutAfterCommit {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let seen = cut.clone();
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let server = TcpStream::connect(&upstream).unwrap();
                // Per connection: a later run gets its own chance to commit.
                let this = Arc::new(AtomicBool::new(false));
                let (seen, any) = (this.clone(), seen.clone());
                let (mut c_in, mut s_out) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                let to_server_seen = this;
                thread::spawn(move || {
                    let mut buf = [0u8; 64 * 1024];
                    while let Ok(n) = c_in.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        // A COM_QUERY packet (header, 0x03) whose text is COMMIT.
                        if n >= 11 && buf[4] == 0x03 && &buf[5..11] == b"COMMIT" {
                            to_server_seen.store(true, Ordering::SeqCst);
                            any.store(true, Ordering::SeqCst);
                        }
                        if s_out.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                });
                let (mut s_in, mut c_out) = (server, client);
                thread::spawn(move || {
                    let mut buf = [0u8; 64 * 1024];
                    while let Ok(n) = s_in.read(&mut buf) {
                        if n == 0 || seen.load(Ordering::SeqCst) {
                            break;
                        }
                        if c_out.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = c_out.shutdown(Shutdown::Both);
                    let _ = s_in.shutdown(Shutdown::Both);
                });
            }
        });
        CutAfterCommit { port, cut }
    }
}

fn a_connection_lost_after_the_commit_was_sent_is_exit_6_and_the_keyed_rerun_applies_once(
    db: &TestDb,
) {
    let product = db.product("Tea", "10", "5");
    let proxy = CutAfterCommit::start(mysql_server(&mysql_admin_url().unwrap()));
    let url = format!(
        "{}?ssl-mode=disabled",
        admin_url_via(db, &format!("127.0.0.1:{}", proxy.port))
    );
    let args = [
        "--idempotency-key",
        "cron:restock:42",
        "--json",
        "stock",
        "adjust",
        &product,
        "--change",
        "+3",
    ];
    let (lost, _) = run_against(db, &url, &args);
    let lost = lost.expect(6);
    assert!(proxy.cut.load(Ordering::SeqCst), "the commit was sent");
    assert!(
        lost.stderr.contains("the change may have been applied")
            && lost
                .stderr
                .contains(&format!("milly stock history {product}"))
            && lost.stderr.contains("same --idempotency-key is safe"),
        "{lost:?}"
    );
    // It was applied: the rerun through a working connection prints what
    // that run would have printed, and applies nothing more.
    let ledger = db.json(&["stock", "history", &product]);
    assert_eq!(ledger.as_array().unwrap().len(), 2, "{ledger}");
    let rerun = db.run(&args).expect(0).json();
    assert_eq!(rerun["event_id"], ledger[1]["id"]);
    assert_eq!(rerun["new_stock_count"], 8);
    assert_eq!(db.json(&["stock", "history", &product]), ledger);

    // Without a key the message says how to check and how to rerun safely.
    let create = ["product", "create", "--name", "Cut kettle", "--price", "1"];
    let (unkeyed, _) = run_against(db, &url, &create);
    let unkeyed = unkeyed.expect(6);
    assert!(
        unkeyed
            .stderr
            .contains("milly product list --name \"Cut kettle\"")
            && unkeyed
                .stderr
                .contains("a rerun with --idempotency-key KEY is always safe"),
        "{unkeyed:?}"
    );
    assert_eq!(
        db.query_strings("SELECT name FROM products WHERE name = 'Cut kettle'")
            .len(),
        1,
        "committed"
    );
}

/// A dry run's unit of work is rolled back like any of its writes: neither
/// the change nor the key is kept, so the real run under the same key
/// applies the change.
fn a_dry_run_under_a_key_keeps_neither_the_write_nor_the_key(db: &TestDb) {
    let product = db.product("Tea", "10", "5");
    let adjust = ["stock", "adjust", product.as_str(), "--change", "-2"];
    let mut dry = vec!["--dry-run", "--idempotency-key", "dry:1", "-o", "json"];
    dry.extend_from_slice(&adjust);
    let before = db.counts();
    let shown = db.run(&dry).expect(0);
    assert_eq!(shown.json()["new_stock_count"], 3, "{shown:?}");
    assert_eq!(db.counts(), before, "the dry run kept nothing");
    let real = keyed(db, "dry:1", &adjust).expect(0);
    assert_eq!(real.json()["new_stock_count"], 3, "{real:?}");
    let again = keyed(db, "dry:1", &adjust).expect(0);
    assert_eq!(again.stdout, real.stdout);
    let ledger = db.json(&["stock", "history", &product]);
    assert_eq!(
        ledger.as_array().unwrap().len(),
        2,
        "applied once: {ledger}"
    );
}
