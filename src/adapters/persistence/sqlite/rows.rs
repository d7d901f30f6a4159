//! Rows back into domain values. Stored values go through the same
//! validating constructors as input, so a hand-edited row that breaks a rule
//! is reported instead of trusted.

use rusqlite::types::Type;
use rusqlite::Row;

use crate::domain::*;

/// Turns a domain refusal of a stored value into a row-conversion error.
fn stored<T>(index: usize, result: Result<T, DomainError>) -> rusqlite::Result<T> {
    result.map_err(|e| rusqlite::Error::FromSqlConversionFailure(index, Type::Text, Box::new(e)))
}

fn instant(r: &Row<'_>, i: usize) -> rusqlite::Result<Instant> {
    stored(i, Instant::from_stored(&r.get::<_, String>(i)?))
}

fn window(r: &Row<'_>, i: usize) -> rusqlite::Result<Window> {
    stored(
        i,
        Window::new(instant(r, i)?, instant(r, i + 1)?, "stored window"),
    )
}

/// Columns: id, name, description, price_cents, created_at, updated_at.
pub fn product(r: &Row<'_>, i: usize) -> rusqlite::Result<Product> {
    Ok(Product {
        id: stored(i, ProductId::parse("stored id", &r.get::<_, String>(i)?))?,
        name: stored(
            i + 1,
            ProductName::parse("stored name", &r.get::<_, String>(i + 1)?),
        )?,
        description: stored(
            i + 2,
            Description::parse("stored description", &r.get::<_, String>(i + 2)?),
        )?,
        price: stored(i + 3, Money::from_cents(r.get(i + 3)?))?,
        created_at: instant(r, i + 4)?,
        updated_at: instant(r, i + 5)?,
    })
}

/// Columns: id, product_id, change, total_after_change, version, reason, created_at.
pub fn event(r: &Row<'_>, i: usize) -> rusqlite::Result<StockEvent> {
    Ok(StockEvent {
        id: stored(i, EventId::parse("stored id", &r.get::<_, String>(i)?))?,
        product_id: stored(
            i + 1,
            ProductId::parse("stored id", &r.get::<_, String>(i + 1)?),
        )?,
        change: r.get(i + 2)?,
        total_after_change: r.get(i + 3)?,
        version: r.get(i + 4)?,
        reason: r
            .get::<_, Option<String>>(i + 5)?
            .map(|raw| stored(i + 5, Reason::parse("stored reason", &raw)))
            .transpose()?,
        created_at: instant(r, i + 6)?,
    })
}

/// Columns: id, product_id, percentage_bp, valid_from, valid_to, is_active, created_at.
pub fn discount(r: &Row<'_>, i: usize) -> rusqlite::Result<Discount> {
    Ok(Discount {
        id: stored(i, DiscountId::parse("stored id", &r.get::<_, String>(i)?))?,
        product_id: stored(
            i + 1,
            ProductId::parse("stored id", &r.get::<_, String>(i + 1)?),
        )?,
        percentage: stored(i + 2, Percentage::from_basis_points(r.get(i + 2)?))?,
        window: window(r, i + 3)?,
        is_active: r.get(i + 5)?,
        created_at: instant(r, i + 6)?,
    })
}

/// A discount from a LEFT JOIN: absent when its id column is NULL.
pub fn optional_discount(r: &Row<'_>, i: usize) -> rusqlite::Result<Option<Discount>> {
    match r.get::<_, Option<String>>(i)? {
        None => Ok(None),
        Some(_) => discount(r, i).map(Some),
    }
}

/// Columns: id, user_id, code, percentage_bp, valid_from, valid_to, is_active, created_at.
pub fn coupon(r: &Row<'_>, i: usize) -> rusqlite::Result<Coupon> {
    Ok(Coupon {
        id: stored(i, CouponId::parse("stored id", &r.get::<_, String>(i)?))?,
        user_id: stored(
            i + 1,
            CustomerId::parse("stored user", &r.get::<_, String>(i + 1)?),
        )?,
        code: stored(
            i + 2,
            CouponCode::parse("stored code", &r.get::<_, String>(i + 2)?),
        )?,
        percentage: stored(i + 3, Percentage::from_basis_points(r.get(i + 3)?))?,
        window: window(r, i + 4)?,
        is_active: r.get(i + 6)?,
        created_at: instant(r, i + 7)?,
    })
}
