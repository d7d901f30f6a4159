//! The ports: what the use cases need from the outside world, as traits.
//!
//! Each persistence adapter (SQLite, MySQL) implements [`CatalogStore`] and
//! must honour every contract written here. `tests/store_contract` holds
//! them to it: one suite of stories against this trait, run in-process on
//! every adapter.

use std::ops::ControlFlow;

use thiserror::Error;

use crate::domain::{
    Actor, Coupon, CouponCode, CustomerId, Discount, DiscountId, IdempotencyKey, Instant,
    LedgerEntry, Money, Product, ProductChange, ProductId, StockEvent,
};

/// Where "now" comes from, so every pricing rule can be evaluated at a chosen
/// instant and tests can fix the time.
pub trait Clock {
    fn now(&self) -> Instant;
}

/// Failures a store may report. Adapters translate their driver's codes into
/// these right where they happen: nothing above an adapter ever sees
/// `SQLITE_BUSY` or MySQL error 1062.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum StoreError {
    /// Another writer got there first (a taken version, a busy or deadlocked
    /// database). Nothing was written; trying again may succeed.
    #[error("concurrent write conflict: {0}")]
    Conflict(String),

    /// A product id that the write refers to does not exist.
    #[error("product {0} not found")]
    ProductNotFound(String),

    /// The product is archived: it refuses every write but unarchiving.
    /// Nothing was written.
    #[error("product {0} is archived")]
    ProductArchived(String),

    /// A coupon with the same code, compared without case, already exists.
    #[error("coupon code {0} already exists")]
    DuplicateCouponCode(String),

    /// The database cannot be opened, reached or used (including a schema
    /// newer than this binary). The message never contains a password.
    #[error("{0}")]
    Unavailable(String),

    /// The connection was lost after a write was sent: the change may or
    /// may not have been applied.
    #[error("{0}")]
    OutcomeUnknown(String),

    /// The database's schema is older than this binary's and upgrading it
    /// is left to `db migrate` (a shared server other installations use).
    #[error("{0}")]
    SchemaOutdated(String),

    /// Anything else: a bug, or data this binary cannot read.
    #[error("{0}")]
    Internal(String),
}

/// Where a page of products starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageStart {
    /// Skip this many matching products (page numbers).
    Offset(u64),
    /// Start after the product at this position (streaming the whole
    /// catalog page by page without ever skipping rows).
    After(i64),
}

/// Which page of the catalog to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductQuery {
    /// Case-folded substring the name must contain; matched literally, so
    /// `%` and `_` are ordinary characters.
    pub name_contains: Option<String>,
    pub start: PageStart,
    /// At most this many products.
    pub limit: u32,
    /// Whether archived products are listed too.
    pub include_archived: bool,
}

/// One row of a product list: the product, its current stock and the discount
/// that applies at the listing instant, fetched together in one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductListing {
    /// The product's place in creation order (1, 2, 3, …), for `PageStart::After`.
    pub position: i64,
    pub product: Product,
    /// The price in force at the listing instant (`product.price` is today's).
    pub price: Money,
    pub stock: i64,
    pub discount: Option<Discount>,
}

/// Everything needed to price one product for one customer at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductDetails {
    pub product: Product,
    /// The price in force at the instant asked for (`product.price` is today's).
    pub price: Money,
    pub stock: i64,
    pub discount: Option<Discount>,
    pub coupon: Option<Coupon>,
}

/// Which page of discounts to list, in creation order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscountQuery {
    /// Only this product's discounts.
    pub product_id: Option<ProductId>,
    /// Only those on and inside their window at this instant.
    pub active_at: Option<Instant>,
    pub offset: u64,
    pub limit: u32,
}

/// Which page of coupons to list, in creation order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CouponQuery {
    /// Only this customer's coupons.
    pub user_id: Option<CustomerId>,
    /// Only those on and inside their window at this instant.
    pub active_at: Option<Instant>,
    pub offset: u64,
    pub limit: u32,
}

/// One thing to write in a bulk import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportItem {
    /// A product with its whole ledger (version 1 first) and optionally its
    /// active discount.
    Product {
        product: Product,
        events: Vec<StockEvent>,
        discount: Option<Discount>,
    },
    Coupon(Coupon),
}

/// The input of a bulk import stopped (a bad row); the store must roll back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportAborted;

