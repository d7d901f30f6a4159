//! MySQL migrations.
//!
//! MySQL commits every DDL statement on its own, so there is no transaction
//! to hide a half-applied schema in: each migration is one statement,
//! recorded right after it runs, and processes that start at once on a new
//! database take turns through a named server lock (`GET_LOCK`), re-reading
//! what is applied once they hold it. A crash between a statement and its
//! record leaves a table the ledger does not know, which the next run
//! reports (MySQL error 1050) instead of silently adopting.
//!
//! The common case, an up-to-date database, costs one query and no lock.

use ::mysql::prelude::Queryable;
use ::mysql::{Conn, Row};

use super::errors::{is_missing_table, map_err, Context, Secrets};
use super::rows;
use crate::adapters::persistence::migrations::{self, latest_version, verify_recorded, Migration};
use crate::app::ports::{StoreError, StoreStatus};
use crate::domain::Instant;

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "products",
        sql: include_str!("../../../../migrations/mysql/0001_products.sql"),
    },
    Migration {
        version: 2,
        name: "stock_events",
        sql: include_str!("../../../../migrations/mysql/0002_stock_events.sql"),
    },
    Migration {
        version: 3,
        name: "discounts",
        sql: include_str!("../../../../migrations/mysql/0003_discounts.sql"),
    },
    Migration {
        version: 4,
        name: "coupons",
        sql: include_str!("../../../../migrations/mysql/0004_coupons.sql"),
    },
    Migration {
        version: 5,
        name: "milly_locks",
        sql: include_str!("../../../../migrations/mysql/0005_milly_locks.sql"),
    },
];

/// The tables `db status` counts, oldest migration first.
const TABLES: [&str; 4] = ["products", "stock_events", "discounts", "coupons"];

const CREATE_LEDGER: &str = "CREATE TABLE IF NOT EXISTS milly_migrations (
    version    BIGINT       NOT NULL PRIMARY KEY,
    name       VARCHAR(200) NOT NULL,
    checksum   VARCHAR(32)  NOT NULL,
    applied_at DATETIME(6)  NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin";

/// Where migrations are serialized and how long a process waits its turn.
pub struct MigrationLock<'a> {
    pub database: &'a str,
    pub wait_secs: u64,
}

impl MigrationLock<'_> {
    /// Named locks are server-wide, so the name carries the database;
    /// MySQL caps names at 64 characters, and two long names that share
    /// a prefix merely take turns.
    fn name(&self) -> String {
        format!("milly_migrate_{}", self.database)
            .chars()
            .take(64)
            .collect()
    }
}

/// The newest applied version; 0 while the ledger table does not exist.
fn applied_version(conn: &mut Conn) -> ::mysql::Result<i64> {
    match conn.query_first::<Option<i64>, _>("SELECT MAX(version) FROM milly_migrations") {
        Ok(version) => Ok(version.flatten().unwrap_or(0)),
        Err(e) if is_missing_table(&e) => Ok(0),
        Err(e) => Err(e),
    }
}

fn too_new(found: i64) -> StoreError {
    StoreError::Unavailable(format!(
        "the database schema is version {found}, newer than this milly supports ({}); upgrade milly",
        latest_version(MIGRATIONS)
    ))
}

pub fn migrate(
    conn: &mut Conn,
    lock: &MigrationLock<'_>,
    secrets: &Secrets,
) -> Result<Vec<i64>, StoreError> {
    let db = |e| map_err(e, Context::Migrate, secrets);
    let latest = latest_version(MIGRATIONS);
    let current = applied_version(conn).map_err(db)?;
    if current == latest {
        return Ok(Vec::new());
    }
    if current > latest {
        return Err(too_new(current));
    }
    let name = lock.name();
    // 1 = acquired, 0 = timed out, NULL = error (e.g. killed while waiting).
    let acquired: Option<Option<i64>> = conn
        .exec_first("SELECT GET_LOCK(?, ?)", (&name, lock.wait_secs))
        .map_err(db)?;
    if acquired.flatten() != Some(1) {
        return Err(StoreError::Unavailable(format!(
            "another process has been migrating database {} for over {} s; try again later",
            lock.database, lock.wait_secs
        )));
    }
    let applied = apply_pending(conn, secrets);
    // Released even when applying failed; the server would release it when
    // the connection closes anyway.
    let released = conn.exec_drop("DO RELEASE_LOCK(?)", (&name,));
    let applied = applied?;
    released.map_err(db)?;
    Ok(applied)
}

