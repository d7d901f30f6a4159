//! Times as an operator types them: an absolute time, or one relative to
//! now (`now`, `today`, `-7d`, `+30d`, …), parsed here once for every flag
//! that takes a time, and resolved against the clock when the command runs.

use std::borrow::Cow;

use chrono::{Duration, TimeZone, Utc};

use super::error::DomainError;
use super::time::Instant;

/// The forms a time may take, for error messages.
pub const MOMENT_FORMS: &str = "an RFC 3339 time such as 2025-03-01T12:00:00Z, a date such as 2025-03-01, now, today, yesterday, tomorrow (midnights UTC), or a signed offset from now such as -7d, +30d, -12h, +15m, -2w";

/// A time as typed: kept as typed, so that every message about it quotes
/// what the operator wrote rather than a normalised form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moment {
    /// What the caller calls it (a flag, an import column).
    field: Cow<'static, str>,
    typed: String,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    At(Instant),
    Now,
    /// Midnight UTC, this many days from today's.
    Midnight(i64),
    /// This long from now.
    Offset(Duration),
}

impl Moment {
    /// Reads `raw`: an absolute time as [`Instant::parse`] takes it, one of
    /// `now`, `today`, `yesterday`, `tomorrow` (any case), or a sign, a
    /// whole number and a unit (`m` minutes, `h` hours, `d` days, `w`
    /// weeks). The sign is required, so that `7d` is not guessed to mean
    /// one direction or the other.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, DomainError> {
        let kind = match raw.to_ascii_lowercase().as_str() {
            "now" => Kind::Now,
            "today" => Kind::Midnight(0),
            "yesterday" => Kind::Midnight(-1),
            "tomorrow" => Kind::Midnight(1),
            word if word.starts_with(['+', '-']) => Kind::Offset(
                offset(word).ok_or_else(|| DomainError::invalid(field, raw, MOMENT_FORMS))?,
            ),
            _ => Kind::At(Instant::parse_or_say(field, raw, MOMENT_FORMS)?),
        };
        Ok(Moment {
            field: Cow::Borrowed(field),
            typed: raw.to_owned(),
            kind,
        })
    }

    /// The same moment under the name the caller knows it by (the command
    /// line names a value after its flag only once it has been parsed).
    pub fn named(mut self, field: impl Into<Cow<'static, str>>) -> Self {
        self.field = field.into();
        self
    }

    /// What the operator typed.
    pub fn typed(&self) -> &str {
        &self.typed
    }

    /// What the caller calls it.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What makes two requests name the same moment: an absolute time in
    /// its one normal form, a relative one as typed (`+30d` means the same
    /// request whichever day it is run again).
    pub fn request_text(&self) -> String {
        match self.kind {
            Kind::At(at) => at.to_rfc3339(),
            _ => self.typed.to_ascii_lowercase(),
        }
    }

    /// The instant this moment names when "now" is `now`. A relative time
    /// that lands outside the years 1970 to 9999 is refused like an
    /// absolute one would be.
    pub fn resolve(&self, now: Instant) -> Result<Instant, DomainError> {
        let now = now.as_datetime();
        let at = match self.kind {
            Kind::At(at) => return Ok(at),
            Kind::Now => Some(now),
            Kind::Midnight(days) => now
                .date_naive()
                .and_hms_opt(0, 0, 0)
                .map(|midnight| Utc.from_utc_datetime(&midnight))
                .and_then(|midnight| midnight.checked_add_signed(Duration::days(days))),
            Kind::Offset(by) => now.checked_add_signed(by),
        };
        at.filter(|at| (1970..=9999).contains(&chrono::Datelike::year(at)))
            .map(Instant::from_datetime)
            .ok_or_else(|| {
                DomainError::invalid("value", &self.typed, "a time in the years 1970 to 9999")
                    .named(self.field.clone())
            })
    }
}

/// An absolute moment: a time already known, as a caller other than the
/// command line gives one.
impl From<Instant> for Moment {
    fn from(at: Instant) -> Self {
        Moment {
            field: Cow::Borrowed("time"),
            typed: at.to_rfc3339(),
            kind: Kind::At(at),
        }
    }
}

