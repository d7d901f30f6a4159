//! Domain values to row values and back, instants to DATETIME(6) and back.
//!
//! Stored values go through the same validating constructors as input, so a
//! hand-edited row that breaks a rule is reported instead of trusted.

use ::mysql::prelude::FromValue;
use ::mysql::{Row, Value};
use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

use crate::adapters::persistence::decode::Columns;
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
        p.archived_at.map(datetime).unwrap_or(Value::NULL),
        actor(&p.actor),
    ]
}

/// A nullable actor column.
pub fn actor(actor: &Option<Actor>) -> Value {
    actor.as_ref().map(Actor::as_str).into()
}

/// A nullable DATETIME(6).
pub fn optional_datetime(at: Option<Instant>) -> Value {
    at.map(datetime).unwrap_or(Value::NULL)
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
        actor(&e.actor),
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
        actor(&d.actor),
        optional_datetime(d.deactivated.as_ref().map(|x| x.at)),
        d.deactivated.as_ref().map_or(Value::NULL, |x| actor(&x.by)),
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
        actor(&c.actor),
        optional_datetime(c.deactivated.as_ref().map(|x| x.at)),
        c.deactivated.as_ref().map_or(Value::NULL, |x| actor(&x.by)),
    ]
}

/// A result row; times are DATETIME(6) in UTC.
pub struct MysqlRow<'r>(pub &'r Row);

impl MysqlRow<'_> {
    fn get<T: FromValue>(&self, i: usize) -> Result<T, StoreError> {
        match self.0.get_opt::<T, usize>(i) {
            Some(Ok(value)) => Ok(value),
            Some(Err(e)) => Err(self.unreadable(i, format!("unexpected {:?}", e.0))),
            None => Err(self.unreadable(i, "missing column")),
        }
    }
}

impl Columns for MysqlRow<'_> {
    fn text(&self, i: usize) -> Result<String, StoreError> {
        self.get(i)
    }

    fn optional_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        self.get(i)
    }

    fn integer(&self, i: usize) -> Result<i64, StoreError> {
        self.get(i)
    }

    /// A DATETIME(6) as the binary protocol sends it, or as text
    /// (`YYYY-MM-DD HH:MM:SS.ffffff`) from a plain query.
    fn instant(&self, i: usize) -> Result<Instant, StoreError> {
        let at = match self.0.as_ref(i) {
            Some(Value::Date(y, mo, d, h, mi, s, us)) => {
                NaiveDate::from_ymd_opt(i32::from(*y), u32::from(*mo), u32::from(*d)).and_then(
                    |day| day.and_hms_micro_opt(u32::from(*h), u32::from(*mi), u32::from(*s), *us),
                )
            }
            Some(Value::Bytes(raw)) => std::str::from_utf8(raw)
                .ok()
                .and_then(|raw| NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S%.f").ok()),
            _ => None,
        };
        at.map(|at| Instant::from_datetime(at.and_utc()))
            .ok_or_else(|| self.unreadable(i, format!("{:?} is not a time", self.0.as_ref(i))))
    }

    fn is_null(&self, i: usize) -> Result<bool, StoreError> {
        match self.0.as_ref(i) {
            Some(value) => Ok(*value == Value::NULL),
            None => Err(self.unreadable(i, "missing column")),
        }
    }

    fn name(&self, i: usize) -> String {
        self.0
            .columns_ref()
            .get(i)
            .map_or_else(|| format!("#{i}"), |c| c.name_str().into_owned())
    }
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
