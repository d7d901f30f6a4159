//! Bulk import: rows from a file, checked by the same rules as the
//! single-row commands, written in one transaction.

use std::cell::RefCell;
use std::collections::HashMap;

use super::import_rows::{CouponRow, ImportRow, OpenRows, ProductRow, RowSource};
use super::{Catalog, MonotonicBits};
use crate::app::error::{AppError, RowError};
use crate::app::ports::{ImportAborted, ImportCounts, ImportItem, StoreError};
use crate::app::retry::{self, AttemptError};
use crate::domain::discount::DEFAULT_DISCOUNT_DAYS;
use crate::domain::schedule::check_not_over;
use crate::domain::*;

/// A row handed to the store: the line it came from and what it became, so
/// that a script can map its input to the new ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedRow {
    pub line: u64,
    pub id: String,
    /// The coupon's code (given or generated); `None` for a product.
    pub code: Option<String>,
}

impl Catalog<'_> {
    /// Imports rows in one transaction, applying the same rules as the
    /// single-row commands: the first bad row (reported with its line) stops
    /// the import and nothing is written. `imported` hears of every row as it
    /// goes to the store, with the attempt it belongs to; only the last
    /// attempt's rows are worth keeping, once this returns `Ok`.
    ///
    /// A conflict (another writer took a product's position first; a failed
    /// certification on a Galera cluster) rolls the whole import back: it
    /// is tried again from the first row, with new ids, as long as `open`
    /// can read the input again.
    pub fn import(
        &self,
        open: &mut OpenRows<'_>,
        imported: &mut dyn FnMut(u32, ImportedRow),
    ) -> Result<ImportCounts, AppError> {
        let mut attempt = 0;
        let outcome = retry::on_conflict(&self.retry, || {
            attempt += 1;
            let Some(mut rows) = open(attempt)? else {
                return Err(AttemptError::Fatal(AppError::Conflict {
                    attempts: attempt - 1,
                }));
            };
            match self.import_rows(&mut rows, &mut |row| imported(attempt, row)) {
                Err(AppError::Conflict { .. }) => Err(AttemptError::Conflict(
                    StoreError::Conflict("the import lost a race".into()),
                )),
                other => other.map_err(AttemptError::Fatal),
            }
        })?;
        Ok(outcome.value)
    }

    fn import_rows(
        &self,
        rows: &mut RowSource<'_>,
        imported: &mut dyn FnMut(ImportedRow),
    ) -> Result<ImportCounts, AppError> {
        let now = self.clock.now();
        let actor = self.actor();
        let failure: RefCell<Option<AppError>> = RefCell::new(None);
        let mut ids = MonotonicBits::new();
        // The line of every coupon code so far (by its case-free key): a
        // duplicate is reported with both lines, and one the database already
        // has with its own line, whatever order the store writes in.
        let codes: RefCell<HashMap<String, u64>> = RefCell::new(HashMap::new());
        let mut items = rows.map(|(line, row)| {
            let item = row.and_then(|row| {
                Ok(match row {
                    ImportRow::Product(p) => product_item(p, now, &mut ids, &actor)?,
                    ImportRow::Coupon(c) => coupon_item(c, now, &mut ids, &actor)?,
                    ImportRow::Stock(_) => {
                        return Err(RowError::Unreadable(
                            "a stock row: stock changes are imported by `import stock`".into(),
                        ))
                    }
                })
            });
            let stop = |error| {
                *failure.borrow_mut() = Some(error);
                ImportAborted
            };
            let item = item.map_err(|source| stop(AppError::InvalidRow { line, source }))?;
            let (id, code) = match &item {
                ImportItem::Product { product, .. } => (product.id.as_str().to_owned(), None),
                ImportItem::Coupon(coupon) => {
                    if let Some(first) = codes.borrow_mut().insert(coupon.code.key(), line) {
                        return Err(stop(duplicate_code(
                            line,
                            &coupon.code,
                            &format!("repeats the code on line {first}"),
                        )));
                    }
                    let code = coupon.code.as_str().to_owned();
                    (coupon.id.as_str().to_owned(), Some(code))
                }
            };
            imported(ImportedRow { line, id, code });
            Ok(item)
        });
        let outcome = self.stores.imports.import(&mut items);
        drop(items);
        match (outcome, failure.into_inner()) {
            (Ok(Some(counts)), None) => Ok(counts),
            (_, Some(error)) => Err(error),
            (Err(StoreError::DuplicateCouponCode(raw)), None) => {
                let code = CouponCode::parse("code", &raw).map_err(AppError::from)?;
                let line = codes.borrow().get(&code.key()).copied().unwrap_or(0);
                Err(duplicate_code(line, &code, "already exists"))
            }
            (Err(e), None) => Err(e.into()),
            (Ok(None), None) => Err(AppError::Internal(
                "the import was rolled back without a reason".into(),
            )),
        }
    }
}

