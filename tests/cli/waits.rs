//! Bounded waits: `--connect-timeout-ms` bounds connecting and the
//! handshake, `--lock-timeout-ms` is the total one command waits for locks.
//!
//! No test here judges a duration: each shows the bound by what a run says
//! and does (the timeout it names, how many attempts it made) while the
//! alternative would be minutes; a generous limit only stops a hung run.

use std::net::TcpListener;
use std::process::Stdio;
use std::thread;
use std::time::Duration;

use crate::faults::wait_with_limit;
use crate::harness::{Backend, TestDb};
use crate::on_every_backend;

/// Kills a run that hangs: far above any bound tested here, far below what
/// the unbounded waits would take.
const HANG: Duration = Duration::from_secs(60);

on_every_backend!(
    discount_set_behind_a_held_lock_is_exit_6_after_the_lock_timeout,
    stock_adjust_behind_a_held_lock_stops_retrying_at_the_lock_timeout,
);

/// A server that accepts TCP connections and never says a word: the
/// connection succeeds, the handshake never starts. With a lock timeout of
/// ten minutes (the socket's read timeout follows it), only the connect
/// timeout can end the run.
fn a_server_that_accepts_and_never_answers_is_exit_6_at_the_connect_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        // Hold every connection open, silently, until the test ends.
        let held: Vec<_> = listener.incoming().collect();
        drop(held);
    });
    let db = TestDb::sqlite();
    for (args, timeout) in [
        (vec!["--json", "product", "list"], "700"),
        (
            vec!["--json", "product", "create", "--name", "X", "--price", "1"],
            "700",
        ),
        (vec!["--json", "db", "status"], "1500"),
    ] {
        let child = db
            .command()
            .env(
                "MILLY_DATABASE_URL",
                format!("mysql://root:pw@127.0.0.1:{port}/test"),
            )
            .env("MILLY_CONNECT_TIMEOUT_MS", timeout)
            .args(["--lock-timeout-ms", "600000"])
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (run, _) = wait_with_limit(child, HANG);
        let run = run.expect(6);
        assert!(
            run.stderr.contains(&format!(
                "no answer from the server within {timeout} ms (--connect-timeout-ms)"
            )),
            "{run:?}"
        );
        assert!(
            run.stderr.contains("\"code\":\"database_unavailable\""),
            "{run:?}"
        );
    }
}

fn the_connect_timeout_must_be_a_positive_number_of_milliseconds() {
    let db = TestDb::sqlite();
    for bad in ["0", "-1", "x", "600001"] {
        let flag = format!("--connect-timeout-ms={bad}");
        let run = db.run(&[&flag, "product", "list"]);
        assert_eq!(run.code, 2, "{bad}: {run:?}");
        assert!(run.stderr.contains("--connect-timeout-ms"), "{run:?}");
    }
}

/// Holds the write lock `discount set` and `stock adjust` need on `id`
/// until dropped: the whole SQLite database, or the product's MySQL row.
enum Holder {
    Sqlite(rusqlite::Connection),
    Mysql(mysql::Conn),
}

impl Holder {
    fn take(db: &TestDb, id: &str) -> Holder {
        match db.backend {
            Backend::Sqlite => {
                let conn = rusqlite::Connection::open(db.sqlite_path()).unwrap();
                conn.execute_batch("BEGIN IMMEDIATE").unwrap();
                Holder::Sqlite(conn)
            }
            Backend::Mysql => {
                use mysql::prelude::Queryable;
                let mut conn = mysql::Conn::new(mysql::Opts::from_url(&db.url).unwrap()).unwrap();
                conn.query_drop("START TRANSACTION").unwrap();
                conn.exec_drop("SELECT id FROM products WHERE id = ? FOR UPDATE", (id,))
                    .unwrap();
                Holder::Mysql(conn)
            }
        }
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        match self {
            Holder::Sqlite(conn) => conn.execute_batch("ROLLBACK").unwrap(),
            Holder::Mysql(conn) => mysql::prelude::Queryable::query_drop(conn, "ROLLBACK").unwrap(),
        }
    }
}

/// Before, MySQL turned each lock wait timeout into a conflict and retried
/// it up to 30 times (exit 5 after about 30 × the lock timeout) while SQLite
/// said "locked" (exit 6) after one: now both say "locked".
fn discount_set_behind_a_held_lock_is_exit_6_after_the_lock_timeout(db: &TestDb) {
    let id = db.product("Held", "10", "1");
    let holder = Holder::take(db, &id);
    let child = db
        .command()
        .args([
            "--json",
            "--lock-timeout-ms",
            "1000",
            "--retry-attempts",
            "1000",
            "discount",
            "set",
            &id,
            "--percent",
            "20",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (run, _) = wait_with_limit(child, HANG);
    drop(holder);
    let run = run.expect(6);
    assert!(
        run.stderr
            .starts_with("error: the database is locked by another"),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("\"code\":\"database_unavailable\""),
        "{run:?}"
    );
    assert_eq!(db.counts()[2], 0, "no discount written");
    db.json(&["discount", "set", &id, "--percent", "20"]);
}

/// A stock write behind a lock held longer than the lock timeout is a
/// conflict (exit 5, as before), but the retries stop when the lock timeout
/// is spent: one or two attempts of the thousand allowed, not a thousand
/// lock waits.
fn stock_adjust_behind_a_held_lock_stops_retrying_at_the_lock_timeout(db: &TestDb) {
    let id = db.product("Held", "10", "1");
    let holder = Holder::take(db, &id);
    let child = db
        .command()
        .args([
            "--json",
            "--lock-timeout-ms",
            "1000",
            "--retry-attempts",
            "1000",
            "stock",
            "adjust",
            &id,
            "--change",
            "+1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (run, _) = wait_with_limit(child, HANG);
    drop(holder);
    let run = run.expect(5);
    let attempts: u32 = run
        .stderr
        .strip_prefix("error: gave up after ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{run:?}"));
    assert!(attempts <= 2, "{attempts} attempts: {run:?}");
    assert_eq!(db.counts()[1], 1, "nothing written");
}

crate::plain_tests!(
    a_server_that_accepts_and_never_answers_is_exit_6_at_the_connect_timeout,
    the_connect_timeout_must_be_a_positive_number_of_milliseconds
);
