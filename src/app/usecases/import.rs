use std::cell::RefCell;

use super::{Catalog, MonotonicBits};
use crate::app::error::AppError;
use crate::app::ports::{ImportAborted, ImportCounts, ImportItem};
use crate::domain::discount::DEFAULT_DISCOUNT_DAYS;
use crate::domain::*;

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

/// A row to import, with the line it came from for error messages.
pub enum ImportRow {
    Product(ProductRow),
    Coupon(CouponRow),
}

/// A row source: the file's rows in order, each numbered by its line; a row
/// that cannot even be read (bad JSON, wrong columns) is an error.
pub type RowSource<'a> = dyn Iterator<Item = (u64, Result<ImportRow, DomainError>)> + 'a;

impl Catalog<'_> {
    /// Imports rows in one transaction, applying the same rules as the
    /// single-row commands: the first bad row (reported with its line) stops
    /// the import and nothing is written.
    pub fn import(&self, rows: &mut RowSource<'_>) -> Result<ImportCounts, AppError> {
        let now = self.clock.now();
        let failure: RefCell<Option<AppError>> = RefCell::new(None);
        let mut ids = MonotonicBits::new();
        let mut items = rows.map(|(line, row)| {
            let item = row.and_then(|row| match row {
                ImportRow::Product(p) => product_item(p, now, &mut ids),
                ImportRow::Coupon(c) => coupon_item(c, now, &mut ids),
            });
            item.map_err(|e| {
                *failure.borrow_mut() = Some(AppError::InvalidRow { line, source: e });
                ImportAborted
            })
        });
        let outcome = self.store.import(&mut items)?;
        match (outcome, failure.into_inner()) {
            (Some(counts), None) => Ok(counts),
            (_, Some(error)) => Err(error),
            (None, None) => Err(AppError::Internal(
                "the import was rolled back without a reason".into(),
            )),
        }
    }
}

fn optional<T>(
    raw: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, DomainError>,
) -> Result<Option<T>, DomainError> {
    raw.map(parse).transpose()
}

fn product_item(
    row: ProductRow,
    now: Instant,
    ids: &mut MonotonicBits,
) -> Result<ImportItem, DomainError> {
    let product = Product {
        id: ProductId::generate(now, ids.next()),
        name: ProductName::parse("name", &row.name)?,
        description: optional(row.description.as_deref(), |r| {
            Description::parse("description", r)
        })?
        .unwrap_or_else(Description::empty),
        price: Money::parse_price("price", &row.price)?,
        created_at: now,
        updated_at: now,
    };
    let stock = optional(row.stock.as_deref(), |r| Quantity::parse("stock", r))?
        .unwrap_or_else(Quantity::zero);
    let mut events = vec![StockEvent::opening(
        EventId::generate(now, ids.next()),
        product.id.clone(),
        stock,
        now,
    )];
    for raw in &row.stock_changes {
        let change = StockChange::parse("stock_changes", raw)?;
        let last = events.last().expect("the opening event");
        let next = last.next(EventId::generate(now, ids.next()), change, None, now)?;
        events.push(next);
    }
    let discount = match row.discount_percent.as_deref() {
        None => None,
        Some(raw) => {
            let from = optional(row.discount_from.as_deref(), |r| {
                Instant::parse("discount_from", r)
            })?
            .unwrap_or(now);
            let until = optional(row.discount_until.as_deref(), |r| {
                Instant::parse("discount_until", r)
            })?
            .unwrap_or_else(|| from.plus_days(DEFAULT_DISCOUNT_DAYS));
            Some(Discount {
                id: DiscountId::generate(now, ids.next()),
                product_id: product.id.clone(),
                percentage: Percentage::parse("discount_percent", raw)?,
                window: Window::new(from, until, "discount_until")?,
                is_active: true,
                created_at: now,
            })
        }
    };
    Ok(ImportItem::Product {
        product,
        events,
        discount,
    })
}

fn coupon_item(
    row: CouponRow,
    now: Instant,
    ids: &mut MonotonicBits,
) -> Result<ImportItem, DomainError> {
    let code = match row.code.as_deref() {
        Some(raw) => CouponCode::parse("code", raw)?,
        None => super::create_coupon::generated_code(),
    };
    let from = optional(row.valid_from.as_deref(), |r| {
        Instant::parse("valid_from", r)
    })?
    .unwrap_or(now);
    Ok(ImportItem::Coupon(Coupon {
        id: CouponId::generate(now, ids.next()),
        user_id: CustomerId::parse("user", &row.user)?,
        code,
        percentage: Percentage::parse("percent", &row.percent)?,
        window: Window::new(from, Instant::parse("valid_to", &row.valid_to)?, "valid_to")?,
        is_active: true,
        created_at: now,
    }))
}
