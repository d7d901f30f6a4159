//! Rows back into domain values, for every backend.
//!
//! Each adapter reads its driver's columns through [`Columns`]; the
//! decoders here then build the domain values through the same validating
//! constructors as input, so a hand-edited row that breaks a rule is reported
//! instead of trusted. Column lists are given per decoder: every adapter
//! selects them in that order.

use std::borrow::Cow;
use std::fmt::Display;
use std::ops::ControlFlow;

use crate::app::ports::{ProductListing, StoreError};
use crate::domain::*;

/// One result row, as each backend's driver reads it.
pub trait Columns {
    fn text(&self, i: usize) -> Result<String, StoreError>;
    /// A text column where it lies, when the driver can lend it: a value
    /// checked on the way out is then copied only once.
    fn text_ref(&self, i: usize) -> Result<Cow<'_, str>, StoreError> {
        self.text(i).map(Cow::Owned)
    }
    fn optional_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        if self.is_null(i)? {
            return Ok(None);
        }
        self.text(i).map(Some)
    }
    fn integer(&self, i: usize) -> Result<i64, StoreError>;
    /// A time as the backend stores it (RFC 3339 text, DATETIME(6)).
    fn instant(&self, i: usize) -> Result<Instant, StoreError>;
    fn is_null(&self, i: usize) -> Result<bool, StoreError>;
    /// The column's name, for saying which stored value is unreadable.
    fn name(&self, i: usize) -> String;

    /// The refusal of a stored value, naming its column.
    fn unreadable(&self, i: usize, what: &dyn Display) -> StoreError {
        StoreError::Internal(format!(
            "unreadable stored value in column {}: {what}",
            self.name(i)
        ))
    }
}

/// Turns a domain refusal of a stored value into a store error.
fn stored<T>(r: &dyn Columns, i: usize, result: Result<T, DomainError>) -> Result<T, StoreError> {
    result.map_err(|e| r.unreadable(i, &e))
}

fn flag(r: &dyn Columns, i: usize) -> Result<bool, StoreError> {
    match r.integer(i)? {
        0 => Ok(false),
        1 => Ok(true),
        other => Err(r.unreadable(i, &format!("{other} is not 0 or 1"))),
    }
}

fn optional_instant(r: &dyn Columns, i: usize) -> Result<Option<Instant>, StoreError> {
    if r.is_null(i)? {
        Ok(None)
    } else {
        r.instant(i).map(Some)
    }
}

/// A nullable actor column.
pub fn actor(r: &dyn Columns, i: usize) -> Result<Option<Actor>, StoreError> {
    if r.is_null(i)? {
        return Ok(None);
    }
    stored(r, i, Actor::parse("stored actor", &r.text_ref(i)?)).map(Some)
}

/// A money column (cents).
pub fn money(r: &dyn Columns, i: usize) -> Result<Money, StoreError> {
    stored(r, i, Money::from_cents(r.integer(i)?))
}

/// A nullable money column (cents).
pub fn optional_money(r: &dyn Columns, i: usize) -> Result<Option<Money>, StoreError> {
    if r.is_null(i)? {
        return Ok(None);
    }
    stored(r, i, Money::from_cents(r.integer(i)?)).map(Some)
}

/// Columns: deactivated_at, deactivated_by.
fn deactivation(r: &dyn Columns, i: usize) -> Result<Option<Deactivation>, StoreError> {
    Ok(match optional_instant(r, i)? {
        None => None,
        Some(at) => Some(Deactivation {
            at,
            by: actor(r, i + 1)?,
        }),
    })
}

pub fn window(r: &dyn Columns, i: usize) -> Result<Window, StoreError> {
    stored(
        r,
        i,
        Window::new(r.instant(i)?, r.instant(i + 1)?, "stored window"),
    )
}

/// A record from a LEFT JOIN: absent when its first (id) column is NULL.
pub fn optional<T>(
    r: &dyn Columns,
    i: usize,
    read: fn(&dyn Columns, usize) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    if r.is_null(i)? {
        Ok(None)
    } else {
        read(r, i).map(Some)
    }
}

/// Columns of [`product`].
pub const PRODUCT_WIDTH: usize = 8;

/// Columns: id, name, description, price_cents, created_at, updated_at,
/// archived_at, actor.
pub fn product(r: &dyn Columns, i: usize) -> Result<Product, StoreError> {
    Ok(Product {
        id: stored(r, i, ProductId::parse("stored id", &r.text_ref(i)?))?,
        name: stored(
            r,
            i + 1,
            ProductName::from_stored("stored name", &r.text_ref(i + 1)?),
        )?,
        description: stored(
            r,
            i + 2,
            Description::from_stored("stored description", &r.text_ref(i + 2)?),
        )?,
        price: stored(r, i + 3, Money::from_cents(r.integer(i + 3)?))?,
        created_at: r.instant(i + 4)?,
        updated_at: r.instant(i + 5)?,
        archived_at: optional_instant(r, i + 6)?,
        actor: actor(r, i + 7)?,
    })
}

