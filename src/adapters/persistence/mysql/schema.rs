//! MySQL migrations, safe on one server and across a Galera cluster's nodes.
//!
//! MySQL commits every DDL statement on its own, so there is no transaction
//! to hide a half-applied schema in: each migration is one statement,
//! recorded right after it runs. Processes that start at once on a new
//! database take turns through a lease: a row of `milly_migration_lease`
//! that one process inserts and the others see, whichever node of a
//! cluster they use (a named lock, `GET_LOCK`, is local to one server, so
//! nodes would migrate side by side). A lease has an expiry, renewed after
//! every statement, so one left by a killed process is taken over once it
//! runs out; a process waits for the lease at most the lock timeout, then
//! exits 6. The holder reads what is applied again once it holds the lease.
//!
//! The ledger and the lease table are milly's bookkeeping, created outside
//! the versioned history, and only when `information_schema` says they are
//! missing: on Galera even a `CREATE TABLE IF NOT EXISTS` of an existing
//! table is replicated in total order and aborts other nodes' transactions
//! on the table (their record of a migration, say). On a cluster, reads
//! here wait until the node has applied what the cluster committed
//! (`wsrep_sync_wait`), so a node never acts on a stale view of the schema.
//!
//! A crash between a statement and its record leaves a table the ledger does
//! not know, which the next run reports (MySQL error 1050) instead of
//! silently adopting.
//!
//! The common case, an up-to-date database, costs one query and no lease.

use std::time::{Duration, Instant as Clock};

use ::mysql::prelude::Queryable;
use ::mysql::Conn;
use rand::Rng;

use super::errors::{is_missing_table, map_err, refused_with, Context, Secrets};
use super::rows;
use crate::adapters::persistence::migrations::{self, latest_version, Migration};
use crate::adapters::persistence::sql::{RECORDED_MIGRATIONS, RECORD_MIGRATION};
use crate::app::ports::StoreError;
use crate::domain::Instant;

pub const MIGRATIONS: &[Migration] = migrations::schema_history!("mysql");

const CREATE_LEDGER: &str = "CREATE TABLE IF NOT EXISTS milly_migrations (
    version    BIGINT       NOT NULL PRIMARY KEY,
    name       VARCHAR(200) NOT NULL,
    checksum   VARCHAR(32)  NOT NULL,
    applied_at DATETIME(6)  NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin";

const CREATE_LEASE: &str = "CREATE TABLE IF NOT EXISTS milly_migration_lease (
    name       VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
    holder     VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    expires_at DATETIME(6) NOT NULL
) ENGINE = InnoDB";

/// How long a lease lasts without renewal. It is renewed after every
/// statement, so only one statement has to fit (an ALTER of a large table
/// included); a lease left by a killed process blocks others this long.
const LEASE_SECS: u64 = 120;

/// The longest a migration statement may run: the lease's length.
pub const STATEMENT_LIMIT: Duration = Duration::from_secs(LEASE_SECS);

/// What a call may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upgrade {
    /// `db migrate`: apply every pending migration.
    All,
    /// Any other command: set up an empty database, but refuse to upgrade
    /// an existing older schema that other people's milly may still use.
    FirstUseOnly,
}

/// The newest applied version; 0 while the ledger table does not exist.
fn applied_version(conn: &mut Conn) -> ::mysql::Result<i64> {
    match conn.query_first::<Option<i64>, _>("SELECT MAX(version) FROM milly_migrations") {
        Ok(version) => Ok(version.flatten().unwrap_or(0)),
        Err(e) if is_missing_table(&e) => Ok(0),
        Err(e) => Err(e),
    }
}

/// The refusal of an older schema outside `db migrate`.
pub fn outdated(current: i64) -> StoreError {
    StoreError::SchemaOutdated(format!(
        "the database schema is version {current}, older than this milly's ({}); run `milly db migrate` to upgrade it (other milly installations using this database then need this version or newer)",
        latest_version(MIGRATIONS)
    ))
}

