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
mod ledgers;
mod lifecycle;
mod name_index;
mod rows;
mod schema;
mod stock_batch;
mod tls;
mod url;

use std::cell::{Cell, RefCell};
use std::ops::ControlFlow;
use std::time::Duration;

use ::mysql::prelude::Queryable;
use ::mysql::{Conn, OptsBuilder, Row, Value};

use crate::adapters::persistence::decode::{self, Columns};
use crate::adapters::persistence::import::{self, ImportWriter};
use crate::adapters::persistence::paging::PagePlan;
use crate::adapters::persistence::unit::OpenUnit;
use crate::adapters::persistence::StoreSettings;
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

pub struct MysqlStore {
    /// `Conn` needs `&mut` for every statement while the port takes `&self`;
    /// one command runs on one thread, so a `RefCell` is all it takes.
    conn: RefCell<Conn>,
    /// The URL with its password masked, for `db status` and messages.
    location: String,
    /// The database's name, for messages.
    database: String,
    /// `--lock-timeout-ms`: the longest wait for the migration lease.
    lock_wait: Duration,
    secrets: Secrets,
    /// Whether a unit of work is open: methods then join its transaction.
    in_unit: OpenUnit,
    /// Roll back instead of committing (see [`MysqlStore::end_transaction`]).
    dry_run: bool,
    /// The schema version read when the session started, for the first
    /// schema check (`prepare`) only: later checks ask again.
    schema_at_connect: Cell<Option<i64>>,
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

impl MysqlStore {
    pub fn open(url: &MysqlUrl, settings: &StoreSettings) -> Result<Self, StoreError> {
        let location = url.masked();
        let secrets = Secrets::new([url.password(), url.decoded_password()]);
        let lock_wait_secs = settings.lock_timeout.as_millis().div_ceil(1000).max(1) as u64;
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
        let (conn, schema_version) =
            connect::within(settings.connect_timeout, opts.clone(), session.clone(), url)
                .map_err(|e| e.into_store_error(&location, url, settings, &secrets))?;
        Ok(MysqlStore {
            conn: RefCell::new(conn),
            location,
            database: url.database.clone(),
            lock_wait: settings.lock_timeout,
            secrets,
            in_unit: OpenUnit::default(),
            dry_run: settings.dry_run,
            schema_at_connect: Cell::new(schema_version),
            reconnect: Reconnect {
                opts,
                session,
                url: url.clone(),
                settings: *settings,
            },
        })
    }

    /// A dry run applies nothing: it returns the versions a real run would
    /// apply, which the caller reports.
    fn migrate_as(&self, upgrade: Upgrade) -> Result<Vec<i64>, StoreError> {
        if self.dry_run {
            return schema::pending(&mut self.conn.borrow_mut(), &self.secrets);
        }
        let mut conn = self.conn.borrow_mut();
        let mut own;
        let conn =
            if upgrade == Upgrade::All && !schema::pending(&mut conn, &self.secrets)?.is_empty() {
                own = self.migration_conn()?;
                &mut own
            } else {
                &mut *conn
            };
        schema::migrate(conn, self.lock_wait, upgrade, &self.database, &self.secrets)
    }

