use super::Catalog;
use crate::app::error::AppError;
use crate::app::retry::{self, AttemptError};
use crate::domain::{Coupon, CouponCode};

impl Catalog<'_> {
    /// Stops a coupon from applying from now on. Deactivating an inactive
    /// coupon succeeds, so scripts can repeat it safely.
    pub fn deactivate_coupon(&self, code: &CouponCode) -> Result<Coupon, AppError> {
        // Deactivations of one coupon on different nodes of a Galera
        // cluster at once: the one that fails certification is retried.
        let now = self.clock.now();
        retry::on_conflict(&self.retry, || {
            Ok::<_, AttemptError>(self.stores.coupons.deactivate_coupon(
                code,
                now,
                self.actor.as_ref(),
            )?)
        })?
        .value
        .ok_or_else(|| AppError::NotFound {
            what: "coupon",
            id: code.to_string(),
        })
    }
}