/// Brings the schema up to date as `upgrade` allows; returns the versions
/// applied. `wait` bounds the wait for another process's lease.
pub fn migrate(
    conn: &mut Conn,
    wait: Duration,
    upgrade: Upgrade,
    database: &str,
    secrets: &Secrets,
) -> Result<Vec<i64>, StoreError> {
    let db = |e| map_err(e, Context::Migrate, secrets);
    if !migrations::has_pending(MIGRATIONS, applied_version(conn).map_err(db)?)? {
        return Ok(Vec::new());
    }
    // Pending work, or another process setting up a new database right now:
    // either way, only the lease holder decides.
    sync_with_cluster(conn).map_err(db)?;
    create_bookkeeping(conn).map_err(db)?;
    let lease = Lease::acquire(conn, wait, database, secrets)?;
    let applied = apply_pending(conn, &lease, upgrade, secrets);
    // Released even when applying failed; an unreleased lease expires.
    let released = lease.release(conn);
    let applied = applied?;
    released.map_err(db)?;
    Ok(applied)
}

/// The versions `migrate` would apply, applying nothing.
pub fn pending(conn: &mut Conn, secrets: &Secrets) -> Result<Vec<i64>, StoreError> {
    let current = applied_version(conn).map_err(|e| map_err(e, Context::Read, secrets))?;
    migrations::versions_after(MIGRATIONS, current)
}

/// On a Galera node, makes this session's reads wait until the node has
/// applied every write the cluster committed before them.
fn sync_with_cluster(conn: &mut Conn) -> ::mysql::Result<()> {
    let wsrep: Option<(String, String)> = conn.query_first("SHOW VARIABLES LIKE 'wsrep_on'")?;
    if wsrep.is_some_and(|(_, on)| on.eq_ignore_ascii_case("ON")) {
        conn.query_drop("SET SESSION wsrep_sync_wait = 1")?;
    }
    Ok(())
}

/// Creates the ledger and the lease table where they are missing.
fn create_bookkeeping(conn: &mut Conn) -> ::mysql::Result<()> {
    let present: Vec<String> = conn.query(
        "SELECT TABLE_NAME FROM information_schema.TABLES
          WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('milly_migrations', 'milly_migration_lease')",
    )?;
    for (table, create) in [
        ("milly_migrations", CREATE_LEDGER),
        ("milly_migration_lease", CREATE_LEASE),
    ] {
        if !present.iter().any(|t| t == table) {
            conn.query_drop(create)?;
        }
    }
    Ok(())
}

/// The right to migrate, held by one process at a time across every node.
struct Lease {
    holder: String,
}

impl Lease {
    fn acquire(
        conn: &mut Conn,
        wait: Duration,
        database: &str,
        secrets: &Secrets,
    ) -> Result<Lease, StoreError> {
        let db = |e| map_err(e, Context::Migrate, secrets);
        let lease = Lease {
            holder: format!("{:016x}", rand::random::<u64>()),
        };
        let deadline = Clock::now() + wait;
        loop {
            // Held (1062), or inserted at the same moment on another node
            // (1213, a failed certification): wait for it.
            match conn.exec_drop(
                "INSERT INTO milly_migration_lease (name, holder, expires_at)
                 VALUES ('migrate', ?, UTC_TIMESTAMP(6) + INTERVAL ? SECOND)",
                (&lease.holder, LEASE_SECS),
            ) {
                Ok(()) => return Ok(lease),
                Err(e) if refused_with(&e).is_some() => {}
                Err(e) => return Err(db(e)),
            }
            // A lease whose holder stopped renewing it is taken over.
            match conn.exec_drop(
                "UPDATE milly_migration_lease SET holder = ?, expires_at = UTC_TIMESTAMP(6) + INTERVAL ? SECOND
                  WHERE name = 'migrate' AND expires_at < UTC_TIMESTAMP(6)",
                (&lease.holder, LEASE_SECS),
            ) {
                Ok(()) if conn.affected_rows() == 1 => return Ok(lease),
                Ok(()) => {}
                Err(e) if refused_with(&e).is_some() => {}
                Err(e) => return Err(db(e)),
            }
            if Clock::now() >= deadline {
                return Err(StoreError::Unavailable(format!(
                    "another process has been migrating database {database} for longer than the lock timeout ({} ms, --lock-timeout-ms); try again later (the lease of a process that was killed expires within {LEASE_SECS} s)",
                    wait.as_millis()
                )));
            }
            std::thread::sleep(Duration::from_millis(rand::rng().random_range(20..=80)));
        }
    }