    /// A connection whose reads wait as long as a migration statement may
    /// run under the lease: the command's own connection gives up after
    /// the lock timeout, and backfilling an index over a large catalog
    /// (version 15) takes longer than that.
    fn migration_conn(&self) -> Result<Conn, StoreError> {
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

    /// The one place where this adapter's transactions end: a method's own
    /// or a unit of work. A store opened for a dry run rolls back instead
    /// of committing, so a dry run keeps nothing.
    fn end_transaction(&self, conn: &mut Conn, commit: bool) -> ::mysql::Result<()> {
        let commit = commit && !self.dry_run;
        conn.query_drop(if commit { "COMMIT" } else { "ROLLBACK" })
    }

    /// Runs `work` in a transaction, or inside the open unit of work. Every
    /// transaction of this adapter starts here or in `begin_unit`, and ends
    /// in [`Self::end_transaction`]; a failure rolls it back.
    fn transaction<T>(
        &self,
        context: Context<'_>,
        work: impl FnOnce(&mut Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn.borrow_mut();
        if self.in_unit.is_open() {
            return work(&mut conn);
        }
        conn.query_drop("START TRANSACTION")
            .map_err(self.err(context))?;
        match work(&mut conn) {
            Ok(value) => {
                self.end_transaction(&mut conn, true)
                    .map_err(self.err(context))?;
                Ok(value)
            }
            Err(e) => {
                // Reported as the failure it is; a rollback over a lost
                // connection is done by the server.
                let _ = self.end_transaction(&mut conn, false);
                Err(e)
            }
        }
    }

    /// Runs reads that must see one snapshot, in a read-only REPEATABLE
    /// READ transaction (the session's READ COMMITTED gives each statement
    /// its own); inside a unit of work they join its transaction.
    fn snapshot<T>(
        &self,
        context: Context<'_>,
        work: impl FnOnce(&mut Conn) -> ::mysql::Result<T>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn.borrow_mut();
        if self.in_unit.is_open() {
            return work(&mut conn).map_err(self.err(context));
        }
        // One round trip: the level applies to the next transaction only.
        conn.query_drop(
            "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; \
             START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
        )
        .map_err(self.err(context))?;
        let read = work(&mut conn);
        let ended = self.end_transaction(&mut conn, read.is_ok());
        let read = read.map_err(self.err(context))?;
        ended.map_err(self.err(context))?;
        Ok(read)
    }

    /// [`Self::transaction`] for work whose every failure is a driver error
    /// read in one `context`.
    fn write<T>(
        &self,
        context: Context<'_>,
        work: impl FnOnce(&mut Conn) -> ::mysql::Result<T>,
    ) -> Result<T, StoreError> {
        self.transaction(context, |conn| work(conn).map_err(self.err(context)))
    }

    /// A statement that commits on its own outside a unit of work (one
    /// autocommit INSERT holds its locks only for itself), and joins the
    /// unit inside one.
    fn single<T>(
        &self,
        context: Context<'_>,
        work: impl FnOnce(&mut Conn) -> ::mysql::Result<T>,
    ) -> Result<T, StoreError> {
        // A dry run's statement needs a transaction to roll back.
        if self.dry_run {
            return self.write(context, work);
        }
        work(&mut self.conn.borrow_mut()).map_err(self.err(context))
    }

    fn err<'a>(&'a self, context: Context<'a>) -> impl Fn(::mysql::Error) -> StoreError + 'a {
        move |e| map_err(e, context, &self.secrets)
    }
}

const PRODUCT_COLUMNS: &str =
    "p.id, p.name, p.description, p.price_cents, p.created_at, p.updated_at, p.archived_at, p.actor";
const EVENT_COLUMNS: &str =
    "id, product_id, `change`, total_after_change, version, reason, created_at, actor";
const COUPON_COLUMNS: &str =
    "id, user_id, code, percentage_bp, valid_from, valid_to, is_active, created_at, \
     actor, deactivated_at, deactivated_by";
const DISCOUNT_COLUMNS: &str =
    "id, product_id, percentage_bp, valid_from, valid_to, is_active, created_at, \
     actor, deactivated_at, deactivated_by";

/// The price of product `p` in force at the instant bound three times here.
/// A product not changed since then has its current price (the common case:
/// no lookup); otherwise the last price set at or before it, else the price
/// the first later change replaced, else the current price.
const PRICE_AT: &str = "CASE WHEN p.updated_at <= ? THEN p.price_cents ELSE COALESCE(
      (SELECT c.new_price_cents FROM product_changes c
        WHERE c.product_id = p.id AND c.new_price_cents IS NOT NULL AND c.changed_at <= ?
        ORDER BY c.changed_at DESC, c.seq DESC LIMIT 1),
      (SELECT c.old_price_cents FROM product_changes c
        WHERE c.product_id = p.id AND c.old_price_cents IS NOT NULL AND c.changed_at > ?
        ORDER BY c.changed_at, c.seq LIMIT 1),
      p.price_cents) END";

/// The product's current stock: one backward step on the unique
/// (product_id, version) index.
const STOCK_SUBQUERY: &str = "(SELECT e.total_after_change FROM stock_events e
                               WHERE e.product_id = p.id ORDER BY e.version DESC LIMIT 1)";

/// The discounts that qualify at the instant bound three times here: inside
/// their window and on then (active, or deactivated after it). Replacing
/// deactivates the old discount at the moment the new one is created, so of
/// the discounts set before that instant at most one qualifies; the earliest
/// qualifying one applies (see [`decode::first_per_product`]), so a discount
/// set later with a window reaching back does not displace it. A plain join
/// on the (product_id, seq) index, not a dependent subquery per product: as
/// cheap as looking up the active discount alone.
const APPLICABLE_DISCOUNT_JOIN: &str = "LEFT JOIN discounts d
    ON d.product_id = p.id AND d.valid_from <= ? AND d.valid_to > ?
   AND (d.is_active = 1 OR d.deactivated_at > ?)";
const DISCOUNT_SELECT: &str =
    "d.id, d.product_id, d.percentage_bp, d.valid_from, d.valid_to, d.is_active, d.created_at, \
     d.actor, d.deactivated_at, d.deactivated_by";

/// The columns of a listing row (see [`decode::listing_row`]) from
/// `products p` and the discount joined as `d`; binds the instant three
/// times (the price in force).
fn listing_select() -> String {
    format!(
        "SELECT {PRODUCT_COLUMNS}, {STOCK_SUBQUERY}, {DISCOUNT_SELECT}, p.seq, {PRICE_AT}, d.seq"
    )
}

/// One page of `product list`: its positions are chosen first, so the
/// stock, price and discount lookups run only for the rows shown.
struct PageRows<'p> {
    plan: &'p PagePlan<'p>,
    limit: u32,
    at: Value,
}

