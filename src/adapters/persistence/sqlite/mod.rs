//! The SQLite store: the embedded default.
//!
//! One connection per process, WAL journal (readers never block the writer),
//! `synchronous = FULL` (a commit survives power loss), foreign keys on, and
//! a busy timeout so concurrent writers queue instead of failing at once.

mod busy;
mod errors;
mod ledgers;
mod lifecycle;
mod rows;
mod schema;
mod stock_batch;
mod url;
mod writes;

use std::fs::OpenOptions;
use std::ops::ControlFlow;
#[cfg(unix)]
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{named_params, params, CachedStatement, Connection, OpenFlags, Params};

use crate::adapters::persistence::decode::{self, Columns};
use crate::adapters::persistence::import::{self, ImportWriter};
use crate::adapters::persistence::paging::PagePlan;
use crate::adapters::persistence::unit::OpenUnit;
use crate::app::ports::{
    CouponQuery, CouponStore, DiscountQuery, DiscountStore, ImportAborted, ImportCounts,
    ImportItem, ImportStore, LedgerScan, LedgerStore, LogQuery, LoggedEvent, ProductDetails,
    ProductListing, ProductQuery, ProductStore, RecordedRequest, RequestLog, SchemaStore,
    StockBatch, StoreError, StoreStatus, UnitEnd, UnitOfWork,
};
use crate::domain::{
    Actor, Coupon, CouponCode, CustomerId, Discount, DiscountId, IdempotencyKey, Instant, Product,
    ProductChange, ProductId, StockEvent,
};
use errors::{map_err, Context};
use rows::SqliteRow;
pub use url::{file, SqliteBackend};
use writes::Inserts;

/// The marker an aborted import (or stock batch) leaves its transaction with, so that it is
/// rolled back like any failure and then reported as `Ok(None)`.
const ABORTED: &str = "the import was aborted";

/// Page cache for bulk imports, in KiB.
const IMPORT_CACHE_KIB: i64 = 256 * 1024;

/// How long a writer waits for another process's lock by default.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    /// Whether a unit of work is open: methods then join its transaction.
    in_unit: OpenUnit,
    /// Roll back instead of committing (see [`SqliteStore::end_transaction`]).
    dry_run: bool,
}

impl SqliteStore {
    /// Opens the database at `path`, creating it (readable by its owner
    /// only) if it is missing and `create` allows. The folder must exist:
    /// milly creates only its own default one.
    pub fn open(path: &Path, busy_timeout: Duration, create: bool) -> Result<Self, StoreError> {
        create_private_file(path, create)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let location = path.display().to_string();
        let open_err = |e| map_err(e, Context::Connect(&location));
        let conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
        busy::wait_up_to(&conn, busy_timeout).map_err(open_err)?;
        busy::retry_until(busy_timeout, || configure(&conn)).map_err(open_err)?;
        Ok(SqliteStore {
            conn,
            path: path.to_path_buf(),
            in_unit: OpenUnit::default(),
            dry_run: false,
        })
    }

