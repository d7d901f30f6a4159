//! What both SQL backends share: the statements, the transactions (units
//! of work, dry runs, given-up work), bulk writes and the port
//! implementations, over a [`Dialect`] that says what differs.

mod bulk;
mod ports;
mod statements;

pub use statements::{RECORDED_MIGRATIONS, RECORD_MIGRATION};

use std::borrow::Cow;
use std::ops::ControlFlow;
use std::time::Duration;

use crate::adapters::persistence::decode::Columns;
use crate::adapters::persistence::paging::PagePlan;
pub use crate::adapters::persistence::refusals::Context;
use crate::adapters::persistence::unit::OpenUnit;
use crate::app::ports::{StoreError, UnitEnd, UnitOfWork};
use crate::domain::Instant;

/// `--lock-timeout-ms`: how long a statement may wait for another writer's
/// lock. Each store carries its own, so stores opened side by side in one
/// process (a test suite's) do not share one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockTimeout(Duration);

impl LockTimeout {
    pub fn new(wait: Duration) -> Self {
        LockTimeout(wait)
    }

    pub fn duration(self) -> Duration {
        self.0
    }

    /// The timeout in whole seconds, rounded up, at least one. MySQL's and
    /// MariaDB's lock waits (`innodb_lock_wait_timeout`, `lock_wait_timeout`,
    /// MariaDB's `WAIT n`) all count whole seconds; MariaDB's fractional
    /// `max_statement_time` bounds a statement's whole run, not its wait for
    /// a lock, so it cannot stand in. A server therefore waits up to a
    /// second longer than asked, never shorter.
    pub fn whole_seconds(self) -> u64 {
        self.0.as_millis().div_ceil(1000).max(1) as u64
    }
}

/// A statement's argument, bound positionally to its `?` markers (both
/// drivers take plain `?`). A statement naming a value twice binds it twice.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg<'a> {
    Null,
    Int(i64),
    Text(Cow<'a, str>),
    /// Stored as each backend stores times (RFC 3339 text, DATETIME(6)).
    Time(Instant),
}

impl Arg<'_> {
    /// The argument with its text copied, to outlive what it was made from.
    pub fn into_owned(self) -> Arg<'static> {
        match self {
            Arg::Null => Arg::Null,
            Arg::Int(n) => Arg::Int(n),
            Arg::Text(text) => Arg::Text(Cow::Owned(text.into_owned())),
            Arg::Time(at) => Arg::Time(at),
        }
    }
}

macro_rules! arg_from {
    ($($t:ty => |$v:ident| $e:expr),* $(,)?) => {$(
        impl<'a> From<$t> for Arg<'a> {
            fn from($v: $t) -> Self {
                $e
            }
        }
    )*};
}

arg_from! {
    i64 => |n| Arg::Int(n),
    u16 => |n| Arg::Int(n.into()),
    u32 => |n| Arg::Int(n.into()),
    // Counts past `i64::MAX` (an offset from input) mean "all of them".
    u64 => |n| Arg::Int(i64::try_from(n).unwrap_or(i64::MAX)),
    usize => |n| Arg::Int(i64::try_from(n).unwrap_or(i64::MAX)),
    bool => |b| Arg::Int(b.into()),
    &'a str => |s| Arg::Text(Cow::Borrowed(s)),
    String => |s| Arg::Text(Cow::Owned(s)),
    Instant => |at| Arg::Time(at),
}

impl<'a, T: Into<Arg<'a>>> From<Option<T>> for Arg<'a> {
    fn from(value: Option<T>) -> Self {
        value.map_or(Arg::Null, Into::into)
    }
}

/// What a store call returns.
pub type Stored<T = ()> = Result<T, StoreError>;

/// A row handed to a reader; `Break` stops the query.
pub type Each<'f> = &'f mut dyn FnMut(&dyn Columns) -> Stored<ControlFlow<()>>;

