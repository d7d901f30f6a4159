//! Where and how the SQLite database is stored.

#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;

use crate::harness::TestDb;
use crate::plain_tests;

plain_tests!(
    the_default_database_lives_in_the_data_directory_and_is_private,
    an_explicit_database_file_is_created_private_with_wal_and_foreign_keys,
    db_status_on_a_new_database_shows_pending_migrations_and_migrate_applies_them,
);

fn the_default_database_lives_in_the_data_directory_and_is_private() {
    let db = TestDb::sqlite();
    let run = db
        .command()
        .env_remove("MILLY_DATABASE_URL")
        .args([
            "-o", "json", "product", "create", "--name", "Mug", "--price", "1",
        ])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0), "{run:?}");
    let folder = db.home.path().join(".local/share/milly");
    let file = folder.join("milly.db");
    #[cfg(unix)]
    {
        assert_eq!(
            std::fs::metadata(&folder).unwrap().permissions().mode() & 0o777,
            0o700
        );
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    let status = db
        .command()
        .env_remove("MILLY_DATABASE_URL")
        .args(["--json", "db", "status"])
        .output()
        .unwrap();
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["location"], format!("sqlite:{}", file.display()));
    assert_eq!(status["products"], 1);
}

fn an_explicit_database_file_is_created_private_with_wal_and_foreign_keys() {
    let db = TestDb::sqlite();
    db.product("Mug", "1", "0");
    #[cfg(unix)]
    {
        let mode = std::fs::metadata(db.sqlite_path())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }
    assert_eq!(db.query_strings("PRAGMA journal_mode"), ["wal"]);
    // The schema's own guards hold even against raw SQL.
    let conn = rusqlite::Connection::open(db.sqlite_path()).unwrap();
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    let orphan = conn.execute(
        "INSERT INTO stock_events (id, product_id, change, total_after_change, version, created_at) VALUES ('EVTX', 'PRODX', 1, 1, 1, 'x')",
        [],
    );
    assert!(orphan.is_err(), "an event for a missing product is refused");
}

fn db_status_on_a_new_database_shows_pending_migrations_and_migrate_applies_them() {
    let db = TestDb::sqlite();
    // An empty file, as another tool may leave it: a database without tables.
    std::fs::write(db.sqlite_path(), b"").unwrap();
    let status = db.json(&["db", "status"]);
    assert_eq!(status["backend"], "sqlite");
    assert_eq!(status["schema_version"], 0);
    assert!(status["migrations"][0]["applied_at"].is_null());
    let migrated = db.json(&["db", "migrate"]);
    assert_eq!(migrated["applied"][0]["version"], 1);
    assert_eq!(
        db.json(&["db", "migrate"])["applied"],
        serde_json::json!([])
    );
    assert_eq!(
        db.json(&["db", "status"])["schema_version"],
        status["supported_schema_version"]
    );
}
