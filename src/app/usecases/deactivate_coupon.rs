use super::Catalog;
use crate::app::error::AppError;
use crate::domain::{Coupon, CouponCode};

impl Catalog<'_> {
    /// Stops a coupon from applying from now on. Deactivating an inactive
    /// coupon succeeds, so scripts can repeat it safely.
    pub fn deactivate_coupon(&self, code: &CouponCode) -> Result<Coupon, AppError> {
        self.store
            .deactivate_coupon(code)?
            .ok_or_else(|| AppError::NotFound {
                what: "coupon",
                id: code.to_string(),
            })
    }
}