    /// A store whose writes all roll back (`--dry-run`).
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// Runs `work` in a write transaction, or inside the open unit of
    /// work. Every write transaction of this adapter starts here or in
    /// `begin_unit`, IMMEDIATE, so writers queue on the write lock at the
    /// start instead of failing at the first write; every one ends in
    /// [`SqliteStore::end_transaction`].
    fn write<T>(
        &self,
        context: Context<'_>,
        work: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if self.in_unit.is_open() {
            return work(&self.conn);
        }
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| map_err(e, context))?;
        match work(&self.conn) {
            Ok(value) => {
                self.end_transaction(true)
                    .map_err(|e| map_err(e, context))?;
                Ok(value)
            }
            Err(e) => {
                let _ = self.end_transaction(false);
                Err(e)
            }
        }
    }

    /// The one place where this adapter's write transactions end: a
    /// method's own or a unit of work. A store opened for a dry run rolls
    /// back instead of committing, so a dry run keeps nothing. A failed
    /// COMMIT (the busy timeout ran out) leaves the transaction open: it is
    /// rolled back, so the connection stays usable.
    fn end_transaction(&self, commit: bool) -> rusqlite::Result<()> {
        let commit = commit && !self.dry_run;
        let conn = &self.conn;
        let result = conn.execute_batch(if commit { "COMMIT" } else { "ROLLBACK" });
        if result.is_err() && !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        result
    }

    fn location(&self) -> String {
        format!("sqlite:{}", self.path.display())
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
fn create_private_file(path: &Path, create: bool) -> Result<(), StoreError> {
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

const PRODUCT_COLUMNS: &str =
    "p.id, p.name, p.description, p.price_cents, p.created_at, p.updated_at, p.archived_at, p.actor";
const DISCOUNT_COLUMNS: &str =
    "id, product_id, percentage_bp, valid_from, valid_to, is_active, created_at, \
     actor, deactivated_at, deactivated_by";
const COUPON_COLUMNS: &str =
    "id, user_id, code, percentage_bp, valid_from, valid_to, is_active, created_at, \
     actor, deactivated_at, deactivated_by";
const EVENT_COLUMNS: &str =
    "id, product_id, change, total_after_change, version, reason, created_at, actor";

/// The price of product `p` in force at `:at`. A product not changed since
/// `:at` has its current price then (the common case: no lookup); otherwise
/// the last price set at or before `:at`, else the price the first later
/// change replaced (`:at` before any change), else the current price.
const PRICE_AT: &str = "CASE WHEN p.updated_at <= :at THEN p.price_cents ELSE COALESCE(
      (SELECT c.new_price_cents FROM product_changes c
        WHERE c.product_id = p.id AND c.new_price_cents IS NOT NULL AND c.changed_at <= :at
        ORDER BY c.changed_at DESC, c.seq DESC LIMIT 1),
      (SELECT c.old_price_cents FROM product_changes c
        WHERE c.product_id = p.id AND c.old_price_cents IS NOT NULL AND c.changed_at > :at
        ORDER BY c.changed_at, c.seq LIMIT 1),
      p.price_cents) END";

/// Listing rows (see [`decode::listing_row`]) of the products `filter`
/// keeps, in position order, every qualifying discount joined.
fn listing_sql(filter: &dyn std::fmt::Display) -> String {
    format!(
        "SELECT {PRODUCT_COLUMNS},
                (SELECT e.total_after_change FROM stock_events e
                  WHERE e.product_id = p.id ORDER BY e.version DESC LIMIT 1),
                d.id, d.product_id, d.percentage_bp, d.valid_from, d.valid_to, d.is_active, d.created_at,
                d.actor, d.deactivated_at, d.deactivated_by,
                p.seq,
                {PRICE_AT},
                d.seq
           FROM products p
           {DISCOUNT_AT_JOIN}
          WHERE {filter}
          ORDER BY p.seq"
    )
}

/// The discounts of product `p` that qualify at `:at`: inside their window
/// and on then (active, or deactivated after `:at`). Replacing deactivates
/// the old discount at the moment the new one is created, so of the
/// discounts set before `:at` at most one qualifies; the earliest qualifying
/// one applies (see [`decode::first_per_product`]), so a discount set later
/// with a window reaching back does not displace it. A plain join, not a
/// subquery per product: as cheap as looking up the active discount alone.
const DISCOUNT_AT_JOIN: &str = "LEFT JOIN discounts d
      ON d.product_id = p.id AND d.valid_from <= :at AND d.valid_to > :at
     AND (d.is_active = 1 OR d.deactivated_at > :at)";

/// Coupons on at `:at` and inside their window.
const COUPON_ON_AT: &str =
    "(is_active = 1 OR deactivated_at > :at) AND valid_from <= :at AND valid_to > :at";

impl ProductStore for SqliteStore {
    fn create_product(&self, product: &Product, opening: &StockEvent) -> Result<(), StoreError> {
        self.write(Context::Write, |conn| {
            let mut rows = Inserts::prepare(conn).map_err(|e| map_err(e, Context::Write))?;
            rows.product(product)
                .and_then(|()| rows.event(opening))
                .map_err(|e| map_err(e, Context::Write))
        })
    }

    fn update_product(
        &self,
        before: &Product,
        after: &Product,
        change: &ProductChange,
    ) -> Result<(), StoreError> {
        lifecycle::update_product(self, before, after, change)
    }

    fn set_archived(&self, change: &ProductChange) -> Result<bool, StoreError> {
        lifecycle::set_archived(self, change)
    }

    fn product_changes(&self, id: &ProductId) -> Result<Vec<ProductChange>, StoreError> {
        lifecycle::product_changes(&self.conn, id)
    }

    fn list_products(
        &self,
        query: &ProductQuery,
        at: Instant,
    ) -> Result<Vec<ProductListing>, StoreError> {
        let plan = PagePlan::of(query, || lifecycle::any_archived(&self.conn))?;
        let candidates = Candidates::for_term(plan.term);
        let sql = listing_sql(&candidates);
        let at = at.to_rfc3339();
        let phrase = plan.term.map(fts_phrase);
        let mut bound: Vec<(&str, &dyn rusqlite::ToSql)> = vec![
            (":at", &at),
            (":after", &plan.after),
            (":limit", &query.limit),
            (":offset", &plan.skip),
            (":all", &plan.include_archived),
        ];
        match candidates {
            Candidates::TrigramIndex => bound.push((":term", &phrase)),
            Candidates::NameScan => bound.push((":term", &plan.term)),
            Candidates::All => {}
        }
        let mut stmt = self.conn.prepare_cached(&sql).map_err(read_err)?;
        let rows = decode_all(&mut stmt, bound.as_slice(), |r| decode::listing_row(r))?;
        Ok(decode::first_per_product(rows))
    }

    /// One statement read row by row: one snapshot, prepared once.
    fn scan_products(
        &self,
        include_archived: bool,
        at: Instant,
        sink: &mut dyn FnMut(ProductListing) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&listing_sql(&":all OR p.archived_at IS NULL"))
            .map_err(read_err)?;
        let at = at.to_rfc3339();
        let mut rows = stmt
            .query(named_params! {":at": at, ":all": include_archived})
            .map_err(read_err)?;
        let rows = std::iter::from_fn(|| match rows.next() {
            Ok(Some(row)) => Some(decode::listing_row(&SqliteRow(row))),
            Ok(None) => None,
            Err(e) => Some(Err(read_err(e))),
        });
        decode::first_per_product_into(rows, sink)
    }

    fn product_details(
        &self,
        id: &ProductId,
        customer: Option<&CustomerId>,
        at: Instant,
    ) -> Result<Option<ProductDetails>, StoreError> {
        let at = at.to_rfc3339();
        // One statement, so one consistent read and one statement to
        // prepare: the product, its stock, its price and discount then, and
        // the customer's best coupon (none when no customer is given:
        // `user_id = NULL` matches nothing).
        const STOCK: usize = decode::PRODUCT_WIDTH;
        const DISCOUNT: usize = STOCK + 2;
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {PRODUCT_COLUMNS},
                        (SELECT e.total_after_change FROM stock_events e
                          WHERE e.product_id = p.id ORDER BY e.version DESC LIMIT 1),
                        {PRICE_AT},
                        d.id, d.product_id, d.percentage_bp, d.valid_from, d.valid_to, d.is_active,
                        d.created_at, d.actor, d.deactivated_at, d.deactivated_by,
                        c.id, c.user_id, c.code, c.percentage_bp, c.valid_from, c.valid_to,
                        c.is_active, c.created_at, c.actor, c.deactivated_at, c.deactivated_by
                   FROM products p
                   {DISCOUNT_AT_JOIN}
                   LEFT JOIN coupons c ON c.seq = (
                        SELECT b.seq FROM coupons b
                         WHERE b.user_id = :user AND (b.is_active = 1 OR b.deactivated_at > :at)
                           AND b.valid_from <= :at AND b.valid_to > :at
                         ORDER BY b.percentage_bp DESC, b.valid_to ASC, b.seq ASC LIMIT 1)
                  WHERE p.id = :id
                  ORDER BY d.seq LIMIT 1"
            ))
            .map_err(read_err)?;
        decode_first(
            &mut stmt,
            named_params! {
                ":id": id.as_str(),
                ":at": at,
                ":user": customer.map(CustomerId::as_str),
            },
            |r| {
                Ok(ProductDetails {
                    product: decode::product(r, 0)?,
                    stock: r.integer(STOCK)?,
                    price: decode::money(r, STOCK + 1)?,
                    discount: decode::optional(r, DISCOUNT, decode::discount)?,
                    coupon: decode::optional(r, DISCOUNT + decode::DISCOUNT_WIDTH, decode::coupon)?,
                })
            },
        )
    }
}

