//! The stock ledger: an append-only list of versioned events per product.
//!
//! Each event carries the total after it, so current stock is the event with
//! the highest version — one indexed lookup — and `UNIQUE(product_id,
//! version)` in storage turns two writers racing for the same version into a
//! detectable conflict instead of a lost update.

use super::error::DomainError;
use super::id::{EventId, ProductId};
use super::text::{Actor, Reason};
use super::time::Instant;

/// The largest stock a product may hold: fifteen digits, far beyond any real
/// warehouse and far from `i64` overflow.
pub const MAX_STOCK: i64 = 999_999_999_999_999;

/// A stock quantity: a whole number from 0 to [`MAX_STOCK`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quantity(i64);

impl Quantity {
    /// Digits only: no sign, no separators, no decimals.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, DomainError> {
        parse_digits(raw)
            .filter(|v| *v <= MAX_STOCK)
            .map(Quantity)
            .ok_or_else(|| {
                DomainError::invalid(field, raw, format!("a whole number from 0 to {MAX_STOCK}"))
            })
    }

    pub fn zero() -> Self {
        Quantity(0)
    }

    pub fn value(self) -> i64 {
        self.0
    }
}

/// A change to stock: a non-zero whole number with an optional sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockChange(i64);

impl StockChange {
    /// `+50`, `50` and `-20` are changes; `0`, `-0`, `1.5`, `1e3` and
    /// `1,000` are not.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, DomainError> {
        let (negative, digits) = match raw.as_bytes().first() {
            Some(b'+') => (false, &raw[1..]),
            Some(b'-') => (true, &raw[1..]),
            _ => (false, raw),
        };
        parse_digits(digits)
            .filter(|v| (1..=MAX_STOCK).contains(v))
            .map(|v| StockChange(if negative { -v } else { v }))
            .ok_or_else(|| {
                DomainError::invalid(
                    field,
                    raw,
                    format!("a non-zero whole number such as +50 or -20, at most {MAX_STOCK} either way"),
                )
            })
    }

    pub fn value(self) -> i64 {
        self.0
    }
}

/// Parses plain ASCII digits without overflowing on absurd lengths.
fn parse_digits(raw: &str) -> Option<i64> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let significant = raw.trim_start_matches('0');
    if significant.len() > 18 {
        return None;
    }
    Some(significant.parse().unwrap_or(0))
}

/// One row of the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockEvent {
    pub id: EventId,
    pub product_id: ProductId,
    pub change: i64,
    pub total_after_change: i64,
    pub version: i64,
    pub reason: Option<Reason>,
    pub created_at: Instant,
    /// Who wrote it; `None` for rows written before actors were recorded.
    pub actor: Option<Actor>,
    /// The event this one reverts (`stock revert`); `None` for every other
    /// change. An event is reverted at most once.
    pub reverts: Option<EventId>,
}

impl StockEvent {
    /// The first event of a product, written together with the product:
    /// version 1, change = total = the initial stock (which may be 0).
    pub fn opening(id: EventId, product_id: ProductId, initial: Quantity, at: Instant) -> Self {
        StockEvent {
            id,
            product_id,
            change: initial.value(),
            total_after_change: initial.value(),
            version: 1,
            reason: None,
            created_at: at,
            actor: None,
            reverts: None,
        }
    }

    /// Stamps who writes the event.
    pub fn by(mut self, actor: Option<Actor>) -> Self {
        self.actor = actor;
        self
    }

    /// The event that follows this one after `change` (by whoever wrote this
    /// one, until [`StockEvent::by`] says otherwise), or the rule it breaks:
    /// stock never goes below zero or above [`MAX_STOCK`].
    pub fn next(
        &self,
        id: EventId,
        change: StockChange,
        reason: Option<Reason>,
        at: Instant,
    ) -> Result<StockEvent, DomainError> {
        let would_be = self.total_after_change + change.value();
        if would_be < 0 {
            return Err(DomainError::InsufficientStock {
                product_id: self.product_id.to_string(),
                current: self.total_after_change,
                change: change.value(),
                would_be,
            });
        }
        if would_be > MAX_STOCK {
            return Err(DomainError::StockOverflow {
                product_id: self.product_id.to_string(),
                current: self.total_after_change,
                change: change.value(),
                max: MAX_STOCK,
            });
        }
        Ok(StockEvent {
            id,
            product_id: self.product_id.clone(),
            change: change.value(),
            total_after_change: would_be,
            version: self.version + 1,
            reason,
            created_at: at,
            actor: self.actor.clone(),
            reverts: None,
        })
    }