    /// Extends the lease; fails if another process took it over.
    fn renew(&self, conn: &mut Conn) -> Result<(), StoreError> {
        let renewed = conn.exec_drop(
            "UPDATE milly_migration_lease SET expires_at = UTC_TIMESTAMP(6) + INTERVAL ? SECOND
              WHERE name = 'migrate' AND holder = ?",
            (LEASE_SECS, &self.holder),
        );
        match renewed {
            Ok(()) if conn.affected_rows() == 1 => Ok(()),
            Ok(()) => Err(StoreError::Unavailable(format!(
                "the migration lease expired (a statement ran for over {LEASE_SECS} s) and another process took it over; run `milly db migrate` again"
            ))),
            Err(e) => Err(StoreError::Unavailable(format!(
                "cannot renew the migration lease: {e}"
            ))),
        }
    }

    fn release(self, conn: &mut Conn) -> ::mysql::Result<()> {
        conn.exec_drop(
            "DELETE FROM milly_migration_lease WHERE name = 'migrate' AND holder = ?",
            (&self.holder,),
        )
    }
}

/// Runs under the lease: another process may have migrated while this one
/// waited, so what is applied is read again here.
fn apply_pending(
    conn: &mut Conn,
    lease: &Lease,
    upgrade: Upgrade,
    secrets: &Secrets,
) -> Result<Vec<i64>, StoreError> {
    let db = |e| map_err(e, Context::Migrate, secrets);
    let recorded: Vec<(i64, String)> = conn.query(RECORDED_MIGRATIONS).map_err(db)?;
    let pending = migrations::pending(MIGRATIONS, &recorded)?;
    if upgrade == Upgrade::FirstUseOnly && !pending.is_empty() && !recorded.is_empty() {
        let current = recorded.iter().map(|(v, _)| *v).max().unwrap_or(0);
        return Err(outdated(current));
    }
    let now = rows::datetime(Instant::from_datetime(chrono::Utc::now()));
    let mut applied = Vec::new();
    for m in pending {
        for statement in m.statements() {
            conn.query_drop(statement).map_err(db)?;
        }
        record(conn, m, &now).map_err(db)?;
        lease.renew(conn)?;
        applied.push(m.version);
    }
    Ok(applied)
}

/// Records a migration. On a cluster the insert can be aborted by another
/// node's DDL replicated at the same moment (1213); it is then tried again.
fn record(conn: &mut Conn, m: &Migration, now: &::mysql::Value) -> ::mysql::Result<()> {
    let mut tries = 0;
    loop {
        tries += 1;
        match conn.exec_drop(
            RECORD_MIGRATION,
            (m.version, m.name, m.checksum(), now.clone()),
        ) {
            Err(e) if tries < 10 && refused_with(&e) == Some(super::errors::code::DEADLOCK) => {
                std::thread::sleep(Duration::from_millis(10 * tries));
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dialect_lists_the_whole_history() {
        migrations::check_dialect("mysql", MIGRATIONS).unwrap();
    }

    /// MySQL commits each DDL statement on its own, so a version with two
    /// statements could be left half applied.
    #[test]
    fn each_migration_is_one_statement() {
        for m in MIGRATIONS {
            assert_eq!(m.statements().count(), 1, "{}", m.name);
        }
    }
}
