//! The ports: what the use cases need from the outside world, as traits.
//!
//! Each persistence adapter (SQLite, MySQL) implements [`CatalogStore`] and
//! must honour every contract written here; the shared integration suite runs
//! the same commands against both to hold them to it.

use thiserror::Error;

use crate::domain::{
    Coupon, CouponCode, CustomerId, Discount, Instant, Product, ProductId, StockEvent,
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

    /// A coupon with the same code, compared without case, already exists.
    #[error("coupon code {0} already exists")]
    DuplicateCouponCode(String),

    /// The database cannot be opened, reached or used (including a schema
    /// newer than this binary). The message never contains a password.
    #[error("{0}")]
    Unavailable(String),

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
}

/// One row of a product list: the product, its current stock and the discount
/// that applies at the listing instant, fetched together in one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductListing {
    /// The product's place in creation order (1, 2, 3, …), for `PageStart::After`.
    pub position: i64,
    pub product: Product,
    pub stock: i64,
    pub discount: Option<Discount>,
}

/// Everything needed to price one product for one customer at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductDetails {
    pub product: Product,
    pub stock: i64,
    pub discount: Option<Discount>,
    pub coupon: Option<Coupon>,
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

/// The catalog's storage. Every method is atomic: it either does all of what
/// it says or nothing.
pub trait CatalogStore {
    /// Stores `product` and its `opening` stock event (version 1) in one
    /// transaction.
    fn create_product(&self, product: &Product, opening: &StockEvent) -> Result<(), StoreError>;

    /// One page of products in creation order (oldest first), each with its
    /// current stock and the discount applying at `at`. MUST be one query per
    /// page, not one per row, and MUST NOT scan the skipped products when
    /// there is no name filter (page 10,000 costs what page 1 costs). An
    /// empty page is `Ok(vec![])`.
    fn list_products(
        &self,
        query: &ProductQuery,
        at: Instant,
    ) -> Result<Vec<ProductListing>, StoreError>;

    /// The product, its current stock, the discount applying at `at`, and,
    /// when `customer` is given, that customer's best coupon at `at` (highest
    /// percentage among active coupons inside their window). `None` when the
    /// product does not exist.
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
    /// reports contention that a retry can resolve.
    fn append_stock_event(&self, event: &StockEvent) -> Result<(), StoreError>;

    /// The product's whole ledger, oldest first; `None` when the product does
    /// not exist.
    fn stock_history(&self, id: &ProductId) -> Result<Option<Vec<StockEvent>>, StoreError>;

    /// Stores `discount` and deactivates every other active discount of its
    /// product, in one transaction. MUST return `ProductNotFound` when the
    /// product does not exist.
    fn replace_discount(&self, discount: &Discount) -> Result<(), StoreError>;

    /// Stores `coupon`. MUST return `DuplicateCouponCode` when a coupon with
    /// the same code, compared without case, exists.
    fn create_coupon(&self, coupon: &Coupon) -> Result<(), StoreError>;

    /// Deactivates the coupon with this code (compared without case) and
    /// returns it as it now is; `None` when there is no such coupon.
    fn deactivate_coupon(&self, code: &CouponCode) -> Result<Option<Coupon>, StoreError>;

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
    /// and returns the versions this call applied.
    fn migrate(&self) -> Result<Vec<i64>, StoreError>;

    /// Schema and row counts, without changing anything.
    fn status(&self) -> Result<StoreStatus, StoreError>;
}
