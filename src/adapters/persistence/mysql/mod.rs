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

mod errors;
mod rows;
mod schema;

use std::cell::RefCell;
use std::time::Duration;

use ::mysql::prelude::Queryable;
use ::mysql::{Conn, Opts, OptsBuilder, Row, Transaction, TxOpts, Value};

use crate::adapters::persistence::url::MysqlUrl;
use crate::adapters::persistence::StoreSettings;
use crate::app::ports::{
    CatalogStore, ImportAborted, ImportCounts, ImportItem, PageStart, ProductDetails,
    ProductListing, ProductQuery, StoreError, StoreStatus,
};
use crate::domain::{
    Coupon, CouponCode, CustomerId, Discount, Instant, Product, ProductId, StockEvent,
};
use errors::{map_err, Context, Secrets};
use schema::MigrationLock;

/// How long to wait for the TCP connection: a down or firewalled server
/// fails in seconds, never hangs.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Added to the lock timeout to bound every read and write on the socket: a
/// statement may legitimately wait that long for a lock, but a server that
/// accepted the connection and then went silent must not hang milly forever.
const IO_TIMEOUT_MARGIN: Duration = Duration::from_secs(30);

/// Strict: a value that does not fit is an error, never silently clipped;
/// and a table is InnoDB or is not created at all.
const SQL_MODE: &str =
    "STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION";

pub struct MysqlStore {
    /// `Conn` needs `&mut` for every statement while the port takes `&self`;
    /// one command runs on one thread, so a `RefCell` is all it takes.
    conn: RefCell<Conn>,
    /// The URL with its password masked, for `db status` and messages.
    location: String,
    /// Names the migration lock, which is server-wide.
    database: String,
    /// `--lock-timeout-ms` in whole seconds, as InnoDB and GET_LOCK count it.
    lock_wait_secs: u64,
    secrets: Secrets,
}

impl MysqlStore {
    pub fn open(url: &MysqlUrl, settings: &StoreSettings) -> Result<Self, StoreError> {
        let location = url.masked();
        let opts = Opts::from_url(url.expose()).map_err(|e| {
            map_err(
                e.into(),
                Context::Connect(&location),
                &Secrets::new([url.password()]),
            )
        })?;
        let secrets = Secrets::new([url.password(), opts.get_pass()]);
        let database = match opts.get_db_name() {
            Some(name) if !name.is_empty() => name.to_owned(),
            _ => {
                return Err(StoreError::Unavailable(format!(
                "{location} names no database; expected mysql://user:password@host:port/database"
            )))
            }
        };
        let lock_wait_secs = settings.lock_timeout.as_millis().div_ceil(1000).max(1) as u64;
        let io_timeout = Duration::from_secs(lock_wait_secs) + IO_TIMEOUT_MARGIN;
        let opts = OptsBuilder::from_opts(opts)
            // The driver would otherwise ask a local server for its Unix
            // socket and connect a second time: a round trip and a handshake
            // more per command, and possibly another account (user@localhost).
            .prefer_socket(false)
            .tcp_connect_timeout(Some(CONNECT_TIMEOUT))
            .read_timeout(Some(io_timeout))
            .write_timeout(Some(io_timeout))
            // Two statements, two round trips on every start.
            .init(vec![
                format!(
                    "SET NAMES utf8mb4 COLLATE utf8mb4_bin, time_zone = '+00:00', sql_mode = '{SQL_MODE}', \
                     innodb_lock_wait_timeout = {lock_wait_secs}, lock_wait_timeout = {lock_wait_secs}"
                ),
                "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED".to_owned(),
            ]);
        let conn =
            Conn::new(opts).map_err(|e| map_err(e, Context::Connect(&location), &secrets))?;
        Ok(MysqlStore {
            conn: RefCell::new(conn),
            location,
            database,
            lock_wait_secs,
            secrets,
        })
    }

    fn err<'a>(&'a self, context: Context<'a>) -> impl Fn(::mysql::Error) -> StoreError + 'a {
        move |e| map_err(e, context, &self.secrets)
    }
}

const PRODUCT_COLUMNS: &str =
    "p.id, p.name, p.description, p.price_cents, p.created_at, p.updated_at";
const EVENT_COLUMNS: &str =
    "id, product_id, `change`, total_after_change, version, reason, created_at";
const COUPON_COLUMNS: &str =
    "id, user_id, code, percentage_bp, valid_from, valid_to, is_active, created_at";

/// The product's current stock: one backward step on the unique
/// (product_id, version) index.
const STOCK_SUBQUERY: &str = "(SELECT e.total_after_change FROM stock_events e
                               WHERE e.product_id = p.id ORDER BY e.version DESC LIMIT 1)";