/// A statement of a page of product positions (a `seq` column), with its
/// arguments; `None` when no product can match.
pub type PageQuery<'q> = Option<(String, Vec<Arg<'q>>)>;

/// How a SELECT locks the rows it reads until the transaction ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// The rows the transaction writes next.
    Update,
    /// Rows that must not change, which other readers may share.
    Share,
}

/// What differs between the SQL backends: their drivers, and the few
/// statements their engines need in their own words. Every method maps its
/// driver's errors in the context `cx`, so no driver error leaves the
/// backend.
pub trait Dialect {
    /// Opens a write transaction.
    const BEGIN_WRITE: &'static str;
    /// Opens a read-only transaction whose statements see one snapshot.
    const BEGIN_SNAPSHOT: &'static str;
    /// The names of the database's tables.
    const TABLES: &'static str;
    /// Written after `products p` where a read must go in position order.
    const BY_POSITION: &'static str = "";
    /// Rows per multi-row INSERT in bulk writes. One prepared row at a time
    /// unless round trips make batches pay.
    const BATCH_ROWS: usize = 1;
    /// Whether a single statement outside a unit commits on its own, without
    /// a transaction around it.
    const STATEMENTS_AUTOCOMMIT: bool = false;

    /// Appended to a SELECT whose rows `lock` holds. Nothing where a write
    /// transaction holds the whole database from its start.
    fn lock(_: Lock) -> &'static str {
        ""
    }

    /// Runs a statement; returns the number of rows it changed.
    fn execute(&self, cx: Context, sql: &str, args: &[Arg]) -> Stored<u64>;

    /// Hands each row of a query to `each`, as the driver reads it.
    fn query(&self, cx: Context, sql: &str, args: &[Arg], each: Each) -> Stored;

    /// Statements without arguments (transaction control).
    fn batch(&self, cx: Context, sql: &str) -> Stored;

    /// Ends the open transaction, committing or rolling back.
    fn end(&self, commit: bool, cx: Context) -> Stored;

    /// The position the next new product takes, inside a write transaction
    /// (held until it ends, so writers adding products take turns).
    fn next_position(&self) -> Stored<i64>;

    /// Makes a new product findable by name.
    fn index_name(&self, position: i64, folded: &str) -> Stored;

    /// Keeps the name index right after a rename.
    fn reindex_name(&self, position: i64, old: &str, new: &str) -> Stored;

    /// What a bulk import gathers to index its names.
    type ImportNames: Default;

    fn import_name(&self, names: &mut Self::ImportNames, position: i64, folded: &str) -> Stored;

    /// Indexes the names of an import whose first product took `first`.
    fn finish_import(&self, names: Self::ImportNames, first: i64) -> Stored;

    /// Before a bulk write's transaction.
    fn before_bulk(&self) -> Stored {
        Ok(())
    }

    /// The positions of a page of `product list` (see [`PagePlan`]).
    fn page<'q>(&self, plan: &PagePlan<'q>, limit: u32) -> Stored<PageQuery<'q>>;

    /// Refuses a recorded result the database cannot store.
    fn check_recordable(&self, _bytes: usize) -> Stored {
        Ok(())
    }
}

/// A store over one SQL connection: every port written once, the dialect
/// supplying what differs.
pub struct SqlStore<D> {
    pub(in crate::adapters::persistence) db: D,
    /// Whether a unit of work is open: methods then join its transaction.
    unit: OpenUnit,
    /// `--dry-run`: roll back instead of committing (see [`SqlStore::end`]).
    pub(in crate::adapters::persistence) dry_run: bool,
}

impl<D: Dialect> SqlStore<D> {
    pub(in crate::adapters::persistence) fn new(db: D, dry_run: bool) -> Self {
        SqlStore {
            db,
            unit: OpenUnit::default(),
            dry_run,
        }
    }