impl LedgerStore for SqliteStore {
    fn latest_stock_event(&self, id: &ProductId) -> Result<Option<StockEvent>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM stock_events WHERE product_id = ?1 ORDER BY version DESC LIMIT 1"
            ))
            .map_err(read_err)?;
        decode_first(&mut stmt, [id.as_str()], |r| decode::event(r, 0))
    }

    fn append_stock_event(&self, event: &StockEvent) -> Result<(), StoreError> {
        self.write(Context::AppendEvent(event.product_id.as_str()), |tx| {
            lifecycle::append_unless_archived(tx, event)
        })
    }

    fn stock_history(&self, id: &ProductId) -> Result<Option<Vec<StockEvent>>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM stock_events WHERE product_id = ?1 ORDER BY version"
            ))
            .map_err(read_err)?;
        let events = decode_all(&mut stmt, [id.as_str()], |r| decode::event(r, 0))?;
        Ok(decode::ledger(events))
    }

    fn scan_ledgers(
        &self,
        product: Option<&ProductId>,
        sink: &mut dyn FnMut(LedgerScan) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
        ledgers::scan(&self.conn, product, sink)
    }

    fn stock_log(&self, query: &LogQuery) -> Result<Vec<LoggedEvent>, StoreError> {
        ledgers::log_page(&self.conn, query)
    }

    fn change_stock(
        &self,
        work: &mut dyn FnMut(&mut dyn StockBatch) -> Result<bool, StoreError>,
    ) -> Result<bool, StoreError> {
        // A feed touches its products' ledgers in any order: a large page
        // cache keeps the indexes it has read in memory instead of reading
        // the same pages again for every row.
        self.conn
            .pragma_update(None, "cache_size", -IMPORT_CACHE_KIB)
            .map_err(|e| map_err(e, Context::Write))?;
        // A batch its work gives up on writes nothing: its transaction (or
        // the unit of work, which the caller then rolls back) is not
        // committed.
        self.write(Context::Write, |tx| {
            let mut batch = stock_batch::SqliteBatch::prepare(tx)?;
            if !work(&mut batch)? {
                return Err(StoreError::Internal(ABORTED.into()));
            }
            Ok(true)
        })
        .or_else(|e| match e {
            StoreError::Internal(m) if m == ABORTED => Ok(false),
            other => Err(other),
        })
    }
}

