//! SQLite migrations: applied in one immediate transaction, so processes
//! that open a new database at once queue on the write lock and each
//! migration runs exactly once.
//!
//! `PRAGMA user_version` mirrors the newest applied version: the common case,
//! an up-to-date database, costs one header read and no lock.

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::errors::{map_err, Context};
use crate::adapters::persistence::migrations::{self, latest_version, verify_recorded, Migration};
use crate::app::ports::{StoreError, StoreStatus};
use crate::domain::Instant;

pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "initial",
    sql: include_str!("../../../../migrations/sqlite/0001_initial.sql"),
}];

const CREATE_LEDGER: &str = "CREATE TABLE IF NOT EXISTS milly_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL,
    applied_at TEXT NOT NULL
)";

fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

fn too_new(found: i64) -> StoreError {
    StoreError::Unavailable(format!(
        "the database schema is version {found}, newer than this milly supports ({}); upgrade milly",
        latest_version(MIGRATIONS)
    ))
}

pub fn migrate(conn: &Connection) -> Result<Vec<i64>, StoreError> {
    let latest = latest_version(MIGRATIONS);
    let current = user_version(conn).map_err(|e| map_err(e, Context::Open))?;
    if current == latest {
        return Ok(Vec::new());
    }
    if current > latest {
        return Err(too_new(current));
    }
    let apply = || -> Result<Vec<i64>, StoreError> {
        let db = |e| map_err(e, Context::Write);
        let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)
            .map_err(db)?;
        // Another process may have migrated while we waited for the lock.
        let current = user_version(&tx).map_err(db)?;
        if current > latest {
            return Err(too_new(current));
        }
        tx.execute_batch(CREATE_LEDGER).map_err(db)?;
        verify_recorded(MIGRATIONS, &recorded(&tx).map_err(db)?)
            .map_err(StoreError::Unavailable)?;
        let now = Instant::from_datetime(chrono::Utc::now()).to_rfc3339();
        let mut applied = Vec::new();
        for m in MIGRATIONS.iter().filter(|m| m.version > current) {
            tx.execute_batch(m.sql)
                .map_err(|e| map_err(e, Context::Migrate))?;
            tx.execute(
                "INSERT INTO milly_migrations (version, name, checksum, applied_at) VALUES (?1, ?2, ?3, ?4)",
                params![m.version, m.name, m.checksum(), now],
            )
            .map_err(db)?;
            applied.push(m.version);
        }
        tx.pragma_update(None, "user_version", latest).map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(applied)
    };
    apply()
}

fn recorded(conn: &Connection) -> rusqlite::Result<Vec<(i64, String)>> {
    let mut stmt =
        conn.prepare("SELECT version, checksum FROM milly_migrations ORDER BY version")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

pub fn status(conn: &Connection, location: String) -> Result<StoreStatus, StoreError> {
    let db = |e| map_err(e, Context::Read);
    let schema_version = user_version(conn).map_err(db)?;
    let has_ledger: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'milly_migrations'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(db)?;
    let mut applied: Vec<(i64, String)> = Vec::new();
    if has_ledger.is_some() {
        let mut stmt = conn
            .prepare("SELECT version, applied_at FROM milly_migrations ORDER BY version")
            .map_err(db)?;
        applied = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|rows| rows.collect())
            .map_err(db)?;
    }
    let applied: Vec<(i64, Instant)> = applied
        .into_iter()
        .filter_map(|(v, at)| Instant::from_stored(&at).ok().map(|at| (v, at)))
        .collect();
    let migrations = migrations::states(MIGRATIONS, &applied);
    let count = |table: &str| -> Result<i64, StoreError> {
        if schema_version == 0 {
            return Ok(0);
        }
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .map_err(db)
    };
    Ok(StoreStatus {
        backend: "sqlite",
        location,
        schema_version,
        supported_version: latest_version(MIGRATIONS),
        migrations,
        products: count("products")?,
        stock_events: count("stock_events")?,
        discounts: count("discounts")?,
        coupons: count("coupons")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_applies_to_an_empty_database() {
        let conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&conn).unwrap(), vec![1]);
        assert_eq!(migrate(&conn).unwrap(), Vec::<i64>::new());
        let status = status(&conn, "sqlite::memory:".into()).unwrap();
        assert_eq!(status.schema_version, 1);
        assert!(status.migrations.iter().all(|m| m.applied_at.is_some()));
    }

    #[test]
    fn refuses_a_newer_schema() {
        let conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        assert!(matches!(migrate(&conn), Err(StoreError::Unavailable(m)) if m.contains("newer")));
    }
}