    /// The event that undoes `reverted` on top of this one, the product's
    /// latest: the opposite change, linked to it, under the same rules as
    /// any change (never below zero). `None` when `reverted` changed
    /// nothing (an opening of 0), so there is nothing to undo. Whether
    /// `reverted` was already reverted is the ledger's to say, not this
    /// row's.
    pub fn revert(
        &self,
        reverted: &StockEvent,
        id: EventId,
        reason: Option<Reason>,
        at: Instant,
    ) -> Option<Result<StockEvent, DomainError>> {
        if reverted.change == 0 {
            return None;
        }
        let opposite = StockChange(-reverted.change);
        Some(self.next(id, opposite, reason, at).map(|mut event| {
            event.reverts = Some(reverted.id.clone());
            event
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opening(stock: &str) -> StockEvent {
        let at = Instant::parse("at", "2025-01-01").unwrap();
        StockEvent::opening(
            EventId::generate(at, 1),
            ProductId::generate(at, 2),
            Quantity::parse("--stock", stock).unwrap(),
            at,
        )
    }

    fn change(raw: &str) -> StockChange {
        StockChange::parse("--change", raw).unwrap()
    }

    #[test]
    fn changes_take_a_sign_and_must_not_be_zero() {
        assert_eq!(change("+50").value(), 50);
        assert_eq!(change("50").value(), 50);
        assert_eq!(change("-20").value(), -20);
        for bad in [
            "0",
            "-0",
            "+0",
            "",
            "+",
            "1.5",
            "1e3",
            "1,000",
            " 5",
            "--5",
            "9999999999999999999999",
        ] {
            assert!(StockChange::parse("--change", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn next_event_adds_and_bumps_the_version() {
        let first = opening("100");
        let at = first.created_at;
        let second = first
            .next(EventId::generate(at, 3), change("+50"), None, at)
            .unwrap();
        assert_eq!(
            (second.change, second.total_after_change, second.version),
            (50, 150, 2)
        );
    }

    #[test]
    fn stock_never_goes_negative_or_past_the_maximum() {
        let first = opening("30");
        let at = first.created_at;
        let err = first
            .next(EventId::generate(at, 3), change("-50"), None, at)
            .unwrap_err();
        assert!(matches!(
            err,
            DomainError::InsufficientStock {
                current: 30,
                would_be: -20,
                ..
            }
        ));
        let full = opening(&MAX_STOCK.to_string());
        assert!(matches!(
            full.next(EventId::generate(at, 3), change("+1"), None, at),
            Err(DomainError::StockOverflow { .. })
        ));
        assert!(first
            .next(EventId::generate(at, 3), change("-30"), None, at)
            .is_ok());
    }

    #[test]
    fn a_revert_is_the_opposite_change_linked_to_its_event() {
        let first = opening("10");
        let at = first.created_at;
        let delivery = first
            .next(EventId::generate(at, 3), change("+160"), None, at)
            .unwrap();
        let sale = delivery
            .next(EventId::generate(at, 4), change("-5"), None, at)
            .unwrap();
        let revert = sale
            .revert(&delivery, EventId::generate(at, 5), None, at)
            .unwrap()
            .unwrap();
        assert_eq!(
            (revert.change, revert.total_after_change, revert.version),
            (-160, 5, 4)
        );
        assert_eq!(revert.reverts.as_ref(), Some(&delivery.id));
        let sold_out = sale
            .next(EventId::generate(at, 6), change("-160"), None, at)
            .unwrap();
        assert!(matches!(
            sold_out.revert(&delivery, EventId::generate(at, 7), None, at),
            Some(Err(DomainError::InsufficientStock {
                current: 5,
                would_be: -155,
                ..
            }))
        ));
        let empty = opening("0");
        assert!(empty
            .revert(&empty, EventId::generate(at, 8), None, at)
            .is_none());
    }
}