impl DiscountStore for SqliteStore {
    fn replace_discount(&self, discount: &Discount) -> Result<Option<DiscountId>, StoreError> {
        lifecycle::replace_discount(self, discount)
    }

    fn clear_discount(
        &self,
        product_id: &ProductId,
        at: Instant,
        actor: Option<&Actor>,
    ) -> Result<Option<DiscountId>, StoreError> {
        lifecycle::clear_discount(self, product_id, at, actor)
    }

    fn list_discounts(&self, query: &DiscountQuery) -> Result<Vec<Discount>, StoreError> {
        lifecycle::list_discounts(&self.conn, query)
    }
}

impl CouponStore for SqliteStore {
    fn create_coupon(&self, coupon: &Coupon) -> Result<(), StoreError> {
        let context = Context::CreateCoupon(coupon.code.as_str());
        self.write(context, |tx| {
            Inserts::prepare(tx)
                .and_then(|mut rows| rows.coupon(coupon))
                .map_err(|e| map_err(e, context))
        })
    }

    fn deactivate_coupon(
        &self,
        code: &CouponCode,
        at: Instant,
        actor: Option<&Actor>,
    ) -> Result<Option<Coupon>, StoreError> {
        lifecycle::deactivate_coupon(self, code, at, actor)
    }

    fn list_coupons(&self, query: &CouponQuery) -> Result<Vec<Coupon>, StoreError> {
        lifecycle::list_coupons(&self.conn, query)
    }