/// `+30d`, `-12h`: a sign, digits and one unit letter.
fn offset(word: &str) -> Option<Duration> {
    let (sign, rest) = word.split_at(1);
    let unit = rest.chars().last()?;
    let digits = &rest[..rest.len() - unit.len_utf8()];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = digits.parse().ok()?;
    // Beyond this every unit leaves the years milly can store.
    if n > 10_000_000 {
        return None;
    }
    let span = match unit {
        'm' => Duration::try_minutes(n)?,
        'h' => Duration::try_hours(n)?,
        'd' => Duration::try_days(n)?,
        'w' => Duration::try_weeks(n)?,
        _ => return None,
    };
    Some(if sign == "-" { -span } else { span })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str) -> Instant {
        Instant::parse("t", raw).unwrap()
    }

    fn resolved(raw: &str, now: &str) -> String {
        Moment::parse("--at", raw)
            .unwrap()
            .resolve(at(now))
            .unwrap()
            .to_rfc3339()
    }

    #[test]
    fn words_are_midnights_utc_around_now() {
        let now = "2026-03-01T23:59:59.999999Z";
        assert_eq!(resolved("now", now), "2026-03-01T23:59:59.999999Z");
        assert_eq!(resolved("today", now), "2026-03-01T00:00:00.000000Z");
        assert_eq!(resolved("TODAY", now), "2026-03-01T00:00:00.000000Z");
        // Across the end of February (not a leap year).
        assert_eq!(resolved("yesterday", now), "2026-02-28T00:00:00.000000Z");
        assert_eq!(resolved("tomorrow", now), "2026-03-02T00:00:00.000000Z");
        // At midnight exactly, today is now.
        let midnight = "2026-03-01T00:00:00Z";
        assert_eq!(resolved("today", midnight), "2026-03-01T00:00:00.000000Z");
        assert_eq!(
            resolved("yesterday", midnight),
            "2026-02-28T00:00:00.000000Z"
        );
    }

    #[test]
    fn offsets_count_from_now_across_month_and_year_ends() {
        let now = "2024-01-31T10:00:00Z";
        assert_eq!(resolved("+30d", now), "2024-03-01T10:00:00.000000Z");
        assert_eq!(
            resolved("+1d", "2024-02-28T10:00:00Z"),
            "2024-02-29T10:00:00.000000Z"
        );
        assert_eq!(
            resolved("-1d", "2026-03-01T00:00:00Z"),
            "2026-02-28T00:00:00.000000Z"
        );
        assert_eq!(
            resolved("+15m", "2025-12-31T23:50:00Z"),
            "2026-01-01T00:05:00.000000Z"
        );
        assert_eq!(resolved("-12h", now), "2024-01-30T22:00:00.000000Z");
        assert_eq!(resolved("-2w", now), "2024-01-17T10:00:00.000000Z");
        assert_eq!(resolved("+0d", now), "2024-01-31T10:00:00.000000Z");
    }

    #[test]
    fn absolute_times_are_read_as_before() {
        assert_eq!(
            resolved("2025-03-01", "2026-01-01T00:00:00Z"),
            "2025-03-01T00:00:00.000000Z"
        );
        assert_eq!(
            resolved("2025-03-01T12:00:00+02:00", "2026-01-01T00:00:00Z"),
            "2025-03-01T10:00:00.000000Z"
        );
    }

    #[test]
    fn refusals_quote_the_value_as_typed() {
        for raw in [
            "7d",
            "+d",
            "+7",
            "+7y",
            "-1.5d",
            "+-1d",
            "soon",
            "",
            "+ 7d",
            "+99999999999d",
        ] {
            let err = Moment::parse("--since", raw).unwrap_err().to_string();
            assert!(err.contains(&format!("{raw:?}")), "{raw}: {err}");
            assert!(err.contains("-7d"), "{raw}: {err}");
        }
        // An absolute time keeps its own, more precise messages.
        let err = Moment::parse("--at", "2025-02-30").unwrap_err().to_string();
        assert!(err.contains("\"2025-02-30\""), "{err}");
        let err = Moment::parse("--at", "2025-01-01T00:00:00.1234567Z")
            .unwrap_err()
            .to_string();
        assert!(err.contains("at most 6 decimals"), "{err}");
        // Out of range once resolved.
        let far = Moment::parse("--until", "+10000000d").unwrap();
        let err = far.resolve(at("2026-01-01")).unwrap_err().to_string();
        assert!(err.contains("\"+10000000d\""), "{err}");
        assert!(err.contains("--until"), "{err}");
        assert!(err.contains("1970 to 9999"), "{err}");
    }

    #[test]
    fn one_request_whatever_the_spelling_of_an_absolute_time() {
        let text = |raw: &str| Moment::parse("t", raw).unwrap().request_text();
        assert_eq!(text("2025-03-01"), text("2025-03-01T00:00:00Z"));
        assert_eq!(text("+30D"), "+30d");
    }

    #[test]
    fn keeps_what_was_typed() {
        assert_eq!(Moment::parse("--at", "-1d").unwrap().typed(), "-1d");
        assert_eq!(Moment::parse("--at", "Now").unwrap().typed(), "Now");
    }
}