impl PageRows<'_> {
    /// The page among the products whose position satisfies `positions`
    /// (SQL made by this adapter, never from input).
    ///
    /// A page is always read along the primary key, in position order: left
    /// to choose, the optimizer takes the index on `archived_at` for
    /// `archived_at IS NULL` (true of nearly every product) and reads the
    /// whole catalog through it, 27 ms instead of 3 for a rare term at 100k.
    fn read(&self, conn: &mut Conn, positions: &str) -> ::mysql::Result<Vec<Row>> {
        let sql = format!(
            "{}
               FROM (SELECT seq FROM products FORCE INDEX (PRIMARY)
                      WHERE {positions} AND seq > ? AND (? IS NULL OR LOCATE(?, name_folded) > 0)
                        AND (? OR archived_at IS NULL)
                      ORDER BY seq LIMIT ? OFFSET ?) page
               JOIN products p ON p.seq = page.seq
               {APPLICABLE_DISCOUNT_JOIN}
              ORDER BY p.seq",
            listing_select()
        );
        let plan = self.plan;
        let mut params: Vec<Value> = vec![self.at.clone(); 3];
        params.extend([
            plan.after.into(),
            plan.term.into(),
            plan.term.into(),
            plan.include_archived.into(),
            self.limit.into(),
            plan.skip.into(),
        ]);
        params.extend(vec![self.at.clone(); 3]);
        conn.exec(sql, params)
    }
}

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
    head: "INSERT INTO products (seq, id, name, name_folded, description, price_cents, created_at, updated_at, archived_at, actor)",
    columns: 10,
};
const EVENT_INSERT: Insert = Insert {
    head: "INSERT INTO stock_events (id, product_id, `change`, total_after_change, version, reason, created_at, actor)",
    columns: 8,
};
const DISCOUNT_INSERT: Insert = Insert {
    head: "INSERT INTO discounts (id, product_id, percentage_bp, valid_from, valid_to, is_active, created_at, actor, deactivated_at, deactivated_by)",
    columns: 10,
};
const COUPON_INSERT: Insert = Insert {
    head: "INSERT INTO coupons (id, user_id, code, code_key, percentage_bp, valid_from, valid_to, is_active, created_at, actor, deactivated_at, deactivated_by)",
    columns: 12,
};

