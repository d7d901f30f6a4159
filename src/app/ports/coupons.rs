//! Per-customer coupons.

use super::StoreError;
use crate::domain::{Actor, Coupon, CouponCode, CustomerId, Instant};

/// Which page of coupons to list, in creation order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CouponQuery {
    /// Only this customer's coupons.
    pub user_id: Option<CustomerId>,
    /// Only those on and inside their window at this instant.
    pub active_at: Option<Instant>,
    pub offset: u64,
    pub limit: u32,
}

/// Coupons, unique by code compared without case.
pub trait CouponStore {
    /// Stores `coupon`. MUST return `DuplicateCouponCode` when a coupon with
    /// the same code, compared without case, exists.
    fn create_coupon(&self, coupon: &Coupon) -> Result<(), StoreError>;

    /// Deactivates the coupon with this code (compared without case),
    /// recording `at` and `actor` unless it was already inactive, and returns
    /// it as it now is; `None` when there is no such coupon.
    fn deactivate_coupon(
        &self,
        code: &CouponCode,
        at: Instant,
        actor: Option<&Actor>,
    ) -> Result<Option<Coupon>, StoreError>;

    /// One page of coupons in creation order. One query per page.
    fn list_coupons(&self, query: &CouponQuery) -> Result<Vec<Coupon>, StoreError>;

    /// The coupon with this code, compared without case.
    fn coupon(&self, code: &CouponCode) -> Result<Option<Coupon>, StoreError>;
}
