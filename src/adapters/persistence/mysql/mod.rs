//! The MySQL store, for MySQL, MariaDB and MySQL-compatible servers.
//!
//! One connection per process (a process runs one command), with a short
//! connect timeout so an unreachable server fails in seconds. Every session
//! gets the same settings whatever the server's defaults: utf8mb4 with a
//! binary collation (text stored and compared byte for byte), UTC, strict
//! SQL mode, lock waits bounded by `--lock-timeout-ms`, and READ COMMITTED.
//!
//! READ COMMITTED rather than InnoDB's default REPEATABLE READ: locking reads
//! and updates then lock only the rows they match, not the gaps around them,
//! so concurrent writers deadlock less. Nothing here needs a repeatable
//! snapshot: the stock ledger relies on its unique (product_id, version)
//! index, and multi-row reads are single statements, each consistent on its
//! own. (A server logging the binlog in STATEMENT format refuses writes at
//! this level; MIXED and ROW, the defaults, accept them.)

mod connect;
mod errors;
mod name_index;
mod rows;
mod schema;
mod tls;
mod url;

use std::cell::{Cell, RefCell};
use std::time::Duration;

use ::mysql::prelude::Queryable;
use ::mysql::{Conn, OptsBuilder, Params, Row};

use crate::adapters::persistence::paging::PagePlan;
use crate::adapters::persistence::sql::{
    Arg, Dialect, Each, Lock, LockTimeout, PageQuery, SqlStore, Stored,
};
use crate::adapters::persistence::StoreSettings;
use crate::app::ports::{SchemaStore, StoreError, StoreStatus};
use errors::{map_err, Context, Secrets};
use name_index::ImportIndex;
use rows::MysqlRow;
use schema::Upgrade;
pub use url::{MysqlBackend, MysqlUrl, SslMode};

/// The socket's read and write timeout beyond the lock timeout: a statement
/// may legitimately wait that long for a lock, but a server that went
/// silent after connecting must not hold milly longer than the lock timeout
/// and the connect timeout together (DESIGN.md, "bounded waits").
fn io_timeout(settings: &StoreSettings, lock_wait_secs: u64) -> Duration {
    Duration::from_secs(lock_wait_secs) + settings.connect_timeout
}

/// Strict: a value that does not fit is an error, never silently clipped;
/// and a table is InnoDB or is not created at all.
const SQL_MODE: &str =
    "STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION";

pub type MysqlStore = SqlStore<Mysql>;

/// MySQL's connection and what it does in its own words.
pub struct Mysql {
    /// `Conn` needs `&mut` for every statement while the port takes `&self`;
    /// one command runs on one thread, so a `RefCell` is all it takes.
    conn: RefCell<Conn>,
    /// The URL with its password masked, for `db status` and messages.
    location: String,
    /// The database's name, for messages.
    database: String,
    /// `--lock-timeout-ms`: the longest wait for the migration lease.
    lock_wait: LockTimeout,
    secrets: Secrets,
    /// The schema version read when the session started, for the first
    /// schema check (`prepare`) only: later checks ask again.
    schema_at_connect: Cell<Option<i64>>,
    /// The server's clock, read with the session's start.
    clock: Option<connect::ServerClock>,
    /// How to connect again, for `db migrate`'s own connection.
    reconnect: Reconnect,
}

/// What opening a second connection to the same database takes.
struct Reconnect {
    opts: OptsBuilder,
    session: connect::Session,
    url: MysqlUrl,
    settings: StoreSettings,
}