/// Takes the `products` row of milly_locks until the transaction ends, then
/// returns the next free position. Writers that add products take turns
/// here, so positions stay dense without gaps or duplicates; under READ
/// COMMITTED the MAX read after the lock sees every earlier writer's commit.
fn next_position(tx: &mut Conn) -> ::mysql::Result<i64> {
    tx.query_drop(
        "INSERT INTO milly_locks (name) VALUES ('products') ON DUPLICATE KEY UPDATE name = name",
    )?;
    let next: Option<i64> = tx.query_first("SELECT COALESCE(MAX(seq), 0) + 1 FROM products")?;
    Ok(next.unwrap_or(1))
}

impl ProductStore for MysqlStore {
    fn create_product(&self, product: &Product, opening: &StockEvent) -> Result<(), StoreError> {
        self.write(Context::Write, |tx| {
            let position = next_position(tx)?;
            tx.exec_drop(
                PRODUCT_INSERT.sql(1),
                rows::product_values(position, product),
            )?;
            name_index::index_name(tx, position, &product.name.folded())?;
            tx.exec_drop(EVENT_INSERT.sql(1), rows::event_values(opening))
        })
    }

    fn update_product(
        &self,
        before: &Product,
        after: &Product,
        change: &ProductChange,
    ) -> Result<(), StoreError> {
        self.update_product_recorded(before, after, change)
    }

    fn set_archived(&self, change: &ProductChange) -> Result<bool, StoreError> {
        self.set_archived_recorded(change)
    }

    fn product_changes(&self, id: &ProductId) -> Result<Vec<ProductChange>, StoreError> {
        self.read_product_changes(id)
    }

    fn list_products(
        &self,
        query: &ProductQuery,
        at: Instant,
    ) -> Result<Vec<ProductListing>, StoreError> {
        // A filter looks at names, in position order, until the page is
        // full. LOCATE, not LIKE: the folded term is matched literally, `%`
        // and `_` included, byte for byte under the column's binary
        // collation. A term of three or more characters looks only at the
        // blocks of positions the name index gives (see `name_index`); a
        // shorter one has no trigram and scans the names.
        let plan = PagePlan::of(query, || self.any_archived())?;
        let page = PageRows {
            plan: &plan,
            limit: query.limit,
            at: rows::datetime(at),
        };
        let found = match plan.term.filter(|t| t.chars().count() >= 3) {
            None => page
                .read(&mut self.conn.borrow_mut(), "TRUE")
                .map_err(self.err(Context::Read))?,
            // The candidate blocks and the page from one snapshot, so a
            // product added or renamed in between is in both or neither.
            Some(term) => self.snapshot(Context::Read, |conn| {
                let ranges = name_index::candidate_ranges(conn, term)?;
                if ranges.is_empty() {
                    return Ok(Vec::new());
                }
                let within = ranges
                    .iter()
                    .map(|(first, last)| format!("seq BETWEEN {first} AND {last}"))
                    .collect::<Vec<_>>()
                    .join(" OR ");
                page.read(conn, &format!("({within})"))
            })?,
        };
        let rows = found
            .iter()
            .map(|r| decode::listing_row(&MysqlRow(r)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(decode::first_per_product(rows))
    }

    /// One statement, its rows read from the socket as the server sends
    /// them (the driver's result iterator), so the server computes while
    /// milly prints, as a client reading a plain query would.
    fn scan_products(
        &self,
        include_archived: bool,
        at: Instant,
        sink: &mut dyn FnMut(ProductListing) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "{}
               FROM products p FORCE INDEX (PRIMARY)
               {APPLICABLE_DISCOUNT_JOIN}
              WHERE ? OR p.archived_at IS NULL
              ORDER BY p.seq",
            listing_select()
        );
        let at = rows::datetime(at);
        // The price (3), the discount (3), then the filter.
        let mut params: Vec<Value> = vec![at; 6];
        params.push(include_archived.into());
        let read_err = self.err(Context::Read);
        let mut conn = self.conn.borrow_mut();
        let rows = conn.exec_iter(sql, params).map_err(&read_err)?.map(|row| {
            row.map_err(&read_err)
                .and_then(|row: Row| decode::listing_row(&MysqlRow(&row)))
        });
        decode::first_per_product_into(rows, sink)
    }

    fn product_details(
        &self,
        id: &ProductId,
        customer: Option<&CustomerId>,
        at: Instant,
    ) -> Result<Option<ProductDetails>, StoreError> {
        // One statement, so one round trip and one consistent read: the
        // product, its stock, its price and discount then, and the
        // customer's best coupon (none when no customer is given:
        // `user_id = NULL` matches nothing).
        let sql = format!(
            "SELECT {PRODUCT_COLUMNS}, {STOCK_SUBQUERY}, {PRICE_AT}, {DISCOUNT_SELECT},
                    c.id, c.user_id, c.code, c.percentage_bp, c.valid_from, c.valid_to, c.is_active, c.created_at,
                    c.actor, c.deactivated_at, c.deactivated_by
               FROM products p
               {APPLICABLE_DISCOUNT_JOIN}
               LEFT JOIN coupons c
                 ON c.seq = (SELECT b.seq FROM coupons b
                              WHERE b.user_id = ? AND (b.is_active = 1 OR b.deactivated_at > ?)
                                AND b.valid_from <= ? AND b.valid_to > ?
                              ORDER BY b.percentage_bp DESC, b.valid_to ASC, b.seq ASC LIMIT 1)
              WHERE p.id = ?
              ORDER BY d.seq LIMIT 1"
        );
        let at = rows::datetime(at);
        // The price (3), the discount (3), then the coupon.
        let mut params: Vec<Value> = vec![at.clone(); 6];
        params.push(customer.map(CustomerId::as_str).into());
        params.extend([at.clone(), at.clone(), at]);
        params.push(id.as_str().into());
        let found: Option<Row> = self
            .conn
            .borrow_mut()
            .exec_first(sql, params)
            .map_err(self.err(Context::Read))?;
        const STOCK: usize = decode::PRODUCT_WIDTH;
        const DISCOUNT: usize = STOCK + 2;
        found
            .map(|r| {
                let r = MysqlRow(&r);
                Ok(ProductDetails {
                    product: decode::product(&r, 0)?,
                    stock: r.integer(STOCK)?,
                    price: decode::money(&r, STOCK + 1)?,
                    discount: decode::optional(&r, DISCOUNT, decode::discount)?,
                    coupon: decode::optional(
                        &r,
                        DISCOUNT + decode::DISCOUNT_WIDTH,
                        decode::coupon,
                    )?,
                })
            })
            .transpose()
    }
}

impl LedgerStore for MysqlStore {
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
        found.map(|r| decode::event(&MysqlRow(&r), 0)).transpose()
    }