    fn coupon(&self, code: &CouponCode) -> Result<Option<Coupon>, StoreError> {
        lifecycle::coupon(&self.conn, code)
    }
}

impl ImportStore for SqliteStore {
    fn import(
        &self,
        items: &mut dyn Iterator<Item = Result<ImportItem, ImportAborted>>,
    ) -> Result<Option<ImportCounts>, StoreError> {
        let db = |e| map_err(e, Context::Write);
        // A large page cache keeps the growing indexes in memory instead of
        // spilling half-written pages to the WAL over and over.
        self.conn
            .pragma_update(None, "cache_size", -IMPORT_CACHE_KIB)
            .map_err(db)?;
        // An aborted import returns before the commit: the transaction (or
        // the unit of work, which the caller then rolls back) writes nothing.
        self.write(Context::Write, |tx| {
            let first_new: i64 = tx
                .query_row("SELECT COALESCE(MAX(seq), 0) FROM products", [], |r| {
                    r.get(0)
                })
                .map_err(db)?;
            let mut writer = BulkWriter(Inserts::prepare(tx).map_err(db)?);
            let Some(counts) = import::write_all(items, &mut writer)? else {
                return Err(StoreError::Internal(ABORTED.into()));
            };
            drop(writer);
            // Index the new names in one pass (products are numbered densely,
            // so the new ones are exactly those after `first_new`).
            tx.execute(
                "INSERT INTO products_name_search (rowid, name_folded)
                 SELECT seq, name_folded FROM products WHERE seq > ?1",
                [first_new],
            )
            .map_err(db)?;
            Ok(counts)
        })
        .map(Some)
        .or_else(|e| match e {
            StoreError::Internal(m) if m == ABORTED => Ok(None),
            other => Err(other),
        })
    }
}

impl SchemaStore for SqliteStore {
    fn migrate(&self) -> Result<Vec<i64>, StoreError> {
        if self.dry_run {
            return schema::pending(&self.conn);
        }
        schema::migrate(&self.conn)
    }

    fn status(&self) -> Result<StoreStatus, StoreError> {
        schema::status(&self.conn, self.location())
    }
}

impl RequestLog for SqliteStore {
    fn recorded_request(
        &self,
        key: &IdempotencyKey,
    ) -> Result<Option<RecordedRequest>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT fingerprint, result FROM idempotency_keys WHERE idem_key = ?1")
            .map_err(read_err)?;
        decode_first(&mut stmt, [key.as_str()], |r| {
            Ok(RecordedRequest {
                fingerprint: r.text(0)?,
                result: r.text(1)?,
            })
        })
    }

    fn record_request(
        &self,
        key: &IdempotencyKey,
        request: &RecordedRequest,
        at: Instant,
    ) -> Result<(), StoreError> {
        self.write(Context::Write, |tx| {
            tx.prepare_cached(
                "INSERT INTO idempotency_keys (idem_key, fingerprint, result, created_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    key.as_str(),
                    request.fingerprint,
                    request.result,
                    at.to_rfc3339()
                ])
            })
            .map(drop)
            .map_err(|e| map_err(e, Context::Write))
        })
    }

    fn prune_requests(&self, before: Instant) -> Result<u64, StoreError> {
        self.write(Context::Write, |tx| {
            tx.execute(
                "DELETE FROM idempotency_keys WHERE created_at < ?1",
                [before.to_rfc3339()],
            )
            .map(|n| n as u64)
            .map_err(|e| map_err(e, Context::Write))
        })
    }
}

impl UnitOfWork for SqliteStore {
    fn unit(
        &self,
        work: &mut dyn FnMut() -> Result<UnitEnd, StoreError>,
    ) -> Result<UnitEnd, StoreError> {
        self.in_unit.run(
            || self.begin_unit(),
            |commit| self.finish_unit(commit),
            work,
        )
    }
}