/// Rows written by a bulk import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub products: u64,
    pub stock_events: u64,
    pub discounts: u64,
    pub coupons: u64,
}

/// One migration known to the binary, and whether the database has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationState {
    pub version: i64,
    pub name: String,
    pub applied_at: Option<Instant>,
}

/// What `db status` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreStatus {
    pub backend: &'static str,
    /// Where the store points, with any password masked.
    pub location: String,
    pub schema_version: i64,
    pub supported_version: i64,
    pub migrations: Vec<MigrationState>,
    pub products: i64,
    pub stock_events: i64,
    pub discounts: i64,
    pub coupons: i64,
}

/// A write recorded under an idempotency key: what was asked and what the
/// command answered, both opaque to the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// A digest of the request (command and input), to tell a rerun from
    /// another request that reuses the key.
    pub fingerprint: String,
    /// What the command printed, to print again on a rerun.
    pub result: String,
}

/// What a ledger scan finds, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerScan {
    /// One ledger row.
    Entry(LedgerEntry),
    /// A product that has no ledger row at all.
    NoLedger(ProductId),
}

/// One page of the movement log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogQuery {
    /// Only this product's ledger; every product's when `None`.
    pub product: Option<ProductId>,
    /// Only events created at or after this instant.
    pub since: Option<Instant>,
    /// Start after the event at this position (0: from the start).
    pub after: i64,
    /// At most this many events.
    pub limit: u32,
}

/// An event of the movement log and its position, for the next page's
/// `LogQuery::after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedEvent {
    pub position: i64,
    pub event: StockEvent,
}

/// The write transaction of a bulk stock change (`import stock`).
pub trait StockBatch {
    /// The latest events of these products, as committed by other writers,
    /// which from now on wait for this transaction to end (and then find
    /// their version taken: a conflict). A product that does not exist is
    /// absent from the result. Not asked again for a product whose events
    /// this batch appended.
    fn latest_events(&mut self, ids: &[ProductId]) -> Result<Vec<StockEvent>, StoreError>;

    /// Which of these products are archived (read-only: no change may be
    /// appended to their ledgers).
    fn archived_among(&mut self, ids: &[ProductId]) -> Result<Vec<ProductId>, StoreError>;

    /// Appends `event`; the store may hold it back until the transaction
    /// ends.
    fn append(&mut self, event: StockEvent) -> Result<(), StoreError>;
}

/// The catalog's storage. Every method is atomic: it either does all of what
/// it says or nothing. Every write is one transaction that ends at its
/// adapter's one commit point, which a store opened for a dry run turns into
/// a rollback: the write still runs, with every check the database makes,
/// and returns what it would have returned, but nothing is kept.
///
/// **Units of work.** Between `begin_unit` and `finish_unit`, every method
/// joins one transaction instead of committing on its own, so that a
/// command's writes and its idempotency record commit together or not at
/// all (and a dry run's unit is rolled back like any other write). Inside a
/// unit, a method that fails (`Conflict` included) may leave the transaction
/// unusable: the caller MUST then finish the unit without committing, and
/// may run the whole unit again.
pub trait CatalogStore {
    /// Stores `product` and its `opening` stock event (version 1) in one
    /// transaction.
    fn create_product(&self, product: &Product, opening: &StockEvent) -> Result<(), StoreError>;

    /// One page of products in creation order (oldest first), each with its
    /// current stock, the price in force at `at` and the discount applying
    /// at `at` (inside its window, and on at `at`: active then, or
    /// deactivated later; the earliest set if several qualify). Archived
    /// products only when the query includes them. MUST be one query per
    /// page, not one per row, and MUST NOT scan the skipped products when
    /// there is no name filter and no archived product is hidden (page
    /// 10,000 costs what page 1 costs). An empty page is `Ok(vec![])`.
    fn list_products(
        &self,
        query: &ProductQuery,
        at: Instant,
    ) -> Result<Vec<ProductListing>, StoreError>;

    /// Every product in creation order, archived ones only when
    /// `include_archived`, each as `list_products` gives it, handed to
    /// `sink` as it is read so that memory stays flat however large the
    /// catalog: one query, read as the database produces it, not pages.
    /// Stops early, with `Ok`, when `sink` breaks.
    fn scan_products(
        &self,
        include_archived: bool,
        at: Instant,
        sink: &mut dyn FnMut(ProductListing) -> ControlFlow<()>,
    ) -> Result<(), StoreError>;