/// Columns: product_id, kind, changed_at, actor, old_name, new_name,
/// old_description, new_description, old_price_cents, new_price_cents.
pub fn product_change(r: &dyn Columns, i: usize) -> Result<ProductChange, StoreError> {
    let kind_raw = r.text(i + 1)?;
    let kind = ChangeKind::parse(&kind_raw)
        .ok_or_else(|| r.unreadable(i + 1, &format!("unknown change kind {kind_raw:?}")))?;
    let name = |j: usize| -> Result<Option<ProductName>, StoreError> {
        r.optional_text(j)?
            .map(|raw| stored(r, j, ProductName::from_stored("stored name", &raw)))
            .transpose()
    };
    let description = |j: usize| -> Result<Option<Description>, StoreError> {
        r.optional_text(j)?
            .map(|raw| stored(r, j, Description::from_stored("stored description", &raw)))
            .transpose()
    };
    Ok(ProductChange {
        product_id: stored(r, i, ProductId::parse("stored id", &r.text(i)?))?,
        kind,
        at: r.instant(i + 2)?,
        actor: actor(r, i + 3)?,
        name: pair(name(i + 4)?, name(i + 5)?),
        description: pair(description(i + 6)?, description(i + 7)?),
        price: pair(optional_money(r, i + 8)?, optional_money(r, i + 9)?),
    })
}

/// A changed field: stored as its old and new value, NULL when unchanged.
fn pair<T>(old: Option<T>, new: Option<T>) -> Option<Edit<T>> {
    new.map(|new| Edit { old, new })
}

/// How many columns [`event`] reads.
pub const EVENT_WIDTH: usize = 9;

/// Columns: id, product_id, change, total_after_change, version, reason,
/// created_at, actor, reverts.
pub fn event(r: &dyn Columns, i: usize) -> Result<StockEvent, StoreError> {
    Ok(StockEvent {
        id: stored(r, i, EventId::parse("stored id", &r.text(i)?))?,
        product_id: stored(r, i + 1, ProductId::parse("stored id", &r.text(i + 1)?))?,
        change: r.integer(i + 2)?,
        total_after_change: r.integer(i + 3)?,
        version: r.integer(i + 4)?,
        reason: r
            .optional_text(i + 5)?
            .map(|raw| stored(r, i + 5, Reason::from_stored("stored reason", &raw)))
            .transpose()?,
        created_at: r.instant(i + 6)?,
        actor: actor(r, i + 7)?,
        reverts: optional_event_id(r, i + 8)?,
    })
}

/// Columns: product_id, version, change, total_after_change, the product
/// row's recorded latest version. Nothing but
/// the id is judged: a broken total is what a ledger audit looks for.
pub fn ledger_entry(r: &dyn Columns, i: usize) -> Result<LedgerEntry, StoreError> {
    Ok(LedgerEntry {
        product_id: stored(r, i, ProductId::parse("stored id", &r.text(i)?))?,
        version: r.integer(i + 1)?,
        change: r.integer(i + 2)?,
        total_after_change: r.integer(i + 3)?,
        recorded_latest: r.integer(i + 4)?,
    })
}

/// Columns of [`discount`].
pub const DISCOUNT_WIDTH: usize = 11;

/// Columns: id, product_id, percentage_bp, valid_from, valid_to, is_active,
/// created_at, actor, deactivated_at, deactivated_by, replaced_by.
pub fn discount(r: &dyn Columns, i: usize) -> Result<Discount, StoreError> {
    Ok(Discount {
        id: stored(r, i, DiscountId::parse("stored id", &r.text(i)?))?,
        product_id: stored(r, i + 1, ProductId::parse("stored id", &r.text(i + 1)?))?,
        percentage: stored(r, i + 2, Percentage::from_basis_points(r.integer(i + 2)?))?,
        window: window(r, i + 3)?,
        is_active: flag(r, i + 5)?,
        created_at: r.instant(i + 6)?,
        actor: actor(r, i + 7)?,
        deactivated: deactivation(r, i + 8)?,
        replaced_by: r
            .optional_text(i + 10)?
            .map(|id| stored(r, i + 10, DiscountId::parse("stored id", &id)))
            .transpose()?,
    })
}