impl SqlStore<Mysql> {
    pub fn open(url: &MysqlUrl, settings: &StoreSettings) -> Stored<Self> {
        let location = url.masked();
        let secrets = Secrets::new([url.password(), url.decoded_password()]);
        let lock_wait = LockTimeout::new(settings.lock_timeout);
        let lock_wait_secs = lock_wait.whole_seconds();
        let io_timeout = io_timeout(settings, lock_wait_secs);
        let opts = OptsBuilder::new()
            .ip_or_hostname(Some(url.host.clone()))
            .tcp_port(url.port)
            .user(url.user.clone())
            .pass(url.decoded_password())
            .db_name(Some(url.database.clone()))
            .socket(url.socket.clone())
            // The driver would otherwise ask a local server for its Unix
            // socket and connect a second time: a round trip and a handshake
            // more per command, and possibly another account (user@localhost).
            .prefer_socket(false)
            .tcp_connect_timeout(Some(settings.connect_timeout))
            .read_timeout(Some(io_timeout))
            .write_timeout(Some(io_timeout));
        tls::check_ca(url)
            .map_err(|e| StoreError::Unavailable(format!("cannot connect to {location}: {e}")))?;
        let session = connect::Session {
            common: format!(
                "NAMES utf8mb4 COLLATE utf8mb4_bin, time_zone = '+00:00', sql_mode = '{SQL_MODE}', \
                 innodb_lock_wait_timeout = {lock_wait_secs}, lock_wait_timeout = {lock_wait_secs}"
            ),
        };
        let (conn, started) =
            connect::within(settings.connect_timeout, opts.clone(), session.clone(), url)
                .map_err(|e| e.into_store_error(&location, url, settings, &secrets))?;
        let db = Mysql {
            conn: RefCell::new(conn),
            location,
            database: url.database.clone(),
            lock_wait,
            secrets,
            schema_at_connect: Cell::new(started.schema_version),
            clock: started.clock,
            reconnect: Reconnect {
                opts,
                session,
                url: url.clone(),
                settings: *settings,
            },
        };
        Ok(SqlStore::new(db, settings.dry_run))
    }

    /// A dry run applies nothing: it returns the versions a real run would
    /// apply, which the caller reports.
    fn migrate_as(&self, upgrade: Upgrade) -> Stored<Vec<i64>> {
        if self.dry_run {
            return self.db.pending();
        }
        self.db.migrate(upgrade)
    }
}

impl Mysql {
    fn pending(&self) -> Stored<Vec<i64>> {
        schema::pending(&mut self.conn.borrow_mut(), &self.secrets)
    }

    fn migrate(&self, upgrade: Upgrade) -> Stored<Vec<i64>> {
        let mut conn = self.conn.borrow_mut();
        let mut own;
        let conn =
            if upgrade == Upgrade::All && !schema::pending(&mut conn, &self.secrets)?.is_empty() {
                own = self.migration_conn()?;
                &mut own
            } else {
                &mut *conn
            };
        schema::migrate(
            conn,
            self.lock_wait.duration(),
            upgrade,
            &self.database,
            &self.secrets,
        )
    }

    /// A connection whose reads wait as long as a migration statement may
    /// run under the lease: the command's own connection gives up after
    /// the lock timeout, and backfilling an index over a large catalog
    /// (version 15) takes longer than that.
    fn migration_conn(&self) -> Stored<Conn> {
        let Reconnect {
            opts,
            session,
            url,
            settings,
        } = &self.reconnect;
        let wait = Some(schema::STATEMENT_LIMIT + settings.connect_timeout);
        let opts = opts.clone().read_timeout(wait).write_timeout(wait);
        connect::within(settings.connect_timeout, opts, session.clone(), url)
            .map(|(conn, _)| conn)
            .map_err(|e| e.into_store_error(&self.location, url, settings, &self.secrets))
    }

    fn err<'a>(&'a self, context: Context<'a>) -> impl Fn(::mysql::Error) -> StoreError + 'a {
        move |e| map_err(e, context, &self.secrets)
    }
}