    /// The product (archived or not), its current stock, the price in force
    /// and the discount applying at `at` (as in `list_products`), and, when
    /// `customer` is given, that customer's best coupon at `at` (highest
    /// percentage among coupons on at `at` and inside their window). `None`
    /// when the product does not exist.
    fn product_details(
        &self,
        id: &ProductId,
        customer: Option<&CustomerId>,
        at: Instant,
    ) -> Result<Option<ProductDetails>, StoreError>;

    /// The product's event with the highest version; `None` when the product
    /// does not exist.
    fn latest_stock_event(&self, id: &ProductId) -> Result<Option<StockEvent>, StoreError>;

    /// Appends `event`. MUST return `Conflict` (and write nothing) when an
    /// event with the same product and version exists, or when the database
    /// reports contention that a retry can resolve; MUST return
    /// `ProductNotFound` when the product does not exist and
    /// `ProductArchived` when it is archived, checked in the same statement
    /// or transaction as the write.
    fn append_stock_event(&self, event: &StockEvent) -> Result<(), StoreError>;

    /// The product's whole ledger, oldest first; `None` when the product does
    /// not exist.
    fn stock_history(&self, id: &ProductId) -> Result<Option<Vec<StockEvent>>, StoreError>;

    /// Stores `discount` and deactivates every other active discount of its
    /// product, in one transaction, stamping them deactivated at the new
    /// one's `created_at` by its `actor`; returns the id of the discount it
    /// replaced, if one was active. MUST return `ProductNotFound` when the
    /// product does not exist and `ProductArchived` when it is archived.
    fn replace_discount(&self, discount: &Discount) -> Result<Option<DiscountId>, StoreError>;

    /// Stores `coupon`. MUST return `DuplicateCouponCode` when a coupon with
    /// the same code, compared without case, exists.
    fn create_coupon(&self, coupon: &Coupon) -> Result<(), StoreError>;

    /// Deactivates the coupon with this code (compared without case),
    /// recording `at` and `actor` unless it was already inactive, and returns
    /// it as it now is; `None` when there is no such coupon.
    fn deactivate_coupon(
        &self,
        code: &CouponCode,
        at: Instant,
        actor: Option<&Actor>,
    ) -> Result<Option<Coupon>, StoreError>;

    /// Writes every item in ONE transaction, pulling them from `items` as it
    /// goes so that memory stays flat. When `items` yields `Err(ImportAborted)`
    /// the store MUST roll back and return `Ok(None)`: nothing is written.
    /// A duplicate coupon code is `DuplicateCouponCode`, also with nothing
    /// written.
    fn import(
        &self,
        items: &mut dyn Iterator<Item = Result<ImportItem, ImportAborted>>,
    ) -> Result<Option<ImportCounts>, StoreError>;

    /// Applies pending migrations (safe when several processes do it at once)
    /// and returns the versions this call applied. Every backend has the same
    /// versions with the same names. MUST refuse with `Unavailable` a database
    /// whose schema is newer than this binary, changing nothing.
    fn migrate(&self) -> Result<Vec<i64>, StoreError>;

    /// What every command but `db migrate` and `db status` calls first: sets
    /// up an empty database like `migrate`, and upgrades an older schema
    /// where that is safe without asking (a local file). A store shared by
    /// other installations (a database server) MUST refuse an older schema
    /// with `SchemaOutdated` instead, changing nothing: upgrading it is the
    /// operator's decision (`db migrate`), since older binaries stop working.
    fn prepare(&self) -> Result<Vec<i64>, StoreError> {
        self.migrate()
    }

    /// Opens a unit of work (see the trait's documentation). MUST fail if
    /// one is already open.
    fn begin_unit(&self) -> Result<(), StoreError>;

    /// Ends the open unit of work: commits it if `commit`, else rolls it
    /// back. A failed commit wrote nothing, unless the connection was lost
    /// while committing (`Unavailable`, outcome unknown).
    fn finish_unit(&self, commit: bool) -> Result<(), StoreError>;

    /// The request recorded under `key`, if any. Inside a unit of work.
    fn recorded_request(&self, key: &IdempotencyKey)
        -> Result<Option<RecordedRequest>, StoreError>;

