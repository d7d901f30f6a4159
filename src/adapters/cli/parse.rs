//! Small helpers for turning optional flags into domain values.

use crate::domain::{DomainError, Instant};

/// Parses a flag that may be absent.
pub fn optional<T>(
    raw: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, DomainError>,
) -> Result<Option<T>, DomainError> {
    raw.map(parse).transpose()
}

/// The `--at` flag shared by the pricing commands.
pub fn at_flag(raw: Option<&str>) -> Result<Option<Instant>, DomainError> {
    optional(raw, |r| Instant::parse("--at", r))
}
