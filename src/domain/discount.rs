//! Product discounts.

use super::id::{DiscountId, ProductId};
use super::percentage::Percentage;
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
}

impl Discount {
    /// The seed applied any active discount whatever its dates; milly also
    /// checks the window.
    pub fn applies_at(&self, at: Instant) -> bool {
        self.is_active && self.window.contains(at)
    }
}