/// The discount applying at the instant bound twice here. `active_product_id`
/// is set only on the active discount, so this is one unique-key lookup.
const APPLICABLE_DISCOUNT_JOIN: &str = "LEFT JOIN discounts d
    ON d.active_product_id = p.id AND d.valid_from <= ? AND d.valid_to > ?";
const DISCOUNT_SELECT: &str =
    "d.id, d.product_id, d.percentage_bp, d.valid_from, d.valid_to, d.is_active, d.created_at";

/// An INSERT whose values come from `rows::*_values`, for one row or many.
struct Insert {
    head: &'static str,
    columns: usize,
}

impl Insert {
    /// The statement for `rows` rows: one multi-row INSERT is one round trip.
    fn sql(&self, rows: usize) -> String {
        let row = format!("({})", vec!["?"; self.columns].join(", "));
        format!("{} VALUES {}", self.head, vec![row; rows].join(", "))
    }
}

const PRODUCT_INSERT: Insert = Insert {
    head: "INSERT INTO products (seq, id, name, name_folded, description, price_cents, created_at, updated_at)",
    columns: 8,
};
const EVENT_INSERT: Insert = Insert {
    head: "INSERT INTO stock_events (id, product_id, `change`, total_after_change, version, reason, created_at)",
    columns: 7,
};
const DISCOUNT_INSERT: Insert = Insert {
    head: "INSERT INTO discounts (id, product_id, percentage_bp, valid_from, valid_to, is_active, created_at)",
    columns: 7,
};
const COUPON_INSERT: Insert = Insert {
    head: "INSERT INTO coupons (id, user_id, code, code_key, percentage_bp, valid_from, valid_to, is_active, created_at)",
    columns: 9,
};

/// Takes the `products` row of milly_locks until the transaction ends, then
/// returns the next free position. Writers that add products take turns
/// here, so positions stay dense without gaps or duplicates; under READ
/// COMMITTED the MAX read after the lock sees every earlier writer's commit.
fn next_position(tx: &mut Transaction<'_>) -> ::mysql::Result<i64> {
    tx.query_drop(
        "INSERT INTO milly_locks (name) VALUES ('products') ON DUPLICATE KEY UPDATE name = name",
    )?;
    let next: Option<i64> = tx.query_first("SELECT COALESCE(MAX(seq), 0) + 1 FROM products")?;
    Ok(next.unwrap_or(1))
}

impl CatalogStore for MysqlStore {
    fn create_product(&self, product: &Product, opening: &StockEvent) -> Result<(), StoreError> {
        let mut conn = self.conn.borrow_mut();
        let mut write = || -> ::mysql::Result<()> {
            let mut tx = conn.start_transaction(TxOpts::default())?;
            let position = next_position(&mut tx)?;
            tx.exec_drop(
                PRODUCT_INSERT.sql(1),
                rows::product_values(position, product),
            )?;
            tx.exec_drop(EVENT_INSERT.sql(1), rows::event_values(opening))?;
            tx.commit()
        };
        write().map_err(self.err(Context::Write))
    }

    fn list_products(
        &self,
        query: &ProductQuery,
        at: Instant,
    ) -> Result<Vec<ProductListing>, StoreError> {
        // Positions are dense, so without a filter "skip N" is "start after
        // position N": a primary-key range, whatever the page number. A
        // filter has to look at names, in position order, until the page is
        // full. LOCATE, not LIKE: the folded term is matched literally, `%`
        // and `_` included, byte for byte under the column's binary
        // collation. The page's positions are chosen first, so the stock and
        // discount lookups run only for the rows shown.
        let (after, skip) = match (&query.name_contains, query.start) {
            (None, PageStart::Offset(skip)) => (i64::try_from(skip).unwrap_or(i64::MAX), 0),
            (Some(_), PageStart::Offset(skip)) => (0, skip),
            (_, PageStart::After(position)) => (position, 0),
        };
        let sql = format!(
            "SELECT {PRODUCT_COLUMNS}, {STOCK_SUBQUERY}, {DISCOUNT_SELECT}, p.seq
               FROM (SELECT seq FROM products
                      WHERE seq > ? AND (? IS NULL OR LOCATE(?, name_folded) > 0)
                      ORDER BY seq LIMIT ? OFFSET ?) page
               JOIN products p ON p.seq = page.seq
               {APPLICABLE_DISCOUNT_JOIN}
              ORDER BY p.seq"
        );
        let at = rows::datetime(at);
        let name = query.name_contains.as_deref();
        let found: Vec<Row> = self
            .conn
            .borrow_mut()
            .exec(sql, (after, name, name, query.limit, skip, at.clone(), at))
            .map_err(self.err(Context::Read))?;
        found
            .iter()
            .map(|r| {
                Ok(ProductListing {
                    product: rows::product(r, 0)?,
                    stock: rows::integer(r, 6)?,
                    discount: rows::optional(r, 7, rows::discount)?,
                    position: rows::integer(r, 14)?,
                })
            })
            .collect()
    }

