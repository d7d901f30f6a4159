//! Every documented exit code, with its message and JSON error object.

use crate::harness::{Backend, TestDb};
use crate::on_both_backends;

on_both_backends!(
    exit_0_on_success_and_2_on_usage_errors,
    exit_1_when_stored_data_is_unreadable,
    exit_3_for_unknown_products_everywhere,
    exit_5_when_conflicts_outlast_the_retries,
    exit_6_for_a_schema_newer_than_the_binary,
);

fn exit_0_on_success_and_2_on_usage_errors(db: &TestDb) {
    db.run(&["db", "migrate"]).expect(0);
    // clap's own errors: unknown command, missing flag, bad page size.
    db.run(&["frobnicate"]).expect(2);
    db.run(&["product", "create", "--price", "1"]).expect(2);
    db.run(&["product", "list", "--page-size", "0"]).expect(2);
    db.run(&["product", "list", "--page", "0"]).expect(2);
    // Domain validation, with the JSON error object on stderr.
    let run = db
        .run(&["--json", "product", "create", "--name", " ", "--price", "1"])
        .expect(2);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines[0], "error: invalid --name \" \": expected non-blank text without control characters, at most 200 characters");
    let object: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(object["code"], "invalid_input");
    assert_eq!(object["exit_code"], 2);
    // A malformed id is a usage error, not "not found".
    db.run(&["product", "show", "not-an-id"]).expect(2);
    db.run(&["--version"]).expect(0);
    assert!(db.run(&["--help"]).expect(0).stdout.contains("stock"));
}

fn exit_1_when_stored_data_is_unreadable(db: &TestDb) {
    db.product("Fine", "1", "0");
    db.execute("UPDATE products SET name = ''");
    let run = db.run(&["-o", "ndjson", "product", "list"]).expect(1);
    assert!(run.stderr.starts_with("error: internal error"), "{run:?}");
    assert!(run.stderr.contains("\"code\":\"internal\""), "{run:?}");
}

fn exit_3_for_unknown_products_everywhere(db: &TestDb) {
    db.run(&["db", "migrate"]).expect(0);
    let missing = "PROD01JD5Q3Z8X4N2M7K9P6R3T1V0W";
    for args in [
        vec!["product", "show", missing],
        vec!["stock", "adjust", missing, "--change", "+1"],
        vec!["stock", "history", missing],
        vec!["discount", "set", missing, "--percent", "5"],
    ] {
        let mut all = vec!["--json"];
        all.extend(args);
        let run = db.run(&all).expect(3);
        assert!(
            run.stderr
                .contains(&format!("error: product {missing} not found")),
            "{run:?}"
        );
        assert!(run.stderr.contains("\"code\":\"not_found\""), "{run:?}");
    }
    assert_eq!(db.counts(), [0, 0, 0, 0]);
}

/// Another process holds the lock the stock write needs for longer than the
/// lock timeout, every time: the adjustment gives up with exit 5 after its
/// attempts and writes nothing.
fn exit_5_when_conflicts_outlast_the_retries(db: &TestDb) {
    let id = db.product("Held", "1", "10");
    let args = [
        "--json",
        "--lock-timeout-ms",
        "200",
        "--retry-attempts",
        "3",
        "--retry-base-delay-ms",
        "1",
        "stock",
        "adjust",
        &id,
        "--change",
        "+1",
    ];
    let run = match db.backend {
        Backend::Sqlite => {
            let holder = rusqlite::Connection::open(db.sqlite_path()).unwrap();
            holder.execute_batch("BEGIN IMMEDIATE").unwrap();
            let run = db.run(&args);
            holder.execute_batch("ROLLBACK").unwrap();
            run
        }
        Backend::Mysql => {
            use mysql::prelude::Queryable;
            let mut holder = mysql::Conn::new(mysql::Opts::from_url(&db.url).unwrap()).unwrap();
            holder.query_drop("START TRANSACTION").unwrap();
            holder
                .exec_drop(
                    "SELECT id FROM products WHERE id = ? FOR UPDATE",
                    (id.as_str(),),
                )
                .unwrap();
            let run = db.run(&args);
            holder.query_drop("ROLLBACK").unwrap();
            run
        }
    };
    let run = run.expect(5);
    assert!(run.stderr.contains("gave up after 3 attempts"), "{run:?}");
    assert!(run.stderr.contains("\"code\":\"conflict\""), "{run:?}");
    assert_eq!(
        db.json(&["stock", "history", &id])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Once the lock is gone, the same command succeeds.
    db.run(&args).expect(0);
}

fn exit_6_for_a_schema_newer_than_the_binary(db: &TestDb) {
    db.run(&["db", "migrate"]).expect(0);
    match db.backend {
        Backend::Sqlite => db.execute("PRAGMA user_version = 999"),
        Backend::Mysql => db.execute(
            "INSERT INTO milly_migrations (version, name, checksum, applied_at) VALUES (999, 'future', '0', '2030-01-01 00:00:00')",
        ),
    }
    let run = db.run(&["--json", "product", "list"]).expect(6);
    assert!(
        run.stderr.contains("newer than this milly supports"),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("\"code\":\"database_unavailable\""),
        "{run:?}"
    );
}

#[test]
fn exit_6_when_the_sqlite_file_cannot_be_created() {
    let db = TestDb::sqlite();
    let run = db
        .command()
        .env("MILLY_DATABASE_URL", "sqlite:/nonexistent-folder/milly.db")
        .args(["product", "list"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(6));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("cannot create the database file /nonexistent-folder/milly.db"),
        "{stderr}"
    );
}

#[test]
fn exit_6_when_the_file_is_not_a_database() {
    let db = TestDb::sqlite();
    std::fs::write(
        db.sqlite_path(),
        b"this is not a database, just some text long enough to matter",
    )
    .unwrap();
    let run = db.run(&["product", "list"]).expect(6);
    assert!(run.stderr.contains("not a milly database"), "{run:?}");
}

#[test]
fn exit_6_when_the_mysql_server_cannot_be_reached() {
    let db = TestDb::sqlite();
    let run = db
        .command()
        .env(
            "MILLY_DATABASE_URL",
            "mysql://root:hunter2@127.0.0.1:1/milly",
        )
        .args(["product", "list"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(6));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

#[test]
fn unsupported_url_scheme_is_a_usage_error() {
    let db = TestDb::sqlite();
    let run = db
        .command()
        .env("MILLY_DATABASE_URL", "postgres://localhost/x")
        .args(["product", "list"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
}
