//! `--dry-run`: every write command prints what it would print and exits
//! as it would, and the database is left byte for byte as it was.

use crate::harness::{Backend, Run, TestDb};
use crate::{on_every_backend, plain_tests};

on_every_backend!(
    every_write_command_prints_and_exits_as_for_real_and_writes_nothing,
    a_dry_run_neither_creates_nor_migrates_a_database,
);

plain_tests!(a_dry_run_on_the_default_database_creates_no_folder_and_no_file);

/// What proves that nothing was written: every table's row count, and the
/// bytes of the SQLite file and its write-ahead log, or the server's
/// checksum of every table.
#[derive(Debug, PartialEq, Eq)]
struct Fingerprint {
    counts: Vec<(String, i64)>,
    content: Vec<(String, String)>,
}

const TABLES: &[&str] = &[
    "products",
    "stock_events",
    "discounts",
    "coupons",
    "milly_migrations",
    "milly_locks",
];

fn fingerprint(db: &TestDb) -> Fingerprint {
    let content = match db.backend {
        Backend::Sqlite => {
            let main = db.sqlite_path();
            let wal = main.with_extension("db-wal");
            [main, wal]
                .iter()
                .map(|path| {
                    let bytes = std::fs::read(path).unwrap_or_default();
                    (
                        path.display().to_string(),
                        format!("{} bytes {:x}", bytes.len(), fnv(&bytes)),
                    )
                })
                .collect()
        }
        Backend::Mysql => {
            use mysql::prelude::Queryable;
            let mut conn = mysql::Conn::new(mysql::Opts::from_url(&db.url).unwrap()).unwrap();
            let rows: Vec<(String, Option<u64>)> = conn
                .query(format!("CHECKSUM TABLE {}", TABLES.join(", ")))
                .unwrap();
            rows.into_iter()
                .map(|(table, sum)| (table, format!("{sum:?}")))
                .collect()
        }
    };
    // SQLite has no lock table: its write lock covers the whole file.
    let counts = TABLES
        .iter()
        .filter(|t| match db.backend {
            Backend::Sqlite => **t != "milly_locks",
            Backend::Mysql => true,
        })
        .map(|t| {
            (
                t.to_string(),
                db.query_i64(&format!("SELECT count(*) FROM {t}")),
            )
        })
        .collect();
    Fingerprint { counts, content }
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Ids are random: each becomes `<id>` so that two runs compare equal.
fn masked(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    'scan: while !rest.is_empty() {
        for prefix in ["PROD", "EVT", "DISC", "CPN"] {
            if let Some(after) = rest.strip_prefix(prefix) {
                let ulid = after.chars().take(26).collect::<String>();
                if ulid.len() == 26 && ulid.chars().all(|c| c.is_ascii_alphanumeric()) {
                    out.push_str("<id>");
                    rest = &after[26..];
                    continue 'scan;
                }
            }
        }
        let c = rest.chars().next().unwrap();
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn write_file(db: &TestDb, name: &str, content: &str) -> String {
    let path = db.home.path().join(name);
    std::fs::write(&path, content).unwrap();
    path.to_str().unwrap().to_owned()
}

/// Runs `args` as a dry run, checks that the database did not change, then
/// for real, and checks that both printed and exited the same.
fn dry_then_real(db: &TestDb, args: &[&str]) -> Run {
    let before = fingerprint(db);
    let mut dry = vec!["--dry-run", "-o", "json"];
    dry.extend_from_slice(args);
    let dry = db.run(&dry);
    assert_eq!(fingerprint(db), before, "{args:?} wrote something: {dry:?}");
    let mut real = vec!["-o", "json"];
    real.extend_from_slice(args);
    let real = db.run(&real);
    assert_eq!(
        (dry.code, masked(&dry.stdout), masked(&dry.stderr)),
        (real.code, masked(&real.stdout), masked(&real.stderr)),
        "{args:?}"
    );
    real
}

fn every_write_command_prints_and_exits_as_for_real_and_writes_nothing(db: &TestDb) {
    let a = db.product("A", "10", "10");
    db.json(&[
        "coupon",
        "create",
        "--user",
        "u0",
        "--percent",
        "5",
        "--valid-to",
        "2030-01-01",
        "--code",
        "TAKEN1",
    ]);
    let ghost = "PROD01JD5Q3Z8X4N2M7K9P6R3T1V0W";
    let products: String = (0..1_200)
        .map(|i| format!("{{\"name\":\"P{i}\",\"price\":\"{i}.50\",\"stock_changes\":[3,-1],\"discount_percent\":5}}\n"))
        .collect();
    let products = write_file(db, "products.ndjson", &products);
    let coupons = write_file(
        db,
        "coupons.csv",
        "user,percent,valid_to,code\nu1,5,2030-01-01,BULK1\nu2,7,2030-01-01,BULK2\n",
    );
    let taken = write_file(
        db,
        "taken.csv",
        "user,percent,valid_to,code\nu1,5,2030-01-01,BULK3\nu2,7,2030-01-01,taken1\n",
    );
    let feed = write_file(
        db,
        "feed.csv",
        &format!("product_id,change\n{a},+5\n{a},-12\n"),
    );
    let bad_feed = write_file(
        db,
        "bad.csv",
        &format!("product_id,change\n{a},+1\n{a},-99\n"),
    );
    let commands: Vec<(Vec<&str>, i32)> = vec![
        (
            vec![
                "product", "create", "--name", "B", "--price", "2", "--stock", "5",
            ],
            0,
        ),
        (vec!["product", "create", "--name", "", "--price", "2"], 2),
        (
            vec!["stock", "adjust", &a, "--change", "-3", "--reason", "sale"],
            0,
        ),
        (vec!["stock", "adjust", &a, "--change", "-300"], 4),
        (
            vec![
                "stock",
                "adjust",
                &a,
                "--change",
                "+1",
                "--expect-version",
                "1",
            ],
            4,
        ),
        (
            vec![
                "stock",
                "adjust",
                &a,
                "--change",
                "+1",
                "--expect-version",
                "2",
            ],
            0,
        ),
        (vec!["stock", "adjust", ghost, "--change", "+1"], 3),
        (vec!["discount", "set", &a, "--percent", "20"], 0),
        (
            vec![
                "discount",
                "set",
                &a,
                "--percent",
                "12.5",
                "--from",
                "2025-05-15",
            ],
            0,
        ),
        // A window already over: refused as for real.
        (
            vec![
                "discount",
                "set",
                &a,
                "--percent",
                "12.5",
                "--from",
                "2025-01-01",
            ],
            2,
        ),
        (vec!["discount", "set", ghost, "--percent", "20"], 3),
        (vec!["discount", "clear", &a], 0),
        (vec!["product", "update", &a, "--price", "3.50"], 0),
        (vec!["product", "update", &a], 2),
        (vec!["product", "archive", &a], 0),
        (vec!["product", "unarchive", &a], 0),
        (
            vec![
                "coupon",
                "create",
                "--user",
                "u1",
                "--percent",
                "5",
                "--valid-to",
                "2030-01-01",
                "--code",
                "NEW1",
            ],
            0,
        ),
        (
            vec![
                "coupon",
                "create",
                "--user",
                "u1",
                "--percent",
                "5",
                "--valid-to",
                "2030-01-01",
                "--code",
                "taken1",
            ],
            4,
        ),
        (vec!["coupon", "deactivate", "taken1"], 0),
        (vec!["coupon", "deactivate", "NOSUCH"], 3),
        (vec!["import", "products", &products], 0),
        (vec!["import", "coupons", &coupons], 0),
        (vec!["import", "coupons", &taken], 4),
        (vec!["import", "stock", &feed], 0),
        (vec!["import", "stock", &bad_feed], 4),
        (vec!["db", "migrate"], 0),
    ];
    for (args, code) in &commands {
        let run = dry_then_real(db, args);
        assert_eq!(run.code, *code, "{args:?}: {run:?}");
    }
    // The real runs did write: the dry runs were checked against a
    // database that changed between them.
    assert_eq!(db.query_i64("SELECT count(*) FROM products"), 1 + 1 + 1_200);
    assert_eq!(
        db.json(&["product", "show", &a])["stock_count"],
        10 - 3 + 1 + 5 - 12
    );
}

fn a_dry_run_neither_creates_nor_migrates_a_database(db: &TestDb) {
    let write = [
        "--dry-run",
        "product",
        "create",
        "--name",
        "A",
        "--price",
        "1",
    ];
    match db.backend {
        Backend::Sqlite => {
            let run = db.run(&write).expect(6);
            assert!(run.stderr.contains("does not exist"), "{run:?}");
            assert!(!db.sqlite_path().exists());
            db.run(&["--dry-run", "db", "migrate"]).expect(6);
            assert!(!db.sqlite_path().exists());
            // An older schema: the dry run lists what it would apply.
            std::fs::copy(
                concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/tests/fixtures/release-0.1.0.sqlite"
                ),
                db.sqlite_path(),
            )
            .unwrap();
        }
        // A fresh server database is set up by the first command, but not
        // by a dry run.
        Backend::Mysql => {}
    }
    let before = fingerprint_files(db);
    let run = db.run(&[
        "-o",
        "json",
        "--dry-run",
        "product",
        "create",
        "--name",
        "A",
        "--price",
        "1",
    ]);
    assert_eq!(run.code, 6, "{run:?}");
    assert!(
        run.stderr.contains("\"code\":\"schema_outdated\""),
        "{run:?}"
    );
    let listed = db
        .run(&["-o", "json", "--dry-run", "db", "migrate"])
        .expect(0)
        .json();
    let supported = db
        .run(&["-o", "json", "--dry-run", "db", "status"])
        .expect(0)
        .json()["supported_schema_version"]
        .clone();
    assert_eq!(listed["schema_version"], supported);
    let applied: Vec<i64> = listed["applied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    let latest = supported.as_i64().unwrap();
    match db.backend {
        Backend::Sqlite => assert_eq!(
            applied,
            (6..=latest).collect::<Vec<_>>(),
            "0.1.0 had versions 1-5"
        ),
        Backend::Mysql => assert_eq!(applied, (1..=latest).collect::<Vec<_>>()),
    }
    assert_eq!(fingerprint_files(db), before);
    // The real run then applies exactly what the dry run listed.
    let real = db.run(&["-o", "json", "db", "migrate"]).expect(0).json();
    assert_eq!(real["applied"], listed["applied"]);
}

/// The SQLite file's bytes, or the names of the server database's tables.
fn fingerprint_files(db: &TestDb) -> Vec<String> {
    match db.backend {
        Backend::Sqlite => vec![format!(
            "{:x}",
            fnv(&std::fs::read(db.sqlite_path()).unwrap())
        )],
        Backend::Mysql => db.query_strings("SHOW TABLES"),
    }
}

/// The default database is created by any first command, but not by a dry
/// run: not even its folder.
fn a_dry_run_on_the_default_database_creates_no_folder_and_no_file() {
    let db = TestDb::sqlite();
    let run = db
        .command()
        .env_remove("MILLY_DATABASE_URL")
        .args([
            "--dry-run",
            "product",
            "create",
            "--name",
            "Mug",
            "--price",
            "1",
        ])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(6), "{run:?}");
    assert!(!db.home.path().join(".local").exists());
}
