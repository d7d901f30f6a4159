//! Domain values to row values and back, instants to DATETIME(6) and back.
//!
//! Stored values go through the same validating constructors as input, so a
//! hand-edited row that breaks a rule is reported instead of trusted.

use ::mysql::prelude::FromValue;
use ::mysql::{Row, Value};
use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

use crate::app::ports::StoreError;
use crate::domain::*;

/// An instant as a DATETIME(6) parameter. The session runs in UTC, and the
/// binary protocol carries the fields exactly: no text, no float.
pub fn datetime(at: Instant) -> Value {
    let t = at.as_datetime();
    Value::Date(
        t.year() as u16,
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
        // chrono counts a leap second as nanoseconds past 999_999_999;
        // DATETIME has no leap seconds.
        (t.nanosecond() / 1_000).min(999_999),
    )
}

/// Values for `INSERT INTO products` in [`super::PRODUCT_INSERT`] order.
pub fn product_values(position: i64, p: &Product) -> Vec<Value> {
    vec![
        position.into(),
        p.id.as_str().into(),
        p.name.as_str().into(),
        p.name.folded().into(),
        p.description.as_str().into(),
        p.price.cents().into(),
        datetime(p.created_at),
        datetime(p.updated_at),
    ]
}

/// Values for `INSERT INTO stock_events` in [`super::EVENT_INSERT`] order.
pub fn event_values(e: &StockEvent) -> Vec<Value> {
    vec![
        e.id.as_str().into(),
        e.product_id.as_str().into(),
        e.change.into(),
        e.total_after_change.into(),
        e.version.into(),
        e.reason.as_ref().map(|r| r.as_str()).into(),
        datetime(e.created_at),
    ]
}

/// Values for `INSERT INTO discounts` in [`super::DISCOUNT_INSERT`] order.
pub fn discount_values(d: &Discount) -> Vec<Value> {
    vec![
        d.id.as_str().into(),
        d.product_id.as_str().into(),
        d.percentage.basis_points().into(),
        datetime(d.window.from()),
        datetime(d.window.until()),
        d.is_active.into(),
        datetime(d.created_at),
    ]
}

/// Values for `INSERT INTO coupons` in [`super::COUPON_INSERT`] order.
pub fn coupon_values(c: &Coupon) -> Vec<Value> {
    vec![
        c.id.as_str().into(),
        c.user_id.as_str().into(),
        c.code.as_str().into(),
        c.code.key().into(),
        c.percentage.basis_points().into(),
        datetime(c.window.from()),
        datetime(c.window.until()),
        c.is_active.into(),
        datetime(c.created_at),
    ]
}

fn unreadable(r: &Row, i: usize, what: impl std::fmt::Display) -> StoreError {
    let column = r
        .columns_ref()
        .get(i)
        .map_or_else(|| format!("#{i}"), |c| c.name_str().into_owned());
    StoreError::Internal(format!(
        "unreadable stored value in column {column}: {what}"
    ))
}

/// Turns a domain refusal of a stored value into a store error.
fn stored<T>(r: &Row, i: usize, result: Result<T, DomainError>) -> Result<T, StoreError> {
    result.map_err(|e| unreadable(r, i, e))
}

fn get<T: FromValue>(r: &Row, i: usize) -> Result<T, StoreError> {
    match r.get_opt::<T, usize>(i) {
        Some(Ok(value)) => Ok(value),
        Some(Err(e)) => Err(unreadable(r, i, format!("unexpected {:?}", e.0))),
        None => Err(unreadable(r, i, "missing column")),
    }
}

fn text(r: &Row, i: usize) -> Result<String, StoreError> {
    get(r, i)
}

