//! The rows an import reads, before validation: what the command line
//! hands `import products` and `import stock` alike.

use crate::app::error::{AppError, RowError};

/// One product row as read from a file, before validation. Only `name` and
/// `price` are required.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductRow {
    pub name: String,
    pub price: String,
    pub description: Option<String>,
    pub stock: Option<String>,
    /// Further ledger rows after the opening stock, e.g. `+5`, `-2`.
    pub stock_changes: Vec<String>,
    pub discount_percent: Option<String>,
    pub discount_from: Option<String>,
    pub discount_until: Option<String>,
}

/// One coupon row as read from a file, before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CouponRow {
    pub user: String,
    pub percent: String,
    pub valid_to: String,
    pub valid_from: Option<String>,
    pub code: Option<String>,
}

/// One row of a stock file as read, before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StockRow {
    pub product_id: String,
    pub change: String,
    pub reason: Option<String>,
}

/// A row to import.
pub enum ImportRow {
    Product(ProductRow),
    Coupon(CouponRow),
    Stock(StockRow),
}

/// A row source: the file's rows in order, each numbered by its line; a row
/// that cannot even be read (bad JSON, wrong columns) is an error.
pub type RowSource<'a> = dyn Iterator<Item = (u64, Result<ImportRow, RowError>)> + 'a;

/// Where an import's rows come from: called once per attempt (counting
/// from 1) for the whole input, or `None` when it cannot be read again
/// (standard input already consumed).
pub type OpenRows<'a> = dyn FnMut(u32) -> Result<Option<Box<RowSource<'static>>>, AppError> + 'a;