    /// Records `request` under `key`, inside the open unit of work. MUST
    /// return `Conflict` when the key is already recorded (or being
    /// recorded by a concurrent unit that then commits).
    fn record_request(
        &self,
        key: &IdempotencyKey,
        request: &RecordedRequest,
        at: Instant,
    ) -> Result<(), StoreError>;

    /// Forgets every key recorded before `before`; returns how many.
    fn prune_requests(&self, before: Instant) -> Result<u64, StoreError>;

    /// Schema and row counts, without changing anything.
    fn status(&self) -> Result<StoreStatus, StoreError>;

    /// The TLS protocol version of the connection to the database server
    /// (`TLSv1.3`), `none` for a plaintext one, or `None` for a store that
    /// has no connection (a local file). Apart from `status` so that `db
    /// status` alone pays for asking.
    fn tls_version(&self) -> Result<Option<String>, StoreError> {
        Ok(None)
    }
    /// Every stored ledger row, or only `product`'s, handed to `sink` as it
    /// is read so that memory stays flat: each product's rows together and
    /// in version order, then every product (or only `product`) that has no
    /// row at all as `NoLedger`. Rows are handed over as stored, broken ones
    /// included: judging them is the caller's business. Stops early, with
    /// `Ok`, when `sink` breaks. Yields nothing for an unknown product.
    fn scan_ledgers(
        &self,
        product: Option<&ProductId>,
        sink: &mut dyn FnMut(LedgerScan) -> ControlFlow<()>,
    ) -> Result<(), StoreError>;

    /// One page of the movement log: the events of every product in the
    /// order they were written, or one product's in version order, from
    /// `query.after` on. MUST be one query per page and MUST NOT read the
    /// events before `after` (paging through a long log costs the same per
    /// page at its end as at its start). An empty page is `Ok(vec![])`,
    /// also for an unknown product.
    fn stock_log(&self, query: &LogQuery) -> Result<Vec<LoggedEvent>, StoreError>;

    /// Runs `work` in one write transaction and commits what it appended
    /// when it returns `Ok(true)`; on `Ok(false)` or an error nothing is
    /// written. Returns whether it committed.
    fn change_stock(
        &self,
        work: &mut dyn FnMut(&mut dyn StockBatch) -> Result<bool, StoreError>,
    ) -> Result<bool, StoreError>;

    // ------------------------------------------------ the catalog life-cycle

    /// Replaces `before` by `after` (same id) and records `change`, in one
    /// transaction. MUST return `Conflict` and write nothing when the stored
    /// product no longer has `before`'s name, description and price (another
    /// writer changed it since it was read), `ProductArchived` when it is
    /// archived, and `ProductNotFound` when it does not exist.
    fn update_product(
        &self,
        before: &Product,
        after: &Product,
        change: &ProductChange,
    ) -> Result<(), StoreError>;

    /// Archives or unarchives the product as `change.kind` says, stamping
    /// `change.at` (also as `updated_at`) and recording `change`, in one
    /// transaction. Returns whether anything changed: archiving an archived
    /// product (or unarchiving one that is not) writes nothing and returns
    /// `false`. MUST return `ProductNotFound` when it does not exist.
    fn set_archived(&self, change: &ProductChange) -> Result<bool, StoreError>;

    /// The product's recorded changes (updates, archiving, unarchiving),
    /// oldest first; empty for a product never changed or unknown.
    fn product_changes(&self, id: &ProductId) -> Result<Vec<ProductChange>, StoreError>;

    /// Deactivates the product's active discount, if any, stamping `at` and
    /// `actor`, and returns its id. MUST return `ProductNotFound` when the
    /// product does not exist and `ProductArchived` when it is archived.
    fn clear_discount(
        &self,
        product_id: &ProductId,
        at: Instant,
        actor: Option<&Actor>,
    ) -> Result<Option<DiscountId>, StoreError>;

    /// One page of discounts in creation order. One query per page.
    fn list_discounts(&self, query: &DiscountQuery) -> Result<Vec<Discount>, StoreError>;

    /// One page of coupons in creation order. One query per page.
    fn list_coupons(&self, query: &CouponQuery) -> Result<Vec<Coupon>, StoreError>;

    /// The coupon with this code, compared without case.
    fn coupon(&self, code: &CouponCode) -> Result<Option<Coupon>, StoreError>;
}
