//! Customer coupons.

use super::discount::{was_on_at, Deactivation};
use super::id::CouponId;
use super::percentage::Percentage;
use super::text::{Actor, CouponCode, CustomerId};
use super::time::{Instant, Window};

/// A percentage off for one customer, applied after the product discount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coupon {
    pub id: CouponId,
    pub user_id: CustomerId,
    pub code: CouponCode,
    pub percentage: Percentage,
    pub window: Window,
    pub is_active: bool,
    pub created_at: Instant,
    /// Who created it; `None` for rows written before actors were recorded.
    pub actor: Option<Actor>,
    /// When and by whom it was deactivated, when milly recorded it.
    pub deactivated: Option<Deactivation>,
}

impl Coupon {
    /// Recorded by `at`, on then and inside its window.
    pub fn applies_at(&self, at: Instant) -> bool {
        self.created_at <= at
            && was_on_at(self.is_active, self.deactivated.as_ref(), at)
            && self.window.contains(at)
    }
}
