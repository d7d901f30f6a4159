//! Customer coupons.

use super::id::CouponId;
use super::percentage::Percentage;
use super::schedule::{applies, CouponStatus, Deactivation};
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
    /// A coupon as it is created: on, recorded at `at` by `actor`.
    pub fn created(
        id: CouponId,
        (user_id, code): (CustomerId, CouponCode),
        percentage: Percentage,
        window: Window,
        at: Instant,
        actor: Option<Actor>,
    ) -> Self {
        Coupon {
            id,
            user_id,
            code,
            percentage,
            window,
            is_active: true,
            created_at: at,
            actor,
            deactivated: None,
        }
    }

    /// Recorded by `at`, on then and inside its window.
    pub fn applies_at(&self, at: Instant) -> bool {
        let switch = (self.is_active, self.deactivated.as_ref());
        applies(self.created_at, switch, self.window, at)
    }

    /// Its state at `at`. One deactivated by a milly that did not record
    /// when never applies, so it is deactivated at every moment.
    pub fn status_at(&self, at: Instant) -> CouponStatus {
        if !self.is_active && self.deactivated.is_none() {
            return CouponStatus::Deactivated;
        }
        CouponStatus::at(self.window, self.deactivated.as_ref(), at)
    }
}