    fn product_details(
        &self,
        id: &ProductId,
        customer: Option<&CustomerId>,
        at: Instant,
    ) -> Result<Option<ProductDetails>, StoreError> {
        // One statement, so one round trip and one consistent read: the
        // product, its stock, its discount and the customer's best coupon
        // (none when no customer is given: `user_id = NULL` matches nothing).
        let sql = format!(
            "SELECT {PRODUCT_COLUMNS}, {STOCK_SUBQUERY}, {DISCOUNT_SELECT},
                    c.id, c.user_id, c.code, c.percentage_bp, c.valid_from, c.valid_to, c.is_active, c.created_at
               FROM products p
               {APPLICABLE_DISCOUNT_JOIN}
               LEFT JOIN coupons c
                 ON c.seq = (SELECT b.seq FROM coupons b
                              WHERE b.user_id = ? AND b.is_active = 1 AND b.valid_from <= ? AND b.valid_to > ?
                              ORDER BY b.percentage_bp DESC, b.valid_to ASC, b.seq ASC LIMIT 1)
              WHERE p.id = ?"
        );
        let at = rows::datetime(at);
        let found: Option<Row> = self
            .conn
            .borrow_mut()
            .exec_first(
                sql,
                (
                    at.clone(),
                    at.clone(),
                    customer.map(CustomerId::as_str),
                    at.clone(),
                    at,
                    id.as_str(),
                ),
            )
            .map_err(self.err(Context::Read))?;
        found
            .map(|r| {
                Ok(ProductDetails {
                    product: rows::product(&r, 0)?,
                    stock: rows::integer(&r, 6)?,
                    discount: rows::optional(&r, 7, rows::discount)?,
                    coupon: rows::optional(&r, 14, rows::coupon)?,
                })
            })
            .transpose()
    }

    fn latest_stock_event(&self, id: &ProductId) -> Result<Option<StockEvent>, StoreError> {
        let found: Option<Row> = self
            .conn
            .borrow_mut()
            .exec_first(
                format!(
                    "SELECT {EVENT_COLUMNS} FROM stock_events
                      WHERE product_id = ? ORDER BY version DESC LIMIT 1"
                ),
                (id.as_str(),),
            )
            .map_err(self.err(Context::Read))?;
        found.map(|r| rows::event(&r, 0)).transpose()
    }

    fn append_stock_event(&self, event: &StockEvent) -> Result<(), StoreError> {
        // A single autocommit INSERT: it holds its locks only for itself, and
        // the unique (product_id, version) index decides the race.
        self.conn
            .borrow_mut()
            .exec_drop(EVENT_INSERT.sql(1), rows::event_values(event))
            .map_err(self.err(Context::AppendEvent(event.product_id.as_str())))
    }

    fn stock_history(&self, id: &ProductId) -> Result<Option<Vec<StockEvent>>, StoreError> {
        let found: Vec<Row> = self
            .conn
            .borrow_mut()
            .exec(
                format!(
                    "SELECT {EVENT_COLUMNS} FROM stock_events WHERE product_id = ? ORDER BY version"
                ),
                (id.as_str(),),
            )
            .map_err(self.err(Context::Read))?;
        let events = found
            .iter()
            .map(|r| rows::event(r, 0))
            .collect::<Result<Vec<_>, _>>()?;
        // Every product has its version-1 event, so no rows means no product.
        Ok((!events.is_empty()).then_some(events))
    }

    fn replace_discount(&self, discount: &Discount) -> Result<(), StoreError> {
        let product_id = discount.product_id.as_str();
        let mut conn = self.conn.borrow_mut();
        let mut write = || -> ::mysql::Result<bool> {
            let mut tx = conn.start_transaction(TxOpts::default())?;
            // Locking the product row makes concurrent `discount set` for one
            // product take turns instead of colliding on the one-active
            // index, and tells a missing product apart directly.
            let product: Option<i64> = tx.exec_first(
                "SELECT 1 FROM products WHERE id = ? FOR UPDATE",
                (product_id,),
            )?;
            if product.is_none() {
                return Ok(false);
            }
            tx.exec_drop(
                "UPDATE discounts SET is_active = 0 WHERE active_product_id = ?",
                (product_id,),
            )?;
            tx.exec_drop(DISCOUNT_INSERT.sql(1), rows::discount_values(discount))?;
            tx.commit()?;
            Ok(true)
        };
        match write().map_err(self.err(Context::WriteForProduct(product_id)))? {
            true => Ok(()),
            false => Err(StoreError::ProductNotFound(product_id.to_owned())),
        }
    }

