//! Typed, time-ordered identifiers: a kind prefix and a ULID.
//!
//! The ULID's first 48 bits are the creation time in milliseconds, so ids
//! sort roughly by creation; its 80 random bits make a collision between
//! concurrent processes practically impossible without any coordination.

use super::error::DomainError;
use super::time::Instant;

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const ULID_CHARS: usize = 26;

fn encode_ulid(millis: u64, random: u128) -> String {
    let value: u128 =
        (u128::from(millis & 0xFFFF_FFFF_FFFF) << 80) | (random & ((1u128 << 80) - 1));
    (0..ULID_CHARS)
        .rev()
        .map(|i| CROCKFORD[((value >> (i * 5)) & 0x1F) as usize] as char)
        .collect()
}

fn is_ulid(text: &str) -> bool {
    text.len() == ULID_CHARS && text.bytes().all(is_crockford)
}

/// One of the 32 letters and digits of Crockford's base 32 (no I, L, O, U),
/// answered from a table: ids are checked every time one is read back.
fn is_crockford(b: u8) -> bool {
    const TABLE: [bool; 256] = {
        let mut table = [false; 256];
        let mut i = 0;
        while i < CROCKFORD.len() {
            table[CROCKFORD[i] as usize] = true;
            i += 1;
        }
        table
    };
    TABLE[b as usize]
}

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A fresh id for something created at `at`; `random` comes from
            /// the caller so the domain stays free of I/O.
            pub fn generate(at: Instant, random: u128) -> Self {
                let millis = at.as_datetime().timestamp_millis().max(0) as u64;
                Self(format!("{}{}", $prefix, encode_ulid(millis, random)))
            }

            /// Accepts an id as printed by milly: the prefix (in any case) and
            /// 26 Crockford base-32 characters.
            pub fn parse(field: &'static str, raw: &str) -> Result<Self, DomainError> {
                let upper = raw.to_ascii_uppercase();
                match upper.strip_prefix($prefix) {
                    Some(rest) if is_ulid(rest) => Ok(Self(upper)),
                    _ => Err(DomainError::invalid(
                        field,
                        raw,
                        concat!("an id like ", $prefix, "01JD5Q3Z8X4N2M7K9P6R3T1V0W"),
                    )),
                }
            }

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

typed_id!(
    /// Identifies a product.
    ProductId,
    "PROD"
);
typed_id!(
    /// Identifies one row of the stock ledger.
    EventId,
    "EVT"
);
typed_id!(
    /// Identifies a product discount.
    DiscountId,
    "DISC"
);
typed_id!(
    /// Identifies a customer coupon.
    CouponId,
    "CPN"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_prefixed_and_sort_by_time() {
        let early = Instant::parse("--at", "2025-01-01T00:00:00Z").unwrap();
        let late = Instant::parse("--at", "2025-01-01T00:00:01Z").unwrap();
        let a = ProductId::generate(early, u128::MAX);
        let b = ProductId::generate(late, 0);
        assert!(a.as_str().starts_with("PROD"));
        assert_eq!(a.as_str().len(), 4 + 26);
        assert!(a < b);
    }

    #[test]
    fn parses_what_it_prints_and_nothing_else() {
        let at = Instant::parse("--at", "2025-01-01").unwrap();
        let id = ProductId::generate(at, 12345);
        assert_eq!(ProductId::parse("id", id.as_str()).unwrap(), id);
        assert_eq!(
            ProductId::parse("id", &id.as_str().to_lowercase()).unwrap(),
            id
        );
        for bad in [
            "",
            "PROD",
            "EVT01JD5Q3Z8X4N2M7K9P6R3T1V0W",
            "PROD01JD5Q3Z8X4N2M7K9P6R3T1V0",
            "PROD01JD5Q3Z8X4N2M7K9P6R3T1V0U",
        ] {
            assert!(ProductId::parse("id", bad).is_err(), "{bad:?}");
        }
    }
}
