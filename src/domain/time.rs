//! Instants in UTC and validity windows.

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};

use super::error::DomainError;

/// A point in time, UTC, with microsecond precision — the precision both
/// backends store, so a value survives a round trip unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(DateTime<Utc>);

const ALLOWED: &str =
    "an RFC 3339 time such as 2025-03-01T12:00:00Z (any valid offset) or a date such as 2025-03-01, in years 1970 to 9999";

impl Instant {
    pub fn from_datetime(at: DateTime<Utc>) -> Self {
        Instant(at.trunc_subsecs(6))
    }

    /// Accepts RFC 3339 with any offset (converted to UTC) or a plain date
    /// (midnight UTC). Impossible dates such as 2025-02-30 and years outside
    /// 1970–9999 are refused, and so are times both backends cannot keep as
    /// given: more than six decimals of a second, or a leap second (`:60`).
    /// Refusing them is the only way nothing is rounded without a word.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, DomainError> {
        Self::parse_or_say(field, raw, ALLOWED)
    }

    /// As [`Instant::parse`], saying `allowed` for a value that is no time
    /// at all (a caller that accepts more forms lists them all).
    pub(crate) fn parse_or_say(
        field: &'static str,
        raw: &str,
        allowed: &str,
    ) -> Result<Self, DomainError> {
        let bad = || DomainError::invalid(field, raw, allowed);
        if fraction_digits(raw) > 6 {
            return Err(DomainError::invalid(
                field,
                raw,
                "at most 6 decimals of a second (microseconds)",
            ));
        }
        let at = if raw.len() == 10 {
            NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .map_err(|_| bad())?
                .and_hms_opt(0, 0, 0)
                .ok_or_else(bad)?
                .and_utc()
        } else {
            DateTime::parse_from_rfc3339(raw)
                .map_err(|_| bad())?
                .with_timezone(&Utc)
        };
        let year = chrono::Datelike::year(&at);
        if !(1970..=9999).contains(&year) {
            return Err(bad());
        }
        // chrono keeps a leap second as a nanosecond count past one second.
        if chrono::Timelike::nanosecond(&at) >= 1_000_000_000 {
            return Err(DomainError::invalid(
                field,
                raw,
                "a time without a leap second (seconds 00 to 59)",
            ));
        }
        Ok(Self::from_datetime(at))
    }

    pub fn as_datetime(self) -> DateTime<Utc> {
        self.0
    }

    pub fn plus_days(self, days: i64) -> Self {
        Instant(self.0 + chrono::Duration::days(days))
    }

    /// Reads back a time that milly stored itself.
    pub fn from_stored(raw: &str) -> Result<Self, DomainError> {
        if let Some(at) = stored_fixed_width(raw) {
            return Ok(Instant(at));
        }
        DateTime::parse_from_rfc3339(raw)
            .map(|at| Self::from_datetime(at.with_timezone(&Utc)))
            .map_err(|_| DomainError::invalid("stored time", raw, "an RFC 3339 time"))
    }

    /// RFC 3339 in UTC with microseconds: `2025-03-01T12:00:00.000000Z`.
    /// Fixed width, so stored times also sort correctly as text.
    pub fn to_rfc3339(self) -> String {
        use chrono::{Datelike, Timelike};
        let at = self.0;
        // Written by hand: a listing prints two times a row, and chrono's
        // general formatter costs more than the rest of the row.
        let mut text = *b"0000-00-00T00:00:00.000000Z";
        for (from, width, n) in [
            (0, 4, at.year() as u32),
            (5, 2, at.month()),
            (8, 2, at.day()),
            (11, 2, at.hour()),
            (14, 2, at.minute()),
            (17, 2, at.second()),
            (20, 6, at.nanosecond() / 1_000),
        ] {
            write_digits(&mut text[from..from + width], n);
        }
        String::from_utf8_lossy(&text).into_owned()
    }
}

/// `n` in decimal, zero-padded to fill `slots`.
fn write_digits(slots: &mut [u8], mut n: u32) {
    for slot in slots.iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// The form milly writes (`to_rfc3339`), read without a general parser;
/// `None` for anything else, which the general parser then reads.
fn stored_fixed_width(raw: &str) -> Option<DateTime<Utc>> {
    let b = raw.as_bytes();
    if b.len() != 27
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'.'
        || b[26] != b'Z'
    {
        return None;
    }
    let number = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let date = NaiveDate::from_ymd_opt(number(0, 4)? as i32, number(5, 7)?, number(8, 10)?)?;
    let time = chrono::NaiveTime::from_hms_micro_opt(
        number(11, 13)?,
        number(14, 16)?,
        number(17, 19)?,
        number(20, 26)?,
    )?;
    Some(date.and_time(time).and_utc())
}

/// Digits after the decimal point of the seconds, if any.
fn fraction_digits(raw: &str) -> usize {
    raw.split_once('.').map_or(0, |(_, rest)| {
        rest.bytes().take_while(u8::is_ascii_digit).count()
    })
}

impl std::fmt::Display for Instant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// A half-open validity window `[from, until)`: a discount that runs until
/// 2025-04-01 no longer applies at midnight of that day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    from: Instant,
    until: Instant,
}