    fn create_coupon(&self, coupon: &Coupon) -> Result<(), StoreError> {
        self.conn
            .borrow_mut()
            .exec_drop(COUPON_INSERT.sql(1), rows::coupon_values(coupon))
            .map_err(self.err(Context::CreateCoupon(coupon.code.as_str())))
    }

    fn deactivate_coupon(&self, code: &CouponCode) -> Result<Option<Coupon>, StoreError> {
        let mut conn = self.conn.borrow_mut();
        let mut write = || -> ::mysql::Result<Option<Row>> {
            let mut tx = conn.start_transaction(TxOpts::default())?;
            tx.exec_drop(
                "UPDATE coupons SET is_active = 0 WHERE code_key = ?",
                (code.key(),),
            )?;
            let found = tx.exec_first(
                format!("SELECT {COUPON_COLUMNS} FROM coupons WHERE code_key = ?"),
                (code.key(),),
            )?;
            tx.commit()?;
            Ok(found)
        };
        write()
            .map_err(self.err(Context::Write))?
            .map(|r| rows::coupon(&r, 0))
            .transpose()
    }

    fn import(
        &self,
        items: &mut dyn Iterator<Item = Result<ImportItem, ImportAborted>>,
    ) -> Result<Option<ImportCounts>, StoreError> {
        let db = self.err(Context::Write);
        let mut conn = self.conn.borrow_mut();
        // Dropping the transaction without commit rolls it back.
        let mut tx = conn.start_transaction(TxOpts::default()).map_err(&db)?;
        let mut position = next_position(&mut tx).map_err(&db)?;
        let mut batches = ImportBatches::default();
        let mut counts = ImportCounts::default();
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
                    let rows = std::iter::once((
                        Table::Products,
                        rows::product_values(position, &product),
                    ))
                    .chain(
                        events
                            .iter()
                            .map(|e| (Table::Events, rows::event_values(e))),
                    )
                    .chain(
                        discount
                            .iter()
                            .map(|d| (Table::Discounts, rows::discount_values(d))),
                    );
                    for (table, values) in rows {
                        batches.add(table, values, &mut tx).map_err(&db)?;
                    }
                    position += 1;
                    counts.products += 1;
                    counts.stock_events += events.len() as u64;
                    counts.discounts += u64::from(discount.is_some());
                }
                // One at a time, so a taken code is reported as that code.
                ImportItem::Coupon(coupon) => {
                    tx.exec_drop(COUPON_INSERT.sql(1), rows::coupon_values(&coupon))
                        .map_err(self.err(Context::CreateCoupon(coupon.code.as_str())))?;
                    counts.coupons += 1;
                }
            }
        }
        batches.flush(&mut tx).map_err(&db)?;
        tx.commit().map_err(&db)?;
        Ok(Some(counts))
    }

    fn migrate(&self) -> Result<Vec<i64>, StoreError> {
        let lock = MigrationLock {
            database: &self.database,
            wait_secs: self.lock_wait_secs,
        };
        schema::migrate(&mut self.conn.borrow_mut(), &lock, &self.secrets)
    }

    fn status(&self) -> Result<StoreStatus, StoreError> {
        schema::status(
            &mut self.conn.borrow_mut(),
            self.location.clone(),
            &self.secrets,
        )
    }
}

/// Rows per multi-row INSERT in a bulk import: a round trip per few hundred
/// rows instead of per row, while a statement (at most 500 descriptions of
/// 2,000 characters) stays far below the server's max_allowed_packet.
const IMPORT_BATCH_ROWS: usize = 500;

/// Which batch an import row goes to, in the order batches are flushed.
#[derive(Clone, Copy)]
enum Table {
    Products,
    Events,
    Discounts,
}

/// Import rows waiting to be written, flushed parents first (products before
/// the events and discounts that reference them) whenever one batch is
/// full, so memory stays flat however long the input.
#[derive(Default)]
struct ImportBatches {
    rows: [Vec<Vec<Value>>; 3],
}

impl ImportBatches {
    const INSERTS: [&'static Insert; 3] = [&PRODUCT_INSERT, &EVENT_INSERT, &DISCOUNT_INSERT];

    fn add(
        &mut self,
        table: Table,
        values: Vec<Value>,
        tx: &mut Transaction<'_>,
    ) -> ::mysql::Result<()> {
        let batch = &mut self.rows[table as usize];
        batch.push(values);
        if batch.len() >= IMPORT_BATCH_ROWS {
            self.flush(tx)?;
        }
        Ok(())
    }

    fn flush(&mut self, tx: &mut Transaction<'_>) -> ::mysql::Result<()> {
        for (insert, rows) in Self::INSERTS.iter().zip(&mut self.rows) {
            if !rows.is_empty() {
                let sql = insert.sql(rows.len());
                tx.exec_drop(sql, rows.drain(..).flatten().collect::<Vec<_>>())?;
            }
        }
        Ok(())
    }
}
