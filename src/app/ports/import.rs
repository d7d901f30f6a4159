//! Bulk imports of products and coupons.

use super::StoreError;
use crate::domain::{Coupon, Discount, Product, StockEvent};

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

/// Writes many rows in one transaction.
pub trait ImportStore {
    /// Writes every item in ONE transaction, pulling them from `items` as it
    /// goes so that memory stays flat. When `items` yields `Err(ImportAborted)`
    /// the store MUST roll back and return `Ok(None)`: nothing is written.
    /// A duplicate coupon code is `DuplicateCouponCode`, also with nothing
    /// written.
    fn import(
        &self,
        items: &mut dyn Iterator<Item = Result<ImportItem, ImportAborted>>,
    ) -> Result<Option<ImportCounts>, StoreError>;
}
