//! The SQLite store: the embedded default.
//!
//! One connection per process, WAL journal (readers never block the writer),
//! `synchronous = FULL` (a commit survives power loss), foreign keys on, and
//! a busy timeout so concurrent writers queue instead of failing at once.

mod busy;
mod errors;
mod rows;
mod schema;
mod writes;

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use crate::app::ports::{
    CatalogStore, ImportAborted, ImportCounts, ImportItem, PageStart, ProductDetails,
    ProductListing, ProductQuery, StoreError, StoreStatus,
};
use crate::domain::{
    Coupon, CouponCode, CustomerId, Discount, Instant, Product, ProductId, StockEvent,
};
use errors::{map_err, Context};
use writes::Inserts;

/// Page cache for bulk imports, in KiB.
const IMPORT_CACHE_KIB: i64 = 256 * 1024;

/// How long a writer waits for another process's lock by default.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens (creating if needed, readable by its owner only) the database at
    /// `path`. The folder must exist: milly creates only its own default one.
    pub fn open(path: &Path, busy_timeout: Duration) -> Result<Self, StoreError> {
        create_private_file(path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(path, flags).map_err(|e| map_err(e, Context::Open))?;
        busy::wait_up_to(&conn, busy_timeout).map_err(|e| map_err(e, Context::Open))?;
        busy::retry_until(busy_timeout, || configure(&conn))
            .map_err(|e| map_err(e, Context::Open))?;
        Ok(SqliteStore {
            conn,
            path: path.to_path_buf(),
        })
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
fn create_private_file(path: &Path) -> Result<(), StoreError> {
    if path.exists() {
        return Ok(());
    }
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map(drop)
        .map_err(|e| {
            StoreError::Unavailable(format!(
                "cannot create the database file {}: {e}",
                path.display()
            ))
        })
}

const PRODUCT_COLUMNS: &str =
    "p.id, p.name, p.description, p.price_cents, p.created_at, p.updated_at";
const DISCOUNT_COLUMNS: &str =
    "id, product_id, percentage_bp, valid_from, valid_to, is_active, created_at";
const COUPON_COLUMNS: &str =
    "id, user_id, code, percentage_bp, valid_from, valid_to, is_active, created_at";
const EVENT_COLUMNS: &str =
    "id, product_id, change, total_after_change, version, reason, created_at";

impl CatalogStore for SqliteStore {
    fn create_product(&self, product: &Product, opening: &StockEvent) -> Result<(), StoreError> {
        let write = || -> rusqlite::Result<()> {
            let tx =
                rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
            let mut rows = Inserts::prepare(&tx)?;
            rows.product(product)?;
            rows.event(opening)?;
            drop(rows);
            tx.commit()
        };
        write().map_err(|e| map_err(e, Context::Write))
    }

    fn list_products(
        &self,
        query: &ProductQuery,
        at: Instant,
    ) -> Result<Vec<ProductListing>, StoreError> {
        let (candidates, after, offset) = page_plan(query);
        let sql = format!(
            "SELECT {PRODUCT_COLUMNS},
                    (SELECT e.total_after_change FROM stock_events e
                      WHERE e.product_id = p.id ORDER BY e.version DESC LIMIT 1),
                    d.id, d.product_id, d.percentage_bp, d.valid_from, d.valid_to, d.is_active, d.created_at,
                    p.seq
               FROM products p
               LEFT JOIN discounts d
                 ON d.product_id = p.id AND d.is_active = 1 AND d.valid_from <= :at AND d.valid_to > :at
              WHERE {candidates}
              ORDER BY p.seq"
        );
        let run = || -> rusqlite::Result<Vec<ProductListing>> {
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let at = at.to_rfc3339();
            let phrase = query.name_contains.as_deref().map(fts_phrase);
            let mut bound: Vec<(&str, &dyn rusqlite::ToSql)> = vec![
                (":at", &at),
                (":after", &after),
                (":limit", &query.limit),
                (":offset", &offset),
            ];
            match candidates {
                Candidates::TrigramIndex => bound.push((":term", &phrase)),
                Candidates::NameScan => bound.push((":term", &query.name_contains)),
                Candidates::All => {}
            }
            let rows = stmt.query_map(bound.as_slice(), |r| {
                Ok(ProductListing {
                    product: rows::product(r, 0)?,
                    stock: r.get(6)?,
                    discount: rows::optional_discount(r, 7)?,
                    position: r.get(14)?,
                })
            })?;
            rows.collect()
        };
        run().map_err(|e| map_err(e, Context::Read))
    }

    fn product_details(
        &self,
        id: &ProductId,
        customer: Option<&CustomerId>,
        at: Instant,
    ) -> Result<Option<ProductDetails>, StoreError> {
        let at_text = at.to_rfc3339();
        let read = || -> rusqlite::Result<Option<ProductDetails>> {
            // One read transaction: the product, its stock and its offers
            // come from the same snapshot.
            let tx =
                rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Deferred)?;
            let found = tx
                .prepare_cached(&format!(
                    "SELECT {PRODUCT_COLUMNS},
                            (SELECT e.total_after_change FROM stock_events e
                              WHERE e.product_id = p.id ORDER BY e.version DESC LIMIT 1)
                       FROM products p WHERE p.id = ?1"
                ))?
                .query_row([id.as_str()], |r| {
                    Ok((rows::product(r, 0)?, r.get::<_, i64>(6)?))
                })
                .optional()?;
            let Some((product, stock)) = found else {
                return Ok(None);
            };
            let discount = tx
                .prepare_cached(&format!(
                    "SELECT {DISCOUNT_COLUMNS} FROM discounts
                      WHERE product_id = ?1 AND is_active = 1 AND valid_from <= ?2 AND valid_to > ?2"
                ))?
                .query_row(params![id.as_str(), at_text], |r| rows::discount(r, 0))
                .optional()?;
            let coupon = match customer {
                None => None,
                Some(customer) => tx
                    .prepare_cached(&format!(
                        "SELECT {COUPON_COLUMNS} FROM coupons
                          WHERE user_id = ?1 AND is_active = 1 AND valid_from <= ?2 AND valid_to > ?2
                          ORDER BY percentage_bp DESC, valid_to ASC, seq ASC LIMIT 1"
                    ))?
                    .query_row(params![customer.as_str(), at_text], |r| rows::coupon(r, 0))
                    .optional()?,
            };
            tx.commit()?;
            Ok(Some(ProductDetails {
                product,
                stock,
                discount,
                coupon,
            }))
        };
        read().map_err(|e| map_err(e, Context::Read))
    }

    fn latest_stock_event(&self, id: &ProductId) -> Result<Option<StockEvent>, StoreError> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM stock_events WHERE product_id = ?1 ORDER BY version DESC LIMIT 1"
            ))
            .and_then(|mut s| s.query_row([id.as_str()], |r| rows::event(r, 0)).optional())
            .map_err(|e| map_err(e, Context::Read))
    }

    fn append_stock_event(&self, event: &StockEvent) -> Result<(), StoreError> {
        // A single autocommit INSERT: it takes the write lock only for itself,
        // and the unique (product_id, version) index decides the race.
        Inserts::prepare(&self.conn)
            .and_then(|mut rows| rows.event(event))
            .map_err(|e| map_err(e, Context::AppendEvent))
    }

    fn stock_history(&self, id: &ProductId) -> Result<Option<Vec<StockEvent>>, StoreError> {
        let read = || -> rusqlite::Result<Option<Vec<StockEvent>>> {
            let mut stmt = self.conn.prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM stock_events WHERE product_id = ?1 ORDER BY version"
            ))?;
            let events = stmt
                .query_map([id.as_str()], |r| rows::event(r, 0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            // Every product has its version-1 event, so no rows means no product.
            Ok((!events.is_empty()).then_some(events))
        };
        read().map_err(|e| map_err(e, Context::Read))
    }

    fn replace_discount(&self, discount: &Discount) -> Result<(), StoreError> {
        let write = || -> rusqlite::Result<()> {
            let tx =
                rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
            tx.prepare_cached(
                "UPDATE discounts SET is_active = 0 WHERE product_id = ?1 AND is_active = 1",
            )?
            .execute([discount.product_id.as_str()])?;
            Inserts::prepare(&tx)?.discount(discount)?;
            tx.commit()
        };
        write().map_err(|e| map_err(e, Context::WriteForProduct(discount.product_id.as_str())))
    }

    fn create_coupon(&self, coupon: &Coupon) -> Result<(), StoreError> {
        Inserts::prepare(&self.conn)
            .and_then(|mut rows| rows.coupon(coupon))
            .map_err(|e| map_err(e, Context::CreateCoupon(coupon.code.as_str())))
    }

    fn deactivate_coupon(&self, code: &CouponCode) -> Result<Option<Coupon>, StoreError> {
        let write = || -> rusqlite::Result<Option<Coupon>> {
            let tx =
                rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
            tx.prepare_cached("UPDATE coupons SET is_active = 0 WHERE code_key = ?1")?
                .execute([code.key()])?;
            let coupon = tx
                .prepare_cached(&format!(
                    "SELECT {COUPON_COLUMNS} FROM coupons WHERE code_key = ?1"
                ))?
                .query_row([code.key()], |r| rows::coupon(r, 0))
                .optional()?;
            tx.commit()?;
            Ok(coupon)
        };
        write().map_err(|e| map_err(e, Context::Write))
    }

    fn import(
        &self,
        items: &mut dyn Iterator<Item = Result<ImportItem, ImportAborted>>,
    ) -> Result<Option<ImportCounts>, StoreError> {
        let write = || -> Result<Option<ImportCounts>, StoreError> {
            let db = |e| map_err(e, Context::Write);
            // A large page cache keeps the growing indexes in memory instead
            // of spilling half-written pages to the WAL over and over.
            self.conn
                .pragma_update(None, "cache_size", -IMPORT_CACHE_KIB)
                .map_err(db)?;
            // Dropping the transaction without commit rolls it back.
            let tx =
                rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
                    .map_err(db)?;
            let mut counts = ImportCounts::default();
            let first_new: i64 = tx
                .query_row("SELECT COALESCE(MAX(seq), 0) FROM products", [], |r| {
                    r.get(0)
                })
                .map_err(db)?;
            let mut rows = Inserts::prepare(&tx).map_err(db)?;
            for item in items {
                let Ok(item) = item else {
                    return Ok(None);
                };
                match item {
                    ImportItem::Product {
                        product,
                        events,
                        discount,
                    } => {
                        rows.product_row(&product).map_err(db)?;
                        for event in &events {
                            rows.event(event).map_err(db)?;
                        }
                        if let Some(discount) = &discount {
                            rows.discount(discount).map_err(db)?;
                            counts.discounts += 1;
                        }
                        counts.products += 1;
                        counts.stock_events += events.len() as u64;
                    }
                    ImportItem::Coupon(coupon) => {
                        rows.coupon(&coupon)
                            .map_err(|e| map_err(e, Context::CreateCoupon(coupon.code.as_str())))?;
                        counts.coupons += 1;
                    }
                }
            }
            drop(rows);
            // Index the new names in one pass (products are numbered densely,
            // so the new ones are exactly those after `first_new`).
            tx.execute(
                "INSERT INTO products_name_search (rowid, name_folded)
                 SELECT seq, name_folded FROM products WHERE seq > ?1",
                [first_new],
            )
            .map_err(db)?;
            tx.commit().map_err(db)?;
            Ok(Some(counts))
        };
        write()
    }

    fn migrate(&self) -> Result<Vec<i64>, StoreError> {
        schema::migrate(&self.conn)
    }

    fn status(&self) -> Result<StoreStatus, StoreError> {
        schema::status(&self.conn, self.location())
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
                            WHERE seq > :after
                            ORDER BY seq LIMIT :limit OFFSET :offset)"
            }
            Candidates::TrigramIndex => {
                "p.seq IN (SELECT rowid FROM products_name_search
                            WHERE products_name_search MATCH :term AND rowid > :after
                            ORDER BY rowid LIMIT :limit OFFSET :offset)"
            }
            Candidates::NameScan => {
                "p.seq IN (SELECT seq FROM products
                            WHERE seq > :after AND instr(name_folded, :term) > 0
                            ORDER BY seq LIMIT :limit OFFSET :offset)"
            }
        })
    }
}

/// The candidate clause, the position to start after, and the rows to skip.
fn page_plan(query: &ProductQuery) -> (Candidates, i64, i64) {
    let candidates = match &query.name_contains {
        None => Candidates::All,
        Some(term) if term.chars().count() >= 3 => Candidates::TrigramIndex,
        Some(_) => Candidates::NameScan,
    };
    let clamp = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    match (candidates, query.start) {
        // Dense positions turn "skip N" into "start after position N".
        (Candidates::All, PageStart::Offset(skip)) => (candidates, clamp(skip), 0),
        (_, PageStart::Offset(skip)) => (candidates, 0, clamp(skip)),
        (_, PageStart::After(position)) => (candidates, position, 0),
    }
}

/// The filter as an FTS5 phrase: matched as a literal substring, with
/// quotes doubled so no character has a query meaning.
fn fts_phrase(term: &str) -> String {
    format!("\"{}\"", term.replace('"', "\"\""))
}
