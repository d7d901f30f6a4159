//! Exact money in integer minor units (cents).
//!
//! The seed stored prices as floats; milly never does. Every amount is a whole
//! number of cents, parsed from text without going through a float, and the
//! only rounding in the system happens once, in [`Money::percent_of`].

use std::fmt;

use super::decimal;
use super::error::DomainError;
use super::percentage::Percentage;

/// The largest amount milly accepts: 999,999,999,999.99 (fifteen digits), so
/// every amount also survives a round trip through a JSON reader that uses
/// doubles, and `price × percentage` never overflows.
pub const MAX_CENTS: i64 = 99_999_999_999_999;

/// A non-negative amount of money, in cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    /// Builds an amount from cents read back from storage; out-of-range values
    /// (a hand-edited database) are an error, not a wrap-around.
    pub fn from_cents(cents: i64) -> Result<Money, DomainError> {
        if (0..=MAX_CENTS).contains(&cents) {
            Ok(Money(cents))
        } else {
            Err(DomainError::invalid(
                "amount",
                cents.to_string(),
                "an amount from 0.00 to 999999999999.99",
            ))
        }
    }

    pub fn cents(self) -> i64 {
        self.0
    }

    /// Parses a price as an operator types it: digits, optionally a dot and
    /// one or two decimals (`10000`, `10000.5`, `17.49`). Signs, spaces,
    /// thousands separators, exponents, `NaN` and a third decimal are refused
    /// rather than rounded, because a silently changed price is worse than an
    /// error.
    pub fn parse_price(field: &'static str, raw: &str) -> Result<Money, DomainError> {
        let allowed =
            "a positive amount with at most 2 decimals, e.g. 10000 or 17.49 (max 999999999999.99)";
        match decimal::parse_hundredths(raw, 13) {
            Some(cents) if cents > 0 && cents <= MAX_CENTS => Ok(Money(cents)),
            _ => Err(DomainError::invalid(field, raw, allowed)),
        }
    }

    /// `percentage` of this amount, rounded half-up to the cent. This is the
    /// one place where milly rounds: 12.5% of 19.99 is 2.49875, so 2.50.
    pub fn percent_of(self, percentage: Percentage) -> Money {
        // 15 digits × 10_000 basis points fits easily in i128 (and in i64).
        let exact_times_10000 = i128::from(self.0) * i128::from(percentage.basis_points());
        let rounded = (exact_times_10000 + 5_000) / 10_000;
        Money(rounded as i64)
    }

    /// Subtraction that stops at zero: a final price is never negative.
    pub fn saturating_sub(self, other: Money) -> Money {
        Money((self.0 - other.0).max(0))
    }

    /// The short decimal form used in JSON (`9000.0`, `17.49`).
    pub fn to_json_decimal(self) -> String {
        decimal::short_form(self.0)
    }
}

/// Two decimals, always: the form for tables and CSV.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&decimal::two_places(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price(raw: &str) -> Result<Money, DomainError> {
        Money::parse_price("--price", raw)
    }

    #[test]
    fn parses_whole_and_decimal_prices_exactly() {
        assert_eq!(price("10000").unwrap().cents(), 1_000_000);
        assert_eq!(price("10000.00").unwrap().cents(), 1_000_000);
        assert_eq!(price("17.49").unwrap().cents(), 1749);
        assert_eq!(price("17.5").unwrap().cents(), 1750);
        assert_eq!(price("0.01").unwrap().cents(), 1);
        assert_eq!(price("0007.10").unwrap().cents(), 710);
        assert_eq!(price("999999999999.99").unwrap().cents(), MAX_CENTS);
    }

    #[test]
    fn refuses_anything_that_would_need_rounding_or_guessing() {
        for raw in [
            "",
            " ",
            "0",
            "0.00",
            "-1",
            "+1",
            "-0",
            "1.999",
            "1.",
            ".5",
            "1e3",
            "NaN",
            "inf",
            "1,000",
            "1 000",
            " 10",
            "10 ",
            "1000000000000.00",
            "99999999999999999999999",
            "１２",
            "0x10",
            "1.0.0",
        ] {
            assert!(price(raw).is_err(), "{raw:?} should be refused");
        }
    }

    #[test]
    fn rounds_percentages_half_up_to_the_cent() {
        let p = |s| Percentage::parse("--percent", s).unwrap();
        assert_eq!(price("19.99").unwrap().percent_of(p("12.5")).cents(), 250);
        assert_eq!(price("10000").unwrap().percent_of(p("10")).cents(), 100_000);
        // 0.05 × 10% = 0.005 → rounds up to 0.01.
        assert_eq!(price("0.05").unwrap().percent_of(p("10")).cents(), 1);
        // 0.04 × 10% = 0.004 → rounds down to 0.00.
        assert_eq!(price("0.04").unwrap().percent_of(p("10")).cents(), 0);
        assert_eq!(Money(MAX_CENTS).percent_of(p("100")).cents(), MAX_CENTS);
    }

    #[test]
    fn renders_json_and_display_forms() {
        assert_eq!(Money(900_000).to_json_decimal(), "9000.0");
        assert_eq!(Money(1749).to_json_decimal(), "17.49");
        assert_eq!(Money(1750).to_json_decimal(), "17.5");
        assert_eq!(Money(5).to_json_decimal(), "0.05");
        assert_eq!(Money(1750).to_string(), "17.50");
        assert_eq!(Money(5).to_string(), "0.05");
    }

    #[test]
    fn subtraction_never_goes_negative() {
        assert_eq!(Money(100).saturating_sub(Money(250)), Money::ZERO);
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// The exact value of a plain decimal string in cents, computed
    /// independently of the parser (None if it is not `digits[.d[d]]`).
    fn exact_cents(s: &str) -> Option<u128> {
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        let plain = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || !plain(whole)
            || !plain(frac)
            || frac.len() > 2
            || (s.contains('.') && frac.is_empty())
        {
            return None;
        }
        let whole: u128 = whole.trim_start_matches('0').parse().unwrap_or(0);
        let frac: u128 = format!("{frac:0<2}").parse().ok()?;
        whole.checked_mul(100)?.checked_add(frac)
    }

    proptest! {
        #[test]
        fn every_amount_round_trips_through_both_printed_forms(cents in 1..=MAX_CENTS) {
            let m = Money::from_cents(cents).unwrap();
            prop_assert_eq!(Money::parse_price("p", &m.to_string()), Ok(m));
            prop_assert_eq!(Money::parse_price("p", &m.to_json_decimal()), Ok(m));
        }

        #[test]
        fn any_string_is_parsed_exactly_or_rejected(s in "\\PC{0,20}|[-+ 0]?[0-9]{0,16}([.,][0-9]{0,3})?([eE][0-9])?") {
            match Money::parse_price("p", &s) {
                Ok(m) => prop_assert_eq!(Some(m.cents() as u128), exact_cents(&s)),
                Err(_) => prop_assert!(exact_cents(&s).is_none_or(|c| c == 0 || c > MAX_CENTS as u128)),
            }
        }

        #[test]
        fn percentages_round_half_up_to_the_cent(cents in 0..=MAX_CENTS, bp in 1u16..=10_000) {
            let price = Money::from_cents(cents).unwrap();
            let off = price.percent_of(Percentage::from_basis_points(i64::from(bp)).unwrap());
            let exact_times_10000 = i128::from(cents) * i128::from(bp);
            let error = exact_times_10000 - i128::from(off.cents()) * 10_000;
            // Within half a cent, and exactly half a cent always rounds up.
            prop_assert!((-5_000..5_000).contains(&error), "error {error}");
            prop_assert!(off <= price);
        }
    }
}
