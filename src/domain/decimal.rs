//! Fixed-point decimals with two places, shared by money and percentages.
//!
//! Both are typed by people and scripts as short decimals; parsing them here,
//! digit by digit, is what keeps floats out of the whole program.

/// Parses `digits[.d[d]]` into hundredths. Returns `None` for anything else:
/// signs, whitespace, separators, exponents, `NaN`, a third decimal, or more
/// than `max_whole_digits` significant digits before the dot.
pub(crate) fn parse_hundredths(raw: &str, max_whole_digits: usize) -> Option<i64> {
    let (whole, frac) = match raw.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (raw, None),
    };
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac_hundredths = match frac {
        None => 0,
        Some(f) if f.is_empty() || f.len() > 2 || !f.bytes().all(|b| b.is_ascii_digit()) => {
            return None
        }
        Some(f) => {
            let digits: i64 = f.parse().ok()?;
            if f.len() == 1 {
                digits * 10
            } else {
                digits
            }
        }
    };
    // Leading zeros are harmless ("0001.00"); the length check after stripping
    // them refuses a 40-digit number before it can overflow.
    let significant = whole.trim_start_matches('0');
    if significant.len() > max_whole_digits {
        return None;
    }
    let whole_value: i64 = if significant.is_empty() {
        0
    } else {
        significant.parse().ok()?
    };
    whole_value.checked_mul(100)?.checked_add(frac_hundredths)
}

/// The short form used in JSON: at least one decimal, trailing zeros dropped
/// (`9000.0`, `17.49`, `17.5`), as the seed API printed its numbers.
pub(crate) fn short_form(hundredths: i64) -> String {
    if hundredths < 0 {
        return short_form_formatted(hundredths);
    }
    // Written by hand: a listing prints several amounts a row.
    let (whole, frac) = (hundredths / 100, hundredths % 100);
    let mut text = String::with_capacity(24);
    push_digits(&mut text, whole as u64);
    text.push('.');
    text.push(char::from(b'0' + (frac / 10) as u8));
    if frac % 10 != 0 {
        text.push(char::from(b'0' + (frac % 10) as u8));
    }
    text
}

fn short_form_formatted(hundredths: i64) -> String {
    let whole = hundredths / 100;
    let frac = hundredths % 100;
    if frac == 0 {
        format!("{whole}.0")
    } else if frac % 10 == 0 {
        format!("{whole}.{}", frac / 10)
    } else {
        format!("{whole}.{frac:02}")
    }
}

/// `n` in decimal, appended to `text`.
fn push_digits(text: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    text.extend(digits[start..].iter().map(|&d| char::from(d)));
}

/// Always two decimals (`17.50`): the form for tables and CSV.
pub(crate) fn two_places(hundredths: i64) -> String {
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written form is the formatted one, for every amount.
    #[test]
    fn short_form_is_written_as_formatted() {
        let mut n: i64 = 0;
        while n < 2_000_000 {
            assert_eq!(short_form(n), short_form_formatted(n), "{n}");
            n += 7;
        }
        for n in [
            0,
            1,
            10,
            99,
            100,
            101,
            110,
            i64::MAX,
            -1,
            -10,
            -100,
            -12_345,
            i64::MIN + 1,
        ] {
            assert_eq!(short_form(n), short_form_formatted(n), "{n}");
        }
    }

    #[test]
    fn parses_exact_hundredths() {
        assert_eq!(parse_hundredths("12", 3), Some(1200));
        assert_eq!(parse_hundredths("12.5", 3), Some(1250));
        assert_eq!(parse_hundredths("12.05", 3), Some(1205));
        assert_eq!(parse_hundredths("000.01", 3), Some(1));
        assert_eq!(parse_hundredths("1000", 3), None);
        assert_eq!(parse_hundredths("1.234", 3), None);
    }

    #[test]
    fn formats_both_forms() {
        assert_eq!(short_form(900_000), "9000.0");
        assert_eq!(short_form(1750), "17.5");
        assert_eq!(short_form(5), "0.05");
        assert_eq!(two_places(1750), "17.50");
        assert_eq!(two_places(5), "0.05");
    }
}
