//! Customer coupons.

use super::id::CouponId;
use super::percentage::Percentage;
use super::text::{CouponCode, CustomerId};
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
}

impl Coupon {
    pub fn applies_at(&self, at: Instant) -> bool {
        self.is_active && self.window.contains(at)
    }
}
