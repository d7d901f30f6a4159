//! SQLite migrations: applied in one immediate transaction, so processes
//! that open a new database at once queue on the write lock and each
//! migration runs exactly once.
//!
//! `PRAGMA user_version` mirrors the newest applied version: the common case,
//! an up-to-date database, costs one header read and no lock.

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::errors::{map_err, Context};
use crate::adapters::persistence::migrations::{self, latest_version, Migration};
use crate::adapters::persistence::sql::{RECORDED_MIGRATIONS, RECORD_MIGRATION};
use crate::app::ports::StoreError;
use crate::domain::Instant;

pub const MIGRATIONS: &[Migration] = migrations::schema_history!("sqlite");

/// milly 0.1.0 created the whole SQLite schema as one migration, version 1
/// "initial", with this checksum. The same tables are versions 1–5 of the
/// shared history, so such a database is adopted by rewriting its record.
const RELEASE_0_1_INITIAL_CHECKSUM: &str = "8d0240fc7907ed18";
const RELEASE_0_1_VERSIONS: i64 = 5;

const CREATE_LEDGER: &str = "CREATE TABLE IF NOT EXISTS milly_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL,
    applied_at TEXT NOT NULL
)";

pub fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

pub fn migrate(conn: &Connection) -> Result<Vec<i64>, StoreError> {
    let current = user_version(conn).map_err(|e| map_err(e, Context::Read))?;
    if !migrations::has_pending(MIGRATIONS, current)? {
        return Ok(Vec::new());
    }
    let apply = || -> Result<Vec<i64>, StoreError> {
        let db = |e| map_err(e, Context::Write);
        let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)
            .map_err(db)?;
        // Another process may have migrated while we waited for the lock.
        migrations::has_pending(MIGRATIONS, user_version(&tx).map_err(db)?)?;
        tx.execute_batch(CREATE_LEDGER).map_err(db)?;
        adopt_release_0_1(&tx).map_err(db)?;
        let now = Instant::from_datetime(chrono::Utc::now()).to_rfc3339();
        let mut applied = Vec::new();
        for m in migrations::pending(MIGRATIONS, &recorded(&tx).map_err(db)?)? {
            tx.execute_batch(m.sql)
                .map_err(|e| map_err(e, Context::Migrate))?;
            record(&tx, m, &now).map_err(db)?;
            applied.push(m.version);
        }
        tx.pragma_update(None, "user_version", latest_version(MIGRATIONS))
            .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(applied)
    };
    apply()
}

/// The versions `migrate` would apply, applying nothing: a database made by
/// milly 0.1.0 counts as having versions 1–5, as `migrate` would adopt it.
pub fn pending(conn: &Connection) -> Result<Vec<i64>, StoreError> {
    let db = |e| map_err(e, Context::Read);
    if !migrations::has_pending(MIGRATIONS, user_version(conn).map_err(db)?)? {
        return Ok(Vec::new());
    }
    let has_ledger: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'milly_migrations'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(db)?;
    let mut recorded = match has_ledger {
        Some(_) => recorded(conn).map_err(db)?,
        None => Vec::new(),
    };
    if recorded == [(1, RELEASE_0_1_INITIAL_CHECKSUM.to_owned())] {
        recorded = MIGRATIONS
            .iter()
            .take_while(|m| m.version <= RELEASE_0_1_VERSIONS)
            .map(|m| (m.version, m.checksum()))
            .collect();
    }
    Ok(migrations::pending(MIGRATIONS, &recorded)?
        .iter()
        .map(|m| m.version)
        .collect())
}

fn record(conn: &Connection, m: &Migration, applied_at: &str) -> rusqlite::Result<()> {
    conn.execute(
        RECORD_MIGRATION,
        params![m.version, m.name, m.checksum(), applied_at],
    )
    .map(drop)
}

/// Rewrites milly 0.1.0's single "initial" record as the versions of the
/// shared history it created, keeping when it was applied. The tables are
/// the same, so nothing else changes.
fn adopt_release_0_1(conn: &Connection) -> rusqlite::Result<()> {
    let applied_at: Option<String> = conn
        .query_row(
            "SELECT applied_at FROM milly_migrations WHERE version = 1 AND name = 'initial' AND checksum = ?1",
            [RELEASE_0_1_INITIAL_CHECKSUM],
            |r| r.get(0),
        )
        .optional()?;
    let Some(applied_at) = applied_at else {
        return Ok(());
    };
    conn.execute("DELETE FROM milly_migrations WHERE version = 1", [])?;
    for m in MIGRATIONS
        .iter()
        .take_while(|m| m.version <= RELEASE_0_1_VERSIONS)
    {
        record(conn, m, &applied_at)?;
    }
    Ok(())
}

fn recorded(conn: &Connection) -> rusqlite::Result<Vec<(i64, String)>> {
    let mut stmt = conn.prepare(RECORDED_MIGRATIONS)?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn every_migration_applies_to_an_empty_database() {
        use crate::app::ports::SchemaStore;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("migrations.db");
        let store = super::super::SqliteStore::open(&path, Duration::from_secs(5), true).unwrap();
        let conn = &store.db.conn;
        let all: Vec<i64> = MIGRATIONS.iter().map(|m| m.version).collect();
        assert_eq!(migrate(conn).unwrap(), all);
        assert_eq!(migrate(conn).unwrap(), Vec::<i64>::new());
        let status = store.status().unwrap();
        assert_eq!(status.schema_version, latest_version(MIGRATIONS));
        assert!(status.migrations.iter().all(|m| m.applied_at.is_some()));
    }

    #[test]
    fn the_dialect_lists_the_whole_history() {
        migrations::check_dialect("sqlite", MIGRATIONS).unwrap();
    }

    #[test]
    fn refuses_a_newer_schema() {
        let conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        assert!(matches!(migrate(&conn), Err(StoreError::Unavailable(m)) if m.contains("newer")));
    }
}