impl Window {
    pub fn new(
        from: Instant,
        until: Instant,
        until_field: &'static str,
    ) -> Result<Self, DomainError> {
        Self::typed(from, until, until_field, &until.to_rfc3339())
    }

    /// As [`Window::new`], quoting the end as it was typed (`+30d`) when
    /// it does not come after the start.
    pub fn typed(
        from: Instant,
        until: Instant,
        until_field: &'static str,
        until_typed: &str,
    ) -> Result<Self, DomainError> {
        if from >= until {
            return Err(DomainError::invalid(
                until_field,
                until_typed,
                format!("a time after the start of the window, {from}"),
            ));
        }
        Ok(Window { from, until })
    }

    pub fn from(self) -> Instant {
        self.from
    }

    pub fn until(self) -> Instant {
        self.until
    }

    pub fn contains(self, at: Instant) -> bool {
        self.from <= at && at < self.until
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::SecondsFormat;

    /// The hand-written stored form agrees with chrono's, both ways, across
    /// the whole range of years and down to the microsecond.
    #[test]
    fn the_stored_form_is_chrono_rfc3339_and_reads_back() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let first = NaiveDate::from_ymd_opt(1970, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc();
        let span_micros = 8_029 * 365 * 86_400 * 1_000_000_i64; // to about 9999
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let micros = (seed % span_micros as u64) as i64;
            let at = Instant::from_datetime(first + chrono::Duration::microseconds(micros));
            let text = at.to_rfc3339();
            assert_eq!(text, at.0.to_rfc3339_opts(SecondsFormat::Micros, true));
            assert_eq!(Instant::from_stored(&text).unwrap(), at, "{text}");
        }
        // Other valid forms still read through the general parser; broken
        // ones are refused.
        assert_eq!(
            Instant::from_stored("2025-03-01T09:00:00+09:00")
                .unwrap()
                .to_rfc3339(),
            "2025-03-01T00:00:00.000000Z"
        );
        for bad in [
            "2025-02-30T00:00:00.000000Z",
            "2025-03-01T24:00:00.000000Z",
            "2025-03-01T00:00:00.00000xZ",
            "",
        ] {
            assert!(Instant::from_stored(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_dates_and_offsets_into_utc() {
        let d = Instant::parse("--at", "2025-03-01").unwrap();
        assert_eq!(d.to_rfc3339(), "2025-03-01T00:00:00.000000Z");
        let o = Instant::parse("--at", "2025-03-01T09:00:00+09:00").unwrap();
        assert_eq!(o, d);
        let z = Instant::parse("--at", "2025-03-01T00:00:00.5Z").unwrap();
        assert_eq!(z.to_rfc3339(), "2025-03-01T00:00:00.500000Z");
    }

    #[test]
    fn refuses_impossible_and_out_of_range_times() {
        for raw in [
            "",
            "2025-02-30",
            "2025-13-01",
            "1969-12-31",
            "0000-01-01",
            "10000-01-01",
            "2025-03-01T25:00:00Z",
            "2025-03-01T00:00:00+25:00",
            "2025-03-01 00:00:00",
            "yesterday",
            "1740787200",
            "2025-3-1",
        ] {
            assert!(Instant::parse("--at", raw).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn refuses_what_would_be_rounded() {
        for raw in [
            "2026-11-24T12:00:00.9999999Z",
            "2026-11-24T12:00:00.0000000Z",
            "2026-11-24T12:00:00.123456789+02:00",
            "2016-12-31T23:59:60Z",
            "2016-12-31T23:59:60.5Z",
            "2017-01-01T08:59:60+09:00",
        ] {
            let error = Instant::parse("--at", raw).unwrap_err().to_string();
            assert!(error.contains(raw), "{error}");
        }
        let six = Instant::parse("--at", "2026-11-24T12:00:00.999999Z").unwrap();
        assert_eq!(six.to_rfc3339(), "2026-11-24T12:00:00.999999Z");
    }

    #[test]
    fn windows_are_half_open_and_ordered() {
        let a = Instant::parse("--from", "2025-03-01").unwrap();
        let b = Instant::parse("--until", "2025-03-02").unwrap();
        let w = Window::new(a, b, "--until").unwrap();
        assert!(w.contains(a));
        assert!(!w.contains(b));
        assert!(Window::new(b, a, "--until").is_err());
        assert!(Window::new(a, a, "--until").is_err());
    }
}
