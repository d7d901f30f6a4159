//! The catalog of products: what is sold, at which price, since when.

use std::ops::ControlFlow;

use super::StoreError;
use crate::domain::{
    Coupon, CustomerId, Discount, Instant, Money, Product, ProductChange, ProductId, StockEvent,
};

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

/// Products, their changes and the priced views of them. Every method is
/// atomic, and every write ends at the adapter's one commit point (see
/// [`super::CatalogStore`]).
pub trait ProductStore {
    /// Stores `product` and its `opening` stock event (version 1) in one
    /// transaction.
    fn create_product(&self, product: &Product, opening: &StockEvent) -> Result<(), StoreError>;

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
}
