//! The domain's one error type: bad values and broken business rules.

use std::borrow::Cow;

use thiserror::Error;

/// What the domain refuses. `Invalid` is a value that can never be right
/// (the caller must change its input); the others are rules broken by the
/// current state, which may pass later.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    #[error("invalid {field} {value}: expected {allowed}")]
    Invalid {
        /// What the caller calls the value: a flag, an argument, a field of
        /// an import row.
        field: Cow<'static, str>,
        /// The offending input, quoted and escaped so that control
        /// characters and blanks are visible, and cut short if huge.
        value: String,
        allowed: String,
    },

    #[error("insufficient stock for {product_id}: stock is {current}, a change of {change} would leave {would_be}")]
    InsufficientStock {
        product_id: String,
        current: i64,
        change: i64,
        would_be: i64,
    },

    #[error("stock for {product_id} would exceed the maximum of {max}: stock is {current}, change {change}")]
    StockOverflow {
        product_id: String,
        current: i64,
        change: i64,
        max: i64,
    },
}

impl DomainError {
    /// Builds an `Invalid` error, quoting the value so that the message shows
    /// exactly what was received (blanks, control characters) without letting
    /// a megabyte of input flood the terminal.
    pub fn invalid(
        field: &'static str,
        value: impl AsRef<str>,
        allowed: impl Into<String>,
    ) -> Self {
        const SHOWN: usize = 40;
        let value = value.as_ref();
        let shown: String = value.chars().take(SHOWN).collect();
        let mut quoted = format!("{shown:?}");
        let total = value.chars().count();
        if total > SHOWN {
            quoted.push_str(&format!(" (… {total} characters)"));
        }
        DomainError::Invalid {
            field: Cow::Borrowed(field),
            value: quoted,
            allowed: allowed.into(),
        }
    }

    /// The same refusal under the name the caller knows the value by, for
    /// a caller whose names are only known at run time (the command line
    /// names a value after its flag); other errors are left as they are.
    pub fn named(self, name: impl Into<Cow<'static, str>>) -> Self {
        match self {
            DomainError::Invalid { value, allowed, .. } => DomainError::Invalid {
                field: name.into(),
                value,
                allowed,
            },
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_shortens_the_bad_value() {
        let e = DomainError::invalid("--name", "a\tb", "text");
        assert_eq!(e.to_string(), r#"invalid --name "a\tb": expected text"#);
        let long = "x".repeat(1000);
        let e = DomainError::invalid("--name", &long, "at most 200 characters");
        assert!(e.to_string().contains("(… 1000 characters)"));
        assert!(e.to_string().len() < 150);
    }

    #[test]
    fn a_renamed_refusal_names_the_new_name_only() {
        let e = DomainError::invalid("value", "x", "a number").named(String::from("--page"));
        assert_eq!(e.to_string(), r#"invalid --page "x": expected a number"#);
    }
}
