//! Arguments to MySQL values, result rows read through the shared decoders,
//! instants to DATETIME(6) and back.

use ::mysql::prelude::FromValue;
use ::mysql::{Row, Value};
use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

use crate::adapters::persistence::decode::Columns;
use crate::adapters::persistence::sql::Arg;
use crate::app::ports::StoreError;
use crate::domain::Instant;

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

/// An argument as a MySQL value.
pub fn value(arg: &Arg<'_>) -> Value {
    match arg {
        Arg::Null => Value::NULL,
        Arg::Int(n) => Value::Int(*n),
        Arg::Text(text) => Value::Bytes(text.as_bytes().to_vec()),
        Arg::Time(at) => datetime(*at),
    }
}

/// A result row; times are DATETIME(6) in UTC.
pub struct MysqlRow<'r>(pub &'r Row);

impl MysqlRow<'_> {
    fn get<T: FromValue>(&self, i: usize) -> Result<T, StoreError> {
        match self.0.get_opt::<T, usize>(i) {
            Some(Ok(value)) => Ok(value),
            Some(Err(e)) => Err(self.unreadable(i, &format!("unexpected {:?}", e.0))),
            None => Err(self.unreadable(i, &"missing column")),
        }
    }
}

impl Columns for MysqlRow<'_> {
    fn text(&self, i: usize) -> Result<String, StoreError> {
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
            .ok_or_else(|| self.unreadable(i, &format!("{:?} is not a time", self.0.as_ref(i))))
    }

    fn is_null(&self, i: usize) -> Result<bool, StoreError> {
        match self.0.as_ref(i) {
            Some(value) => Ok(*value == Value::NULL),
            None => Err(self.unreadable(i, &"missing column")),
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