/// A taken code: a state the file cannot be imported into (exit 4), named
/// by its line; the message suggests nothing `import` cannot do.
fn duplicate_code(line: u64, code: &CouponCode, what: &str) -> AppError {
    AppError::Rejected {
        code: "duplicate_coupon_code",
        message: format!(
            "line {line}: coupon code {code} {what} (codes are unique regardless of case); nothing was imported"
        ),
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
    actor: &Option<Actor>,
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
        archived_at: None,
        actor: actor.clone(),
    };
    let stock = optional(row.stock.as_deref(), |r| Quantity::parse("stock", r))?
        .unwrap_or_else(Quantity::zero);
    let mut events = vec![StockEvent::opening(
        EventId::generate(now, ids.next()),
        product.id.clone(),
        stock,
        now,
    )
    .by(actor.clone())];
    for raw in &row.stock_changes {
        let change = StockChange::parse("stock_changes", raw)?;
        let last = events.last().expect("the opening event");
        let next = last.next(EventId::generate(now, ids.next()), change, None, now)?;
        events.push(next);
    }
    let discount = match row.discount_percent.as_deref() {
        None => None,
        Some(raw) => {
            let from = match row.discount_from.as_deref() {
                Some(raw) => moment("discount_from", raw, now)?.0,
                None => now,
            };
            let window = match row.discount_until.as_deref() {
                Some(raw) => {
                    let (until, typed) = moment("discount_until", raw, now)?;
                    Window::typed(from, until, "discount_until", typed)?
                }
                None => Window::new(
                    from,
                    from.plus_days(DEFAULT_DISCOUNT_DAYS),
                    "discount_until",
                )?,
            };
            // Refused as `discount set` refuses it, quoting the end as typed.
            match (row.discount_until.as_deref(), row.discount_from.as_deref()) {
                (Some(typed), _) => check_not_over(window, now, "discount_until", typed)?,
                (None, Some(typed)) => check_not_over(window, now, "discount_from", typed)?,
                (None, None) => {}
            }
            Some(Discount::set(
                DiscountId::generate(now, ids.next()),
                product.id.clone(),
                Percentage::parse("discount_percent", raw)?,
                window,
                now,
                actor.clone(),
            ))
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
    actor: &Option<Actor>,
) -> Result<ImportItem, DomainError> {
    let code = match row.code.as_deref() {
        Some(raw) => CouponCode::parse("code", raw)?,
        None => super::create_coupon::generated_code(),
    };
    let from = match row.valid_from.as_deref() {
        Some(raw) => moment("valid_from", raw, now)?.0,
        None => now,
    };
    let (until, until_typed) = moment("valid_to", &row.valid_to, now)?;
    Ok(ImportItem::Coupon(Coupon::created(
        CouponId::generate(now, ids.next()),
        (CustomerId::parse("user", &row.user)?, code),
        Percentage::parse("percent", &row.percent)?,
        Window::typed(from, until, "valid_to", until_typed)?,
        now,
        actor.clone(),
    )))
}

/// A time of a row, absolute or relative to `now` as on the command line,
/// with the text typed (for a message about it).
fn moment<'r>(
    field: &'static str,
    raw: &'r str,
    now: Instant,
) -> Result<(Instant, &'r str), DomainError> {
    Ok((Moment::parse(field, raw)?.resolve(now)?, raw))
}