/// A DATETIME(6) as the binary protocol sends it, or as text
/// (`YYYY-MM-DD HH:MM:SS.ffffff`) from a plain query.
pub fn instant(r: &Row, i: usize) -> Result<Instant, StoreError> {
    let at = match r.as_ref(i) {
        Some(Value::Date(y, mo, d, h, mi, s, us)) => {
            NaiveDate::from_ymd_opt(i32::from(*y), u32::from(*mo), u32::from(*d)).and_then(|day| {
                day.and_hms_micro_opt(u32::from(*h), u32::from(*mi), u32::from(*s), *us)
            })
        }
        Some(Value::Bytes(raw)) => std::str::from_utf8(raw)
            .ok()
            .and_then(|raw| NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S%.f").ok()),
        _ => None,
    };
    at.map(|at| Instant::from_datetime(at.and_utc()))
        .ok_or_else(|| unreadable(r, i, format!("{:?} is not a time", r.as_ref(i))))
}

fn window(r: &Row, i: usize) -> Result<Window, StoreError> {
    stored(
        r,
        i,
        Window::new(instant(r, i)?, instant(r, i + 1)?, "stored window"),
    )
}

/// A record from a LEFT JOIN: absent when its id column is NULL.
pub fn optional<T>(
    r: &Row,
    i: usize,
    read: fn(&Row, usize) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    match r.as_ref(i) {
        Some(Value::NULL) => Ok(None),
        _ => read(r, i).map(Some),
    }
}

/// Columns: id, name, description, price_cents, created_at, updated_at.
pub fn product(r: &Row, i: usize) -> Result<Product, StoreError> {
    Ok(Product {
        id: stored(r, i, ProductId::parse("stored id", &text(r, i)?))?,
        name: stored(
            r,
            i + 1,
            ProductName::parse("stored name", &text(r, i + 1)?),
        )?,
        description: stored(
            r,
            i + 2,
            Description::parse("stored description", &text(r, i + 2)?),
        )?,
        price: stored(r, i + 3, Money::from_cents(get(r, i + 3)?))?,
        created_at: instant(r, i + 4)?,
        updated_at: instant(r, i + 5)?,
    })
}

/// The current stock from a correlated subquery, or a product's position.
pub fn integer(r: &Row, i: usize) -> Result<i64, StoreError> {
    get(r, i)
}

/// Columns: id, product_id, change, total_after_change, version, reason, created_at.
pub fn event(r: &Row, i: usize) -> Result<StockEvent, StoreError> {
    Ok(StockEvent {
        id: stored(r, i, EventId::parse("stored id", &text(r, i)?))?,
        product_id: stored(r, i + 1, ProductId::parse("stored id", &text(r, i + 1)?))?,
        change: get(r, i + 2)?,
        total_after_change: get(r, i + 3)?,
        version: get(r, i + 4)?,
        reason: get::<Option<String>>(r, i + 5)?
            .map(|raw| stored(r, i + 5, Reason::parse("stored reason", &raw)))
            .transpose()?,
        created_at: instant(r, i + 6)?,
    })
}

/// Columns: id, product_id, percentage_bp, valid_from, valid_to, is_active, created_at.
pub fn discount(r: &Row, i: usize) -> Result<Discount, StoreError> {
    Ok(Discount {
        id: stored(r, i, DiscountId::parse("stored id", &text(r, i)?))?,
        product_id: stored(r, i + 1, ProductId::parse("stored id", &text(r, i + 1)?))?,
        percentage: stored(r, i + 2, Percentage::from_basis_points(get(r, i + 2)?))?,
        window: window(r, i + 3)?,
        is_active: get(r, i + 5)?,
        created_at: instant(r, i + 6)?,
    })
}

/// Columns: id, user_id, code, percentage_bp, valid_from, valid_to, is_active, created_at.
pub fn coupon(r: &Row, i: usize) -> Result<Coupon, StoreError> {
    Ok(Coupon {
        id: stored(r, i, CouponId::parse("stored id", &text(r, i)?))?,
        user_id: stored(r, i + 1, CustomerId::parse("stored user", &text(r, i + 1)?))?,
        code: stored(r, i + 2, CouponCode::parse("stored code", &text(r, i + 2)?))?,
        percentage: stored(r, i + 3, Percentage::from_basis_points(get(r, i + 3)?))?,
        window: window(r, i + 4)?,
        is_active: get(r, i + 6)?,
        created_at: instant(r, i + 7)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_become_exact_datetime_fields() {
        let at = Instant::parse("--at", "2025-03-01T12:34:56.789012Z").unwrap();
        assert_eq!(datetime(at), Value::Date(2025, 3, 1, 12, 34, 56, 789_012));
    }
}
