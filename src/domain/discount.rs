//! Product discounts.

use super::id::{DiscountId, ProductId};
use super::percentage::Percentage;
use super::text::Actor;
use super::time::{Instant, Window};

/// How long a discount runs when no end is given.
pub const DEFAULT_DISCOUNT_DAYS: i64 = 30;

/// A percentage off one product. Setting a new one deactivates the old, so
/// at most one is active per product; it applies only inside its window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discount {
    pub id: DiscountId,
    pub product_id: ProductId,
    pub percentage: Percentage,
    pub window: Window,
    pub is_active: bool,
    pub created_at: Instant,
    /// Who set it; `None` for rows written before actors were recorded.
    pub actor: Option<Actor>,
    /// When and by whom it was replaced or cleared. An inactive discount
    /// without it was switched off by a milly that did not record when, and
    /// never applies.
    pub deactivated: Option<Deactivation>,
}

/// When a discount or coupon was switched off, and by whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deactivation {
    pub at: Instant,
    pub by: Option<Actor>,
}

/// Whether something switched on (`is_active`) or switched off at
/// `deactivated` was still on at `at`: a price shown for a past moment uses
/// what was on then, not today's flags.
pub fn was_on_at(is_active: bool, deactivated: Option<&Deactivation>, at: Instant) -> bool {
    is_active || deactivated.is_some_and(|d| d.at > at)
}

impl Discount {
    /// The seed applied any active discount whatever its dates; milly also
    /// checks the window, and at a past instant whether it was recorded by
    /// then and still on: what was recorded later never changes an answer
    /// for a past moment.
    pub fn applies_at(&self, at: Instant) -> bool {
        self.created_at <= at
            && was_on_at(self.is_active, self.deactivated.as_ref(), at)
            && self.window.contains(at)
    }
}