/// Columns: id, user_id, code, percentage_bp, valid_from, valid_to,
/// is_active, created_at, actor, deactivated_at, deactivated_by.
pub fn coupon(r: &dyn Columns, i: usize) -> Result<Coupon, StoreError> {
    Ok(Coupon {
        id: stored(r, i, CouponId::parse("stored id", &r.text(i)?))?,
        user_id: stored(r, i + 1, CustomerId::parse("stored user", &r.text(i + 1)?))?,
        code: stored(r, i + 2, CouponCode::parse("stored code", &r.text(i + 2)?))?,
        percentage: stored(r, i + 3, Percentage::from_basis_points(r.integer(i + 3)?))?,
        window: window(r, i + 4)?,
        is_active: flag(r, i + 6)?,
        created_at: r.instant(i + 7)?,
        actor: actor(r, i + 8)?,
        deactivated: deactivation(r, i + 9)?,
    })
}

/// A listing row, as both adapters select it: the product's columns, its
/// stock, the qualifying discount's columns (NULL when none), the position,
/// the price in force, then the discount's `seq` (NULL when none), which
/// [`FirstPerProduct`] chooses by.
pub fn listing_row(r: &dyn Columns) -> Result<(ProductListing, Option<i64>), StoreError> {
    const STOCK: usize = PRODUCT_WIDTH;
    const SEQ: usize = STOCK + 1 + DISCOUNT_WIDTH;
    let listing = ProductListing {
        product: product(r, 0)?,
        stock: r.integer(STOCK)?,
        discount: optional(r, STOCK + 1, discount)?,
        position: r.integer(SEQ)?,
        price: money(r, SEQ + 1)?,
    };
    let discount_seq = (!r.is_null(SEQ + 2)?)
        .then(|| r.integer(SEQ + 2))
        .transpose()?;
    Ok((listing, discount_seq))
}

/// A listing as read with every qualifying discount joined, each row with
/// its discount's `seq`: one product for each run of rows, the one with the
/// earliest qualifying discount, handed on as soon as the next product's
/// first row shows that it is complete. Rows come ordered by position, so a
/// product's rows are adjacent; ordering by discount as well would make the
/// database sort the whole joined listing, so the choice is made here.
#[derive(Default)]
pub struct FirstPerProduct {
    held: Option<(ProductListing, Option<i64>)>,
}

impl FirstPerProduct {
    /// Takes the next row; a product it completes goes to `sink`.
    pub fn push(
        &mut self,
        row: (ProductListing, Option<i64>),
        sink: &mut dyn FnMut(ProductListing) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        match &mut self.held {
            Some((last, last_seq)) if last.position == row.0.position => {
                if row.1 < *last_seq {
                    (*last, *last_seq) = row;
                }
                ControlFlow::Continue(())
            }
            _ => match self.held.replace(row) {
                Some((done, _)) => sink(done),
                None => ControlFlow::Continue(()),
            },
        }
    }

    /// Hands on the last product.
    pub fn finish(self, sink: &mut dyn FnMut(ProductListing) -> ControlFlow<()>) {
        if let Some((last, _)) = self.held {
            let _ = sink(last);
        }
    }
}

/// [`FirstPerProduct`] over a page already read.
pub fn first_per_product(rows: Vec<(ProductListing, Option<i64>)>) -> Vec<ProductListing> {
    let mut page = Vec::with_capacity(rows.len());
    let mut sink = |row| {
        page.push(row);
        ControlFlow::Continue(())
    };
    let mut first = FirstPerProduct::default();
    for row in rows {
        let _ = first.push(row, &mut sink);
    }
    first.finish(&mut sink);
    page
}

/// A product id column.
pub fn product_id(r: &dyn Columns, i: usize) -> Result<ProductId, StoreError> {
    stored(r, i, ProductId::parse("stored id", &r.text_ref(i)?))
}

/// A ledger row id column that may be NULL.
pub fn optional_event_id(r: &dyn Columns, i: usize) -> Result<Option<EventId>, StoreError> {
    r.optional_text(i)?
        .map(|raw| stored(r, i, EventId::parse("stored id", &raw)))
        .transpose()
}

/// A discount id column.
pub fn discount_id(r: &dyn Columns, i: usize) -> Result<DiscountId, StoreError> {
    stored(r, i, DiscountId::parse("stored id", &r.text_ref(i)?))
}

/// A product's ledger as read: every product has its version-1 event, so
/// no rows means no product.
pub fn ledger(events: Vec<StockEvent>) -> Option<Vec<StockEvent>> {
    (!events.is_empty()).then_some(events)
}
