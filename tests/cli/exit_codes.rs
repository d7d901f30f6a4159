//! Every documented exit code, with its message and JSON error object.

use crate::harness::{Backend, TestDb};
use crate::{on_every_backend, plain_tests};

on_every_backend!(
    exit_0_on_success_and_2_on_usage_errors,
    exit_1_when_stored_data_is_unreadable,
    exit_3_for_unknown_products_everywhere,
    exit_5_when_conflicts_outlast_the_retries,
    exit_6_for_a_schema_newer_than_the_binary,
);

plain_tests!(
    exit_6_when_the_sqlite_file_cannot_be_created,
    exit_6_when_the_file_is_not_a_database,
    exit_6_when_the_mysql_server_cannot_be_reached,
    unsupported_url_scheme_is_a_usage_error,
    exit_6_when_a_read_names_an_sqlite_file_that_does_not_exist,
    the_default_database_is_created_by_a_first_read,
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
    assert_eq!(lines[0], "error: invalid --name \" \": expected non-blank text without control characters or bidirectional overrides, at most 200 characters");
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
/// lock timeout, every time: the adjustment gives up with exit 5 and writes
/// nothing. The lock timeout is the command's total, so the first wait
/// spends it and no second attempt follows.
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
    assert!(run.stderr.contains("gave up after 1 attempts"), "{run:?}");
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

fn exit_6_when_the_sqlite_file_cannot_be_created() {
    let db = TestDb::sqlite();
    let run = db
        .command()
        .env("MILLY_DATABASE_URL", "sqlite:/nonexistent-folder/milly.db")
        .args(["product", "create", "--name", "Mug", "--price", "1"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(6));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("cannot create the database file /nonexistent-folder/milly.db"),
        "{stderr}"
    );
}

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

/// A mistyped `--database-url` must not look like an empty catalog: reads
/// exit 6 and create nothing; writes and `db migrate` create the file.
fn exit_6_when_a_read_names_an_sqlite_file_that_does_not_exist() {
    let db = TestDb::sqlite();
    let path = db.home.path().join("dya.db");
    let url = format!("sqlite:{}", path.display());
    let id = "PROD01JD5Q3Z8X4N2M7K9P6R3T1V0W";
    for (i, args) in [
        vec!["product", "list"],
        vec!["product", "list", "--all"],
        vec!["product", "show", id],
        vec!["stock", "history", id],
        vec!["db", "status"],
        vec!["product", "history", id],
        vec!["discount", "list"],
        vec!["coupon", "list"],
        vec!["coupon", "show", "SAVE10"],
    ]
    .into_iter()
    .enumerate()
    {
        // Both spellings of an SQLite URL, from the flag and the environment.
        let shown = if i % 2 == 0 {
            url.clone()
        } else {
            path.display().to_string()
        };
        let mut all = vec!["--json", "--database-url", &shown];
        all.extend(&args);
        let output = db.command().args(&all).output().unwrap();
        assert_eq!(output.status.code(), Some(6), "{args:?}: {output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.starts_with(&format!(
                "error: the database file {} does not exist",
                path.display()
            )),
            "{args:?}: {stderr}"
        );
        assert!(stderr.contains("\"code\":\"database_unavailable\""));
        assert!(output.stdout.is_empty(), "{args:?}: {output:?}");
        let left: Vec<_> = std::fs::read_dir(db.home.path()).unwrap().collect();
        assert!(left.is_empty(), "{args:?} created {left:?}");
    }

    // Every write creates it: `db migrate`, a single-row write, an import.
    let writes: [&[&str]; 4] = [
        &["db", "migrate"],
        &["product", "create", "--name", "Mug", "--price", "1"],
        &["coupon", "deactivate", "NOSUCH"],
        &["import", "products", "--allow-empty", "/dev/null"],
    ];
    for args in writes {
        std::fs::remove_file(&path).ok();
        let run = db
            .command()
            .env("MILLY_DATABASE_URL", &url)
            .args(args)
            .output()
            .unwrap();
        let expected = if args[0] == "coupon" { 3 } else { 0 };
        assert_eq!(run.status.code(), Some(expected), "{args:?}: {run:?}");
        assert!(path.exists(), "{args:?} did not create the file");
    }
    let listed = db
        .command()
        .env("MILLY_DATABASE_URL", &url)
        .args(["--json", "product", "list"])
        .output()
        .unwrap();
    assert_eq!(listed.status.code(), Some(0), "{listed:?}");
    assert_eq!(String::from_utf8_lossy(&listed.stdout).trim(), "[]");
}

/// With no URL at all, the default database is created by any first command,
/// a read included.
fn the_default_database_is_created_by_a_first_read() {
    let db = TestDb::sqlite();
    let run = db
        .command()
        .env_remove("MILLY_DATABASE_URL")
        .args(["--json", "product", "list"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0), "{run:?}");
    assert_eq!(String::from_utf8_lossy(&run.stdout).trim(), "[]");
    assert!(db.home.path().join(".local/share/milly/milly.db").exists());
}