/// Runs under the migration lock: another process may have migrated while
/// this one waited, so what is applied is read again here.
fn apply_pending(conn: &mut Conn, secrets: &Secrets) -> Result<Vec<i64>, StoreError> {
    let db = |e| map_err(e, Context::Migrate, secrets);
    conn.query_drop(CREATE_LEDGER).map_err(db)?;
    let recorded: Vec<(i64, String)> = conn
        .query("SELECT version, checksum FROM milly_migrations ORDER BY version")
        .map_err(db)?;
    if let Some(&(newest, _)) = recorded.last() {
        if newest > latest_version(MIGRATIONS) {
            return Err(too_new(newest));
        }
    }
    verify_recorded(MIGRATIONS, &recorded).map_err(StoreError::Unavailable)?;
    let now = rows::datetime(Instant::from_datetime(chrono::Utc::now()));
    let mut applied = Vec::new();
    for m in MIGRATIONS
        .iter()
        .filter(|m| !recorded.iter().any(|(v, _)| *v == m.version))
    {
        for statement in m.statements() {
            conn.query_drop(statement).map_err(db)?;
        }
        conn.exec_drop(
            "INSERT INTO milly_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
            (m.version, m.name, m.checksum(), now.clone()),
        )
        .map_err(db)?;
        applied.push(m.version);
    }
    Ok(applied)
}

pub fn status(
    conn: &mut Conn,
    location: String,
    secrets: &Secrets,
) -> Result<StoreStatus, StoreError> {
    let db = |e| map_err(e, Context::Read, secrets);
    let ledger: Vec<Row> =
        match conn.query("SELECT version, applied_at FROM milly_migrations ORDER BY version") {
            Ok(rows) => rows,
            Err(e) if is_missing_table(&e) => Vec::new(),
            Err(e) => return Err(db(e)),
        };
    let mut applied: Vec<(i64, Instant)> = Vec::with_capacity(ledger.len());
    for row in &ledger {
        let version = row
            .get_opt::<i64, usize>(0)
            .and_then(Result::ok)
            .ok_or_else(|| StoreError::Internal("unreadable milly_migrations.version".into()))?;
        applied.push((version, rows::instant(row, 1)?));
    }
    let migrations = migrations::states(MIGRATIONS, &applied);
    let mut counts = [0i64; TABLES.len()];
    for (count, table) in counts.iter_mut().zip(TABLES) {
        // A table a pending migration has yet to create holds no rows.
        *count = match conn.query_first::<i64, _>(format!("SELECT COUNT(*) FROM {table}")) {
            Ok(n) => n.unwrap_or(0),
            Err(e) if is_missing_table(&e) => 0,
            Err(e) => return Err(db(e)),
        };
    }
    let [products, stock_events, discounts, coupons] = counts;
    Ok(StoreStatus {
        backend: "mysql",
        location,
        schema_version: applied.iter().map(|(v, _)| *v).max().unwrap_or(0),
        supported_version: latest_version(MIGRATIONS),
        migrations,
        products,
        stock_events,
        discounts,
        coupons,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_migration_is_one_statement() {
        for m in MIGRATIONS {
            assert_eq!(m.statements().count(), 1, "{}", m.name);
        }
        let versions: Vec<i64> = MIGRATIONS.iter().map(|m| m.version).collect();
        assert_eq!(versions, (1..=MIGRATIONS.len() as i64).collect::<Vec<_>>());
    }

    #[test]
    fn lock_names_fit_mysql_limit() {
        let long = "d".repeat(64);
        let lock = MigrationLock {
            database: &long,
            wait_secs: 1,
        };
        assert_eq!(lock.name().chars().count(), 64);
    }
}