    fn append_stock_event(&self, event: &StockEvent) -> Result<(), StoreError> {
        self.append_unless_archived(event)
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
            .map(|r| decode::event(&MysqlRow(r), 0))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(decode::ledger(events))
    }

    fn scan_ledgers(
        &self,
        product: Option<&ProductId>,
        sink: &mut dyn FnMut(LedgerScan) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
        ledgers::scan(&mut self.conn.borrow_mut(), product, sink, &self.secrets)
    }

    fn stock_log(&self, query: &LogQuery) -> Result<Vec<LoggedEvent>, StoreError> {
        ledgers::log_page(&mut self.conn.borrow_mut(), query, &self.secrets)
    }

    fn change_stock(
        &self,
        work: &mut dyn FnMut(&mut dyn StockBatch) -> Result<bool, StoreError>,
    ) -> Result<bool, StoreError> {
        // A batch its work gives up on writes nothing: its transaction is
        // rolled back (a unit of work is rolled back by its caller).
        let written = self.transaction(Context::Write, |tx| {
            let mut batch = stock_batch::MysqlBatch {
                tx,
                pending: Vec::new(),
                secrets: &self.secrets,
            };
            if !work(&mut batch)? {
                return Err(StoreError::Internal(ABORTED.into()));
            }
            batch.flush()?;
            Ok(true)
        });
        match written {
            Err(StoreError::Internal(m)) if m == ABORTED => Ok(false),
            other => other,
        }
    }
}

impl DiscountStore for MysqlStore {
    fn replace_discount(&self, discount: &Discount) -> Result<Option<DiscountId>, StoreError> {
        self.replace_discount_recorded(discount)
    }

