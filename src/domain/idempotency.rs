//! Idempotency keys: the name a script gives one write so that running it
//! again cannot apply it twice.

use super::error::DomainError;

pub const MAX_KEY_CHARS: usize = 128;

/// 1–128 characters of `A-Z a-z 0-9 . _ : -`: enough for a UUID, a date, a
/// job name and a counter, and safe in any log or shell line unquoted.
/// Compared exactly (case matters).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, DomainError> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-');
        if raw.is_empty() || raw.len() > MAX_KEY_CHARS || !raw.chars().all(allowed) {
            return Err(DomainError::invalid(
                field,
                raw,
                format!("1 to {MAX_KEY_CHARS} characters of A-Z a-z 0-9 . _ : -"),
            ));
        }
        Ok(IdempotencyKey(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_alphabet_and_length() {
        for ok in ["a", "nightly:2025-06-01.run_3", &"k".repeat(128)] {
            assert!(
                IdempotencyKey::parse("--idempotency-key", ok).is_ok(),
                "{ok}"
            );
        }
        for bad in ["", " a", "a b", "a/b", "ключ", "a\n", &"k".repeat(129)] {
            assert!(
                IdempotencyKey::parse("--idempotency-key", bad).is_err(),
                "{bad:?}"
            );
        }
    }
}
