//! Percentages with two decimals, stored as basis points (hundredths of a percent).

use std::fmt;

use super::decimal;
use super::error::DomainError;

/// A discount rate: more than 0 and at most 100 percent, two decimals at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Percentage(u16);

impl Percentage {
    /// `20`, `12.5` and `0.01` are fine; `0`, `0.001`, `100.01`, `-5`, `5%`
    /// and `1e1` are not. A zero discount is refused rather than stored,
    /// because it would silently replace a real one.
    pub fn parse(field: &'static str, raw: &str) -> Result<Percentage, DomainError> {
        match decimal::parse_hundredths(raw, 3) {
            Some(bp) if (1..=10_000).contains(&bp) => Ok(Percentage(bp as u16)),
            _ => Err(DomainError::invalid(
                field,
                raw,
                "a percentage greater than 0 and at most 100, with at most 2 decimals (e.g. 20 or 12.5)",
            )),
        }
    }

    /// Rebuilds a percentage read back from storage.
    pub fn from_basis_points(bp: i64) -> Result<Percentage, DomainError> {
        if (1..=10_000).contains(&bp) {
            Ok(Percentage(bp as u16))
        } else {
            Err(DomainError::invalid(
                "stored percentage",
                bp.to_string(),
                "1 to 10000 basis points",
            ))
        }
    }

    pub fn basis_points(self) -> u16 {
        self.0
    }

    /// The short decimal form used in JSON (`20.0`, `12.5`).
    pub fn to_json_decimal(self) -> String {
        decimal::short_form(i64::from(self.0))
    }
}

/// `20`, `12.5`, `0.01`: the form for tables and CSV.
impl fmt::Display for Percentage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let short = decimal::short_form(i64::from(self.0));
        f.write_str(short.strip_suffix(".0").unwrap_or(&short))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_bounds_and_refuses_beyond_them() {
        let bp = |s| Percentage::parse("--percent", s).map(|p| p.basis_points());
        assert_eq!(bp("100"), Ok(10_000));
        assert_eq!(bp("100.00"), Ok(10_000));
        assert_eq!(bp("0.01"), Ok(1));
        assert_eq!(bp("12.5"), Ok(1_250));
        for raw in [
            "0", "0.00", "0.001", "100.01", "101", "-5", "+5", "5%", "1e1", "NaN", "", " 5",
        ] {
            assert!(bp(raw).is_err(), "{raw:?} should be refused");
        }
    }

    #[test]
    fn displays_without_needless_zeros() {
        let p = |s| Percentage::parse("--percent", s).unwrap();
        assert_eq!(p("20").to_string(), "20");
        assert_eq!(p("12.50").to_string(), "12.5");
        assert_eq!(p("20").to_json_decimal(), "20.0");
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn every_percentage_round_trips(bp in 1i64..=10_000) {
            let p = Percentage::from_basis_points(bp).unwrap();
            prop_assert_eq!(Percentage::parse("p", &p.to_string()), Ok(p));
            prop_assert_eq!(Percentage::parse("p", &p.to_json_decimal()), Ok(p));
        }

        #[test]
        fn anything_parsed_is_within_the_bounds(s in "\\PC{0,12}|[-+ ]?[0-9]{0,4}(\\.[0-9]{0,3})?") {
            if let Ok(p) = Percentage::parse("p", &s) {
                prop_assert!((1..=10_000).contains(&p.basis_points()));
                // The exact value, read digit by digit without the parser.
                let (whole, frac) = s.split_once('.').unwrap_or((&s, ""));
                let exact = whole.parse::<u32>().unwrap() * 100 + format!("{frac:0<2}").parse::<u32>().unwrap();
                prop_assert_eq!(exact, u32::from(p.basis_points()));
            }
        }
    }
}