    fn clear_discount(
        &self,
        product_id: &ProductId,
        at: Instant,
        actor: Option<&Actor>,
    ) -> Result<Option<DiscountId>, StoreError> {
        self.clear_discount_recorded(product_id, at, actor)
    }

    fn list_discounts(&self, query: &DiscountQuery) -> Result<Vec<Discount>, StoreError> {
        self.read_discounts(query)
    }
}

impl CouponStore for MysqlStore {
    fn create_coupon(&self, coupon: &Coupon) -> Result<(), StoreError> {
        self.single(Context::CreateCoupon(coupon.code.as_str()), |conn| {
            conn.exec_drop(COUPON_INSERT.sql(1), rows::coupon_values(coupon))
        })
    }

    fn deactivate_coupon(
        &self,
        code: &CouponCode,
        at: Instant,
        actor: Option<&Actor>,
    ) -> Result<Option<Coupon>, StoreError> {
        self.deactivate_coupon_recorded(code, at, actor)
    }

    fn list_coupons(&self, query: &CouponQuery) -> Result<Vec<Coupon>, StoreError> {
        self.read_coupons(query)
    }

    fn coupon(&self, code: &CouponCode) -> Result<Option<Coupon>, StoreError> {
        self.read_coupon(code)
    }
}

impl ImportStore for MysqlStore {
    fn import(
        &self,
        items: &mut dyn Iterator<Item = Result<ImportItem, ImportAborted>>,
    ) -> Result<Option<ImportCounts>, StoreError> {
        let db = self.err(Context::Write);
        let written = self.transaction(Context::Write, |tx| {
            let position = next_position(tx).map_err(&db)?;
            let mut writer = BulkWriter {
                tx,
                position,
                batches: ImportBatches::default(),
                names: ImportIndex::default(),
                secrets: &self.secrets,
            };
            // An aborted import fails its transaction so that it is rolled
            // back (a unit of work is rolled back by its caller).
            let Some(counts) = import::write_all(items, &mut writer)? else {
                return Err(StoreError::Internal(ABORTED.into()));
            };
            writer.batches.flush(writer.tx).map_err(&db)?;
            writer.names.flush(writer.tx).map_err(&db)?;
            Ok(counts)
        });
        match written {
            Ok(counts) => Ok(Some(counts)),
            Err(StoreError::Internal(m)) if m == ABORTED => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl SchemaStore for MysqlStore {
    fn migrate(&self) -> Result<Vec<i64>, StoreError> {
        self.migrate_as(Upgrade::All)
    }

    fn prepare(&self) -> Result<Vec<i64>, StoreError> {
        // Read with the session's start: an up-to-date schema costs no
        // round trip of its own.
        if self.schema_at_connect.take()
            == Some(crate::adapters::persistence::migrations::latest_version(
                schema::MIGRATIONS,
            ))
        {
            return Ok(Vec::new());
        }
        self.migrate_as(Upgrade::FirstUseOnly)
    }

    fn status(&self) -> Result<StoreStatus, StoreError> {
        schema::status(
            &mut self.conn.borrow_mut(),
            self.location.clone(),
            &self.secrets,
        )
    }

    fn tls_version(&self) -> Result<Option<String>, StoreError> {
        tls::version(&mut self.conn.borrow_mut())
            .map(Some)
            .map_err(self.err(Context::Read))
    }
}

impl RequestLog for MysqlStore {
    fn recorded_request(
        &self,
        key: &IdempotencyKey,
    ) -> Result<Option<RecordedRequest>, StoreError> {
        let found: Option<(String, String)> = self
            .conn
            .borrow_mut()
            .exec_first(
                "SELECT fingerprint, result FROM idempotency_keys WHERE idem_key = ?",
                (key.as_str(),),
            )
            .map_err(self.err(Context::Read))?;
        Ok(found.map(|(fingerprint, result)| RecordedRequest {
            fingerprint,
            result,
        }))
    }

    fn record_request(
        &self,
        key: &IdempotencyKey,
        request: &RecordedRequest,
        at: Instant,
    ) -> Result<(), StoreError> {
        // A result the server cannot take in one statement would cost the
        // connection ("packets out of sync"): refuse it first, clearly. Only
        // a large one (an import's rows) is worth asking the server about.
        const SMALL: u64 = 256 * 1024;
        let size = request.result.len() as u64;
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
                request.result.len()
            )));
        }
        // A key another unit recorded first is a duplicate (1062) once it
        // commits, or a failed certification on another node (1213): both
        // are conflicts, and the retried unit finds the key.
        self.write(Context::Write, |tx| {
            tx.exec_drop(
                "INSERT INTO idempotency_keys (idem_key, fingerprint, result, created_at)
                 VALUES (?, ?, ?, ?)",
                (
                    key.as_str(),
                    &request.fingerprint,
                    &request.result,
                    rows::datetime(at),
                ),
            )
        })
    }

    fn prune_requests(&self, before: Instant) -> Result<u64, StoreError> {
        self.write(Context::Write, |tx| {
            tx.exec_drop(
                "DELETE FROM idempotency_keys WHERE created_at < ?",
                (rows::datetime(before),),
            )?;
            Ok(tx.affected_rows())
        })
    }
}