fn params(args: &[Arg<'_>]) -> Params {
    if args.is_empty() {
        return Params::Empty;
    }
    Params::Positional(args.iter().map(rows::value).collect())
}

/// Takes the `products` row of milly_locks until the transaction ends, then
/// returns the next free position. Writers that add products take turns
/// here, so positions stay dense without gaps or duplicates; under READ
/// COMMITTED the MAX read after the lock sees every earlier writer's commit.
fn lock_next_position(tx: &mut Conn) -> ::mysql::Result<i64> {
    tx.query_drop(
        "INSERT INTO milly_locks (name) VALUES ('products') ON DUPLICATE KEY UPDATE name = name",
    )?;
    let next: Option<i64> = tx.query_first("SELECT COALESCE(MAX(seq), 0) + 1 FROM products")?;
    Ok(next.unwrap_or(1))
}

impl Dialect for Mysql {
    const BEGIN_WRITE: &'static str = "START TRANSACTION";
    /// One round trip: the level applies to the next transaction only (the
    /// session's READ COMMITTED gives each statement its own snapshot).
    const BEGIN_SNAPSHOT: &'static str = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; \
         START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY";
    /// Left to choose, the optimizer takes the index on `archived_at` for
    /// `archived_at IS NULL` (true of nearly every product) and reads the
    /// whole catalog through it, 27 ms instead of 3 for a rare term at 100k.
    const BY_POSITION: &'static str = " FORCE INDEX (PRIMARY)";
    /// A generated column, NULL unless the discount is active, under a
    /// unique index: the one active discount per product.
    const TABLES: &'static str =
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()";
    /// A round trip per few hundred rows instead of per row, while a
    /// statement (at most 500 descriptions of 2,000 characters) stays far
    /// below the server's max_allowed_packet.
    const BATCH_ROWS: usize = 500;
    /// One autocommit INSERT holds its locks only for itself.
    const STATEMENTS_AUTOCOMMIT: bool = true;

    fn lock(lock: Lock) -> &'static str {
        match lock {
            Lock::Update => " FOR UPDATE",
            Lock::Share => " LOCK IN SHARE MODE",
        }
    }

    fn execute(&self, cx: Context, sql: &str, args: &[Arg]) -> Stored<u64> {
        let mut conn = self.conn.borrow_mut();
        conn.exec_drop(sql, params(args)).map_err(self.err(cx))?;
        Ok(conn.affected_rows())
    }

    /// Rows are read from the socket as the server sends them (the
    /// driver's result iterator).
    fn query(&self, cx: Context, sql: &str, args: &[Arg], each: Each) -> Stored {
        let err = self.err(cx);
        let mut conn = self.conn.borrow_mut();
        for row in conn.exec_iter(sql, params(args)).map_err(&err)? {
            let row: Row = row.map_err(&err)?;
            if each(&MysqlRow(&row))?.is_break() {
                break;
            }
        }
        Ok(())
    }

    fn batch(&self, cx: Context, sql: &str) -> Stored {
        self.conn.borrow_mut().query_drop(sql).map_err(self.err(cx))
    }

    fn end(&self, commit: bool, cx: Context) -> Stored {
        self.batch(cx, if commit { "COMMIT" } else { "ROLLBACK" })
    }

    fn next_position(&self) -> Stored<i64> {
        lock_next_position(&mut self.conn.borrow_mut()).map_err(self.err(Context::Write))
    }

    fn index_name(&self, position: i64, folded: &str) -> Stored {
        name_index::index_name(&mut self.conn.borrow_mut(), position, folded)
            .map_err(self.err(Context::Write))
    }

    /// Index rows are never deleted (see `name_index`).
    fn reindex_name(&self, position: i64, _old: &str, new: &str) -> Stored {
        self.index_name(position, new)
    }

    type ImportNames = ImportIndex;

    fn import_name(&self, names: &mut ImportIndex, position: i64, folded: &str) -> Stored {
        names
            .add(&mut self.conn.borrow_mut(), position, folded)
            .map_err(self.err(Context::Write))
    }

    fn finish_import(&self, mut names: ImportIndex, _first: i64) -> Stored {
        names
            .flush(&mut self.conn.borrow_mut())
            .map_err(self.err(Context::Write))
    }

    /// A filter looks at names, in position order, until the page is full.
    /// LOCATE, not LIKE: the folded term is matched literally, `%` and `_`
    /// included, byte for byte under the column's binary collation. A term
    /// of three or more characters looks only at the blocks of positions
    /// the name index gives (see `name_index`); a shorter one has no
    /// trigram and scans the names.
    fn page<'q>(&self, plan: &PagePlan<'q>, limit: u32) -> Stored<PageQuery<'q>> {
        let positions = match plan.term.filter(|t| t.chars().count() >= 3) {
            None => "TRUE".to_owned(),
            Some(term) => {
                let ranges = name_index::candidate_ranges(&mut self.conn.borrow_mut(), term)
                    .map_err(self.err(Context::Read))?;
                if ranges.is_empty() {
                    return Ok(None);
                }
                let within = ranges
                    .iter()
                    .map(|(first, last)| format!("seq BETWEEN {first} AND {last}"))
                    .collect::<Vec<_>>()
                    .join(" OR ");
                format!("({within})")
            }
        };
        let sql = format!(
            "SELECT seq FROM products{}
              WHERE {positions} AND seq > ? AND (? IS NULL OR LOCATE(?, name_folded) > 0)
                AND (? OR archived_at IS NULL)
              ORDER BY seq LIMIT ? OFFSET ?",
            Self::BY_POSITION
        );
        let args = vec![
            plan.after.into(),
            plan.term.into(),
            plan.term.into(),
            plan.include_archived.into(),
            limit.into(),
            plan.skip.into(),
        ];
        Ok(Some((sql, args)))
    }

    fn check_recordable(&self, bytes: usize) -> Stored {
        // A result the server cannot take in one statement would cost the
        // connection ("packets out of sync"): refuse it first, clearly. Only
        // a large one (an import's rows) is worth asking the server about.
        const SMALL: u64 = 256 * 1024;
        let size = bytes as u64;
        let limit = if size <= SMALL {
            SMALL
        } else {
            let limit: Option<u64> = self
                .conn
                .borrow_mut()
                .query_first("SELECT LEAST(@@max_allowed_packet, 16777215)")
                .map_err(self.err(Context::Read))?;
            limit.unwrap_or(16_777_215).saturating_sub(64 * 1024)
        };
        if size > limit {
            return Err(StoreError::Unavailable(format!(
                "this command's output ({} bytes) is too large to record under an idempotency key on this server (at most {limit} bytes, set by max_allowed_packet); nothing was written: print counts instead (-o table), or run it without a key",
                bytes
            )));
        }
        Ok(())
    }
}

impl SchemaStore for SqlStore<Mysql> {
    fn migrate(&self) -> Stored<Vec<i64>> {
        self.migrate_as(Upgrade::All)
    }

    fn prepare(&self) -> Stored<Vec<i64>> {
        // Read with the session's start: an up-to-date schema costs no
        // round trip of its own.
        if self.db.schema_at_connect.take()
            == Some(crate::adapters::persistence::migrations::latest_version(
                schema::MIGRATIONS,
            ))
        {
            return Ok(Vec::new());
        }
        self.migrate_as(Upgrade::FirstUseOnly)
    }

    fn status(&self) -> Stored<StoreStatus> {
        let location = self.db.location.clone();
        self.status_of(("mysql", location), schema::MIGRATIONS, None)
    }

    fn database_time(&self) -> Stored<Option<crate::domain::Instant>> {
        Ok(self.db.clock.map(|clock| clock.now()))
    }

    fn tls_version(&self) -> Stored<Option<String>> {
        tls::version(&mut self.db.conn.borrow_mut())
            .map(Some)
            .map_err(self.db.err(Context::Read))
    }
}
