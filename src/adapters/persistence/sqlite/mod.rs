//! The SQLite store: the embedded default.
//!
//! One connection per process, WAL journal (readers never block the writer),
//! `synchronous = FULL` (a commit survives power loss), foreign keys on, and
//! a busy handler so concurrent writers queue instead of failing at once.
//!
//! Every write transaction is IMMEDIATE: it holds SQLite's single write lock
//! from its first statement, so writers queue at the start instead of failing
//! at their first write, and what a write checks cannot change before it
//! commits. Rows therefore need no locks of their own.

mod busy;
mod errors;
mod rows;
mod schema;
mod url;

use std::fs::OpenOptions;
#[cfg(unix)]
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{params_from_iter, Connection, OpenFlags, ToSql};

use crate::adapters::persistence::paging::PagePlan;
use crate::adapters::persistence::sql::{
    Arg, Dialect, Each, LockTimeout, PageQuery, SqlStore, Stored,
};
use crate::app::ports::{SchemaStore, StoreError, StoreStatus};
use errors::{map_err, Context};
use rows::SqliteRow;
pub use url::{file, SqliteBackend};

/// Page cache for bulk writes, in KiB.
const IMPORT_CACHE_KIB: i64 = 256 * 1024;

/// Prepared statements kept per connection: every statement milly runs,
/// with room for the IN lists of a stock import's chunk sizes.
const STATEMENT_CACHE: usize = 64;

pub type SqliteStore = SqlStore<Sqlite>;

/// SQLite's connection and what it does in its own words.
pub struct Sqlite {
    conn: busy::WaitingConnection,
    path: PathBuf,
}

impl SqlStore<Sqlite> {
    /// Opens the database at `path`, creating it (readable by its owner
    /// only) if it is missing and `create` allows. The folder must exist:
    /// milly creates only its own default one.
    pub fn open(path: &Path, busy_timeout: Duration, create: bool) -> Stored<Self> {
        create_private_file(path, create)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let location = path.display().to_string();
        let open_err = |e| map_err(e, Context::Connect(&location));
        let conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let lock_timeout = LockTimeout::new(busy_timeout);
        let conn = busy::WaitingConnection::new(conn, lock_timeout).map_err(open_err)?;
        busy::retry_until(lock_timeout, || configure(&conn)).map_err(open_err)?;
        let db = Sqlite {
            conn,
            path: path.to_path_buf(),
        };
        Ok(SqlStore::new(db, false))
    }
}

/// WAL, foreign keys and durable commits for this connection.
fn configure(conn: &Connection) -> rusqlite::Result<()> {
    // Asking first avoids taking a write lock on every start once the
    // database is already in WAL mode.
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))?;
    }
    conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;")
}

/// Creates the file with mode 0600 before SQLite opens it, so the catalog is
/// never readable by others, not even for a moment. `create` without
/// `truncate` leaves an existing database untouched.
fn create_private_file(path: &Path, create: bool) -> Stored {
    if path.exists() {
        return Ok(());
    }
    if !create {
        return Err(StoreError::Unavailable(format!(
            "the database file {} does not exist; check the path (a write command or `milly db migrate` creates it)",
            path.display()
        )));
    }
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    options.mode(0o600);
    options.open(path).map(drop).map_err(|e| {
        StoreError::Unavailable(format!(
            "cannot create the database file {}: {e}",
            path.display()
        ))
    })
}

/// An argument as SQLite stores it; times as fixed-width RFC 3339 text.
impl ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Arg::Null => ToSqlOutput::Owned(Value::Null),
            Arg::Int(n) => ToSqlOutput::Owned(Value::Integer(*n)),
            Arg::Text(text) => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
            Arg::Time(at) => ToSqlOutput::Owned(Value::Text(at.to_rfc3339())),
        })
    }
}

impl Dialect for Sqlite {
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    const BEGIN_SNAPSHOT: &'static str = "BEGIN";
    const TABLES: &'static str = "SELECT name FROM sqlite_master WHERE type = 'table'";

    fn execute(&self, cx: Context, sql: &str, args: &[Arg]) -> Stored<u64> {
        self.conn
            .prepare_cached(sql)
            .and_then(|mut s| s.execute(params_from_iter(args)))
            .map(|n| n as u64)
            .map_err(|e| map_err(e, cx))
    }

    fn query(&self, cx: Context, sql: &str, args: &[Arg], each: Each) -> Stored {
        let err = |e| map_err(e, cx);
        let mut stmt = self.conn.prepare_cached(sql).map_err(err)?;
        let mut rows = stmt.query(params_from_iter(args)).map_err(err)?;
        while let Some(row) = rows.next().map_err(err)? {
            if each(&SqliteRow(row))?.is_break() {
                break;
            }
        }
        Ok(())
    }

    fn batch(&self, cx: Context, sql: &str) -> Stored {
        self.conn.execute_batch(sql).map_err(|e| map_err(e, cx))
    }

    /// A failed COMMIT (the busy timeout ran out) leaves the transaction
    /// open: it is rolled back, so the connection stays usable.
    fn end(&self, commit: bool, cx: Context) -> Stored {
        let result = self
            .conn
            .execute_batch(if commit { "COMMIT" } else { "ROLLBACK" });
        if result.is_err() && !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        result.map_err(|e| map_err(e, cx))
    }