    /// A store whose writes all roll back (`--dry-run`).
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// The one place where transactions end: a method's own or a unit of
    /// work. A dry run rolls back instead of committing, so it keeps nothing.
    fn end(&self, commit: bool, cx: Context) -> Stored {
        self.db.end(commit && !self.dry_run, cx)
    }

    /// Runs `work` in a write transaction, or inside the open unit of work;
    /// `Ok(None)` is work given up (an aborted import), which writes nothing:
    /// its transaction is rolled back (a unit is rolled back by its caller).
    /// A failure rolls back too, and is the error reported.
    fn attempt<T>(
        &self,
        cx: Context,
        work: impl FnOnce(&D) -> Stored<Option<T>>,
    ) -> Stored<Option<T>> {
        if self.unit.is_open() {
            return work(&self.db);
        }
        self.db.batch(cx, D::BEGIN_WRITE)?;
        match work(&self.db) {
            Ok(Some(value)) => self.end(true, cx).map(|()| Some(value)),
            other => {
                // Reported as what it is; a rollback over a lost connection
                // is done by the server.
                let _ = self.end(false, cx);
                other
            }
        }
    }

    /// [`Self::attempt`] for work that is never given up.
    fn write<T>(&self, cx: Context, work: impl FnOnce(&D) -> Stored<T>) -> Stored<T> {
        let mut done = None;
        self.attempt(cx, |db| work(db).map(|value| done = Some(value)).map(Some))?;
        done.ok_or_else(|| StoreError::Internal("a write ended without its result".into()))
    }

    /// One statement that commits on its own where the database allows
    /// (holding its locks only for itself), and joins an open unit.
    fn single<T>(&self, cx: Context, work: impl FnOnce(&D) -> Stored<T>) -> Stored<T> {
        // A dry run's statement needs a transaction to roll back.
        if D::STATEMENTS_AUTOCOMMIT && !self.dry_run && !self.unit.is_open() {
            return work(&self.db);
        }
        self.write(cx, work)
    }

    /// Runs reads that must see one snapshot in a read-only transaction;
    /// inside a unit of work they join its transaction.
    fn snapshot<T>(&self, cx: Context, work: impl FnOnce(&D) -> Stored<T>) -> Stored<T> {
        if self.unit.is_open() {
            return work(&self.db);
        }
        self.db.batch(cx, D::BEGIN_SNAPSHOT)?;
        let read = work(&self.db);
        let ended = self.end(read.is_ok(), cx);
        let read = read?;
        ended?;
        Ok(read)
    }
}

impl<D: Dialect> UnitOfWork for SqlStore<D> {
    fn unit(&self, work: &mut dyn FnMut() -> Stored<UnitEnd>) -> Stored<UnitEnd> {
        self.unit.run(
            || self.db.batch(Context::BeginUnit, D::BEGIN_WRITE),
            // A lost connection while committing leaves the outcome unknown
            // (a write context says so); while rolling back, nothing was
            // written.
            |commit| {
                let cx = if commit {
                    Context::Write
                } else {
                    Context::Read
                };
                self.end(commit, cx)
            },
            work,
        )
    }
}

/// Every row of a query, decoded.
pub fn all<T>(
    db: &impl Dialect,
    cx: Context,
    sql: &str,
    args: &[Arg],
    decode: impl Fn(&dyn Columns) -> Stored<T>,
) -> Stored<Vec<T>> {
    let mut found = Vec::new();
    db.query(cx, sql, args, &mut |row| {
        found.push(decode(row)?);
        Ok(ControlFlow::Continue(()))
    })?;
    Ok(found)
}

/// The first row of a query, decoded, if there is one.
pub fn first<T>(
    db: &impl Dialect,
    cx: Context,
    sql: &str,
    args: &[Arg],
    decode: impl Fn(&dyn Columns) -> Stored<T>,
) -> Stored<Option<T>> {
    let mut found = None;
    db.query(cx, sql, args, &mut |row| {
        found = Some(decode(row)?);
        Ok(ControlFlow::Break(()))
    })?;
    Ok(found)
}