impl UnitOfWork for MysqlStore {
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

impl MysqlStore {
    fn begin_unit(&self) -> Result<(), StoreError> {
        self.conn
            .borrow_mut()
            .query_drop("START TRANSACTION")
            .map_err(self.err(Context::Read))?;
        Ok(())
    }

    fn finish_unit(&self, commit: bool) -> Result<(), StoreError> {
        // A lost connection while committing leaves the outcome unknown
        // (a write context says so); while rolling back, nothing was written.
        let context = if commit {
            Context::Write
        } else {
            Context::Read
        };
        self.end_transaction(&mut self.conn.borrow_mut(), commit)
            .map_err(self.err(context))
    }
}

/// The marker an aborted import (or stock batch) fails its transaction with, reported as
/// `Ok(None)` once it is rolled back.
const ABORTED: &str = "the import was aborted";

/// Import rows, batched into multi-row INSERTs; each product takes the next
/// position.
struct BulkWriter<'t> {
    tx: &'t mut Conn,
    position: i64,
    batches: ImportBatches,
    names: ImportIndex,
    secrets: &'t Secrets,
}

impl ImportWriter for BulkWriter<'_> {
    fn product(
        &mut self,
        product: &Product,
        events: &[StockEvent],
        discount: Option<&Discount>,
    ) -> Result<(), StoreError> {
        let rows = std::iter::once((
            Table::Products,
            rows::product_values(self.position, product),
        ))
        .chain(
            events
                .iter()
                .map(|e| (Table::Events, rows::event_values(e))),
        )
        .chain(discount.map(|d| (Table::Discounts, rows::discount_values(d))));
        let db = |e| map_err(e, Context::Write, self.secrets);
        for (table, values) in rows {
            self.batches.add(table, values, self.tx).map_err(db)?;
        }
        self.names
            .add(self.tx, self.position, &product.name.folded())
            .map_err(db)?;
        self.position += 1;
        Ok(())
    }

    /// One at a time, so a taken code is reported as that code.
    fn coupon(&mut self, coupon: &Coupon) -> Result<(), StoreError> {
        self.tx
            .exec_drop(COUPON_INSERT.sql(1), rows::coupon_values(coupon))
            .map_err(|e| map_err(e, Context::CreateCoupon(coupon.code.as_str()), self.secrets))
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

    fn add(&mut self, table: Table, values: Vec<Value>, tx: &mut Conn) -> ::mysql::Result<()> {
        let batch = &mut self.rows[table as usize];
        batch.push(values);
        if batch.len() >= IMPORT_BATCH_ROWS {
            self.flush(tx)?;
        }
        Ok(())
    }

    fn flush(&mut self, tx: &mut Conn) -> ::mysql::Result<()> {
        for (insert, rows) in Self::INSERTS.iter().zip(&mut self.rows) {
            if !rows.is_empty() {
                let sql = insert.sql(rows.len());
                tx.exec_drop(sql, rows.drain(..).flatten().collect::<Vec<_>>())?;
            }
        }
        Ok(())
    }
}
