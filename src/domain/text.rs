//! Validated text values. Each type can only hold text that obeys its rules,
//! so nothing past the command line has to check them again.

use super::error::DomainError;

pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;
pub const MAX_REASON_CHARS: usize = 200;
pub const MAX_CUSTOMER_ID_CHARS: usize = 64;
pub const MIN_COUPON_CODE_CHARS: usize = 3;
pub const MAX_COUPON_CODE_CHARS: usize = 32;
pub const MAX_ACTOR_CHARS: usize = 64;

/// Characters that reorder or hide text on a terminal without being control
/// characters: the bidirectional embeddings, overrides, isolates and marks.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Which rules a text is checked by: new input, or a value stored by an
/// earlier milly, which accepted carriage returns in descriptions and
/// bidirectional overrides anywhere. Such rows must stay readable; the
/// tables escape what they hold.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Rules {
    Input,
    Stored,
}

/// Trims free text and checks its length and characters. Tabs and newlines
/// are allowed only where the text is prose (a description).
fn free_text_as(
    rules: Rules,
    field: &'static str,
    raw: &str,
    max: usize,
    allow_empty: bool,
    allow_line_breaks: bool,
) -> Result<String, DomainError> {
    let old = rules == Rules::Stored;
    let trimmed = raw.trim();
    // A carriage return is refused even in prose: it moves the cursor back
    // over what was printed, which is exactly what the message says is not
    // allowed. Bidirectional overrides are refused for the same reason.
    let control = |c: char| {
        (c.is_control() && !(allow_line_breaks && (matches!(c, '\n' | '\t') || (old && c == '\r'))))
            || (!old && is_bidi_control(c))
    };
    // Printable ASCII (most names, every listed row of a catalog) needs
    // neither the character-by-character rules nor a character count.
    let plain_ascii = trimmed.bytes().all(|b| (b' '..=b'~').contains(&b));
    let fits = if plain_ascii {
        trimmed.len() <= max
    } else {
        trimmed.chars().count() <= max && !trimmed.chars().any(control)
    };
    if (!allow_empty && trimmed.is_empty()) || !fits {
        let what = if allow_line_breaks {
            "text without control characters other than tab and newline, nor bidirectional overrides"
        } else {
            "text without control characters or bidirectional overrides"
        };
        let allowed = if allow_empty {
            format!("{what}, at most {max} characters")
        } else {
            format!("non-blank {what}, at most {max} characters")
        };
        return Err(DomainError::invalid(field, raw, allowed));
    }
    Ok(trimmed.to_owned())
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_type!(
    /// A product's name: non-blank after trimming, at most 200 characters, no
    /// control characters.
    ProductName
);
text_type!(
    /// A product's description: may be empty; tabs and newlines allowed.
    Description
);
text_type!(
    /// Why stock changed (free text on a ledger row).
    Reason
);
text_type!(
    /// An external customer id: 1–64 characters, no blanks or control characters.
    CustomerId
);
text_type!(
    /// Who made a change: 1–64 printable characters (no control characters,
    /// no bidirectional overrides, not blank at either end), recorded on
    /// every row a command writes.
    Actor
);
text_type!(
    /// A coupon code: 3–32 ASCII letters, digits, `-` or `_`. Codes are unique
    /// regardless of case; [`CouponCode::key`] is the form uniqueness is checked on.
    CouponCode
);

impl ProductName {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, DomainError> {
        free_text_as(Rules::Input, field, raw, MAX_NAME_CHARS, false, false).map(Self)
    }

    /// A name read back from the database (see [`Rules::Stored`]).
    pub fn from_stored(field: &'static str, raw: &str) -> Result<Self, DomainError> {
        free_text_as(Rules::Stored, field, raw, MAX_NAME_CHARS, false, false).map(Self)
    }

    /// The case-folded form that `--name` filters match against.
    pub fn folded(&self) -> String {
        fold_case(&self.0)
    }
}

/// Case folding shared by stored names and search terms, so both sides of a
/// case-insensitive match are folded the same way.
pub fn fold_case(text: &str) -> String {
    text.to_lowercase()
}

impl Description {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, DomainError> {
        free_text_as(Rules::Input, field, raw, MAX_DESCRIPTION_CHARS, true, true).map(Self)
    }

    /// A description read back from the database (see [`Rules::Stored`]).
    pub fn from_stored(field: &'static str, raw: &str) -> Result<Self, DomainError> {
        free_text_as(Rules::Stored, field, raw, MAX_DESCRIPTION_CHARS, true, true).map(Self)
    }

    pub fn empty() -> Self {
        Self(String::new())
    }
}

impl Reason {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, DomainError> {
        free_text_as(Rules::Input, field, raw, MAX_REASON_CHARS, false, false).map(Self)
    }

    /// A reason read back from the database (see [`Rules::Stored`]).
    pub fn from_stored(field: &'static str, raw: &str) -> Result<Self, DomainError> {
        free_text_as(Rules::Stored, field, raw, MAX_REASON_CHARS, false, false).map(Self)
    }
}

/// `raw` as it is, if it has 1 to `max` characters and `fits`; otherwise
/// the refusal saying `allowed`.
fn short_name(
    field: &'static str,
    raw: &str,
    max: usize,
    fits: impl Fn(&str) -> bool,
    allowed: impl FnOnce() -> String,
) -> Result<String, DomainError> {
    let n = raw.chars().count();
    if n == 0 || n > max || !fits(raw) {
        return Err(DomainError::invalid(field, raw, allowed()));
    }
    Ok(raw.to_owned())
}

impl CustomerId {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, DomainError> {
        let fits = |raw: &str| !raw.chars().any(|c| c.is_control() || c.is_whitespace());
        short_name(field, raw, MAX_CUSTOMER_ID_CHARS, fits, || {
            format!("a customer id of 1 to {MAX_CUSTOMER_ID_CHARS} characters without blanks or control characters")
        })
        .map(Self)
    }
}

impl Actor {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, DomainError> {
        let fits = |raw: &str| {
            raw.trim() == raw && !raw.chars().any(|c| c.is_control() || is_bidi_control(c))
        };
        short_name(field, raw, MAX_ACTOR_CHARS, fits, || {
            format!("a name of 1 to {MAX_ACTOR_CHARS} printable characters, without blanks at either end")
        })
        .map(Self)
    }
}

impl CouponCode {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, DomainError> {
        let n = raw.len();
        if !(MIN_COUPON_CODE_CHARS..=MAX_COUPON_CODE_CHARS).contains(&n)
            || !raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(DomainError::invalid(
                field,
                raw,
                format!("{MIN_COUPON_CODE_CHARS} to {MAX_COUPON_CODE_CHARS} ASCII letters, digits, '-' or '_'"),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// Upper-cased code: `save10` and `SAVE10` are the same coupon.
    pub fn key(&self) -> String {
        self.0.to_ascii_uppercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_must_not_be_blank() {
        assert_eq!(
            ProductName::parse("--name", "  Mug ").unwrap().as_str(),
            "Mug"
        );
        assert!(ProductName::parse("--name", "   ").is_err());
        assert!(ProductName::parse("--name", "a\u{7}b").is_err());
        assert!(ProductName::parse("--name", "a\nb").is_err());
        assert!(ProductName::parse("--name", &"x".repeat(201)).is_err());
        assert!(ProductName::parse("--name", &"é".repeat(200)).is_ok());
    }

    #[test]
    fn descriptions_may_be_empty_and_multi_line() {
        assert_eq!(
            Description::parse("--description", "").unwrap().as_str(),
            ""
        );
        assert!(Description::parse("--description", "line 1\nline 2").is_ok());
        assert!(Description::parse("--description", "a\u{1b}[31m").is_err());
        assert!(Description::parse("--description", "a\tb").is_ok());
        assert!(Description::parse("--description", "a\r\nb").is_err());
        assert!(Description::parse("--description", "abc\u{202E}def").is_err());
        assert!(ProductName::parse("--name", "abc\u{2067}def").is_err());
        // What an earlier milly stored stays readable.
        assert!(Description::from_stored("stored", "a\r\nb\u{202E}").is_ok());
        assert!(Description::from_stored("stored", "a\u{1b}").is_err());
    }

    #[test]
    fn coupon_codes_are_compared_without_case() {
        let code = CouponCode::parse("--code", "save-10").unwrap();
        assert_eq!(code.key(), "SAVE-10");
        for bad in ["ab", "with space", "ünï", "a;DROP", &"A".repeat(33)] {
            assert!(CouponCode::parse("--code", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn actors_are_printable_names() {
        assert!(Actor::parse("--actor", "alice").is_ok());
        assert!(Actor::parse("--actor", "Alice Smith (ops)").is_ok());
        assert!(Actor::parse("--actor", &"a".repeat(64)).is_ok());
        for bad in [
            "",
            " alice",
            "alice ",
            "a\nb",
            "a\u{202E}b",
            &"a".repeat(65),
        ] {
            assert!(Actor::parse("--actor", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn customer_ids_refuse_blanks() {
        assert!(CustomerId::parse("--user", "cust-42@shop").is_ok());
        assert!(CustomerId::parse("--user", "").is_err());
        assert!(CustomerId::parse("--user", " 42").is_err());
        assert!(CustomerId::parse("--user", &"u".repeat(65)).is_err());
    }
}