    /// The write transaction holds the database: no one else adds one.
    fn next_position(&self) -> Stored<i64> {
        let sql = "SELECT COALESCE(MAX(seq), 0) + 1 FROM products";
        self.conn
            .prepare_cached(sql)
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .map_err(|e| map_err(e, Context::Write))
    }

    fn index_name(&self, position: i64, folded: &str) -> Stored {
        let sql = "INSERT INTO products_name_search (rowid, name_folded) VALUES (?, ?)";
        self.execute(Context::Write, sql, &[position.into(), folded.into()])
            .map(drop)
    }

    /// The trigram index holds the folded names (external content): the
    /// old entry is removed with its old text, the new one added.
    fn reindex_name(&self, position: i64, old: &str, new: &str) -> Stored {
        let sql = "INSERT INTO products_name_search (products_name_search, rowid, name_folded)
                   VALUES ('delete', ?, ?)";
        self.execute(Context::Write, sql, &[position.into(), old.into()])?;
        self.index_name(position, new)
    }

    /// Names are indexed in one pass at the end.
    type ImportNames = ();

    fn import_name(&self, (): &mut (), _: i64, _: &str) -> Stored {
        Ok(())
    }

    /// Products are numbered densely, so the new ones are exactly those
    /// from `first` on.
    fn finish_import(&self, (): (), first: i64) -> Stored {
        let sql = "INSERT INTO products_name_search (rowid, name_folded)
                   SELECT seq, name_folded FROM products WHERE seq >= ?";
        self.execute(Context::Write, sql, &[first.into()]).map(drop)
    }

    /// A bulk write touches its products' ledgers and indexes in any order:
    /// a large page cache keeps what it has read in memory instead of
    /// reading (or spilling) the same pages again for every row.
    fn before_bulk(&self) -> Stored {
        self.conn
            .pragma_update(None, "cache_size", -IMPORT_CACHE_KIB)
            .map_err(|e| map_err(e, Context::Write))
    }

    /// Without a filter, positions are dense: a page is the range after a
    /// position, found in the primary key without reading skipped rows. A
    /// filter of three or more characters reads the trigram index in
    /// position order, so a common term stops after one page; a shorter one
    /// has no trigram to look up and scans the names in position order
    /// until the page is full.
    fn page<'q>(&self, plan: &PagePlan<'q>, limit: u32) -> Stored<PageQuery<'q>> {
        let all = Arg::from(plan.include_archived);
        let page = [limit.into(), plan.skip.into()];
        let (sql, mut args): (&str, Vec<Arg>) = match plan.term {
            None => (
                "SELECT seq FROM products WHERE seq > ? AND (? OR archived_at IS NULL)",
                vec![plan.after.into(), all],
            ),
            Some(term) if term.chars().count() >= 3 => (
                "SELECT rowid AS seq FROM products_name_search
                  WHERE products_name_search MATCH ? AND rowid > ?
                    AND (? OR rowid NOT IN (SELECT seq FROM products WHERE archived_at IS NOT NULL))",
                vec![fts_phrase(term).into(), plan.after.into(), all],
            ),
            Some(term) => (
                "SELECT seq FROM products
                  WHERE seq > ? AND instr(name_folded, ?) > 0 AND (? OR archived_at IS NULL)",
                vec![plan.after.into(), term.into(), all],
            ),
        };
        args.extend(page);
        Ok(Some((format!("{sql} ORDER BY seq LIMIT ? OFFSET ?"), args)))
    }
}

impl SchemaStore for SqlStore<Sqlite> {
    fn migrate(&self) -> Stored<Vec<i64>> {
        if self.dry_run {
            return schema::pending(&self.db.conn);
        }
        schema::migrate(&self.db.conn)
    }

    fn status(&self) -> Stored<StoreStatus> {
        let location = format!("sqlite:{}", self.db.path.display());
        let version = schema::user_version(&self.db.conn).map_err(|e| map_err(e, Context::Read))?;
        self.status_of(("sqlite", location), schema::MIGRATIONS, Some(version))
    }
}

/// The filter as an FTS5 phrase: matched as a literal substring, with
/// quotes doubled so no character has a query meaning.
fn fts_phrase(term: &str) -> String {
    format!("\"{}\"", term.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Read back from milly's own connection, as every command opens it.
    #[test]
    fn every_connection_has_wal_foreign_keys_and_durable_commits() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("pragmas.db"), Duration::from_secs(5), true)
            .unwrap();
        let pragma = |name: &str| -> String {
            store
                .db
                .conn
                .query_row(&format!("PRAGMA {name}"), [], |r| {
                    r.get::<_, rusqlite::types::Value>(0)
                })
                .map(|v| match v {
                    rusqlite::types::Value::Integer(i) => i.to_string(),
                    rusqlite::types::Value::Text(t) => t,
                    other => format!("{other:?}"),
                })
                .unwrap()
        };
        assert_eq!(pragma("journal_mode"), "wal");
        assert_eq!(pragma("foreign_keys"), "1");
        // 2 = FULL: a commit is on disk before it returns.
        assert_eq!(pragma("synchronous"), "2");
    }
}