impl SqliteStore {
    fn begin_unit(&self) -> Result<(), StoreError> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| map_err(e, Context::BeginUnit))?;
        Ok(())
    }

    fn finish_unit(&self, commit: bool) -> Result<(), StoreError> {
        self.end_transaction(commit)
            .map_err(|e| map_err(e, Context::Write))
    }
}

/// How a page finds its products.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Candidates {
    /// No filter: positions are dense, so a page is the range after a
    /// position, found in the primary key without reading skipped rows.
    All,
    /// A filter of three or more characters: the trigram index, read in
    /// position order, so a common term stops after one page.
    TrigramIndex,
    /// A one- or two-character filter has no trigram to look up: scan the
    /// names in position order until the page is full.
    NameScan,
}

impl std::fmt::Display for Candidates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Candidates::All => {
                "p.seq IN (SELECT seq FROM products
                            WHERE seq > :after AND (:all OR archived_at IS NULL)
                            ORDER BY seq LIMIT :limit OFFSET :offset)"
            }
            Candidates::TrigramIndex => {
                "p.seq IN (SELECT rowid FROM products_name_search
                            WHERE products_name_search MATCH :term AND rowid > :after
                              AND (:all OR rowid NOT IN (SELECT seq FROM products WHERE archived_at IS NOT NULL))
                            ORDER BY rowid LIMIT :limit OFFSET :offset)"
            }
            Candidates::NameScan => {
                "p.seq IN (SELECT seq FROM products
                            WHERE seq > :after AND instr(name_folded, :term) > 0
                              AND (:all OR archived_at IS NULL)
                            ORDER BY seq LIMIT :limit OFFSET :offset)"
            }
        })
    }
}

impl Candidates {
    fn for_term(term: Option<&str>) -> Self {
        match term {
            None => Candidates::All,
            Some(term) if term.chars().count() >= 3 => Candidates::TrigramIndex,
            Some(_) => Candidates::NameScan,
        }
    }
}

/// Import rows go through the same prepared inserts as single commands;
/// names are indexed in one pass at the end.
struct BulkWriter<'c>(Inserts<'c>);

impl ImportWriter for BulkWriter<'_> {
    fn product(
        &mut self,
        product: &Product,
        events: &[StockEvent],
        discount: Option<&Discount>,
    ) -> Result<(), StoreError> {
        let db = |e| map_err(e, Context::Write);
        self.0.product_row(product).map_err(db)?;
        for event in events {
            self.0.event(event).map_err(db)?;
        }
        match discount {
            Some(discount) => self.0.discount(discount).map_err(db),
            None => Ok(()),
        }
    }

    fn coupon(&mut self, coupon: &Coupon) -> Result<(), StoreError> {
        self.0
            .coupon(coupon)
            .map_err(|e| map_err(e, Context::CreateCoupon(coupon.code.as_str())))
    }
}

fn read_err(e: rusqlite::Error) -> StoreError {
    map_err(e, Context::Read)
}

/// Every row of a query, decoded.
fn decode_all<T>(
    stmt: &mut CachedStatement<'_>,
    params: impl Params,
    decode: impl Fn(&SqliteRow<'_, '_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut rows = stmt.query(params).map_err(read_err)?;
    let mut found = Vec::new();
    while let Some(row) = rows.next().map_err(read_err)? {
        found.push(decode(&SqliteRow(row))?);
    }
    Ok(found)
}

/// The first row of a query, decoded, if there is one.
fn decode_first<T>(
    stmt: &mut CachedStatement<'_>,
    params: impl Params,
    decode: impl Fn(&SqliteRow<'_, '_>) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    let mut rows = stmt.query(params).map_err(read_err)?;
    match rows.next().map_err(read_err)? {
        Some(row) => decode(&SqliteRow(row)).map(Some),
        None => Ok(None),
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
        let store =
            SqliteStore::open(&dir.path().join("pragmas.db"), DEFAULT_BUSY_TIMEOUT, true).unwrap();
        let pragma = |name: &str| -> String {
            store
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
