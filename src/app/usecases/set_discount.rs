use super::{random_bits, Catalog};
use crate::app::error::AppError;
use crate::app::retry::{self, AttemptError};
use crate::domain::discount::DEFAULT_DISCOUNT_DAYS;
use crate::domain::{Discount, DiscountId, Instant, Percentage, ProductId, Window};

use super::DiscountSet;

pub struct SetDiscount {
    pub product_id: ProductId,
    pub percentage: Percentage,
    /// Start of the window; now if `None`.
    pub from: Option<Instant>,
    /// End of the window (exclusive); 30 days after the start if `None`.
    pub until: Option<Instant>,
}

impl Catalog<'_> {
    /// Sets the product's discount, replacing (deactivating) any active one,
    /// and says which one it replaced.
    pub fn set_discount(&self, input: SetDiscount) -> Result<DiscountSet, AppError> {
        let now = self.clock.now();
        let from = input.from.unwrap_or(now);
        let until = input
            .until
            .unwrap_or_else(|| from.plus_days(DEFAULT_DISCOUNT_DAYS));
        let discount = Discount {
            id: DiscountId::generate(now, random_bits()),
            product_id: input.product_id,
            percentage: input.percentage,
            window: Window::new(from, until, "--until")?,
            is_active: true,
            created_at: now,
            actor: self.actor(),
            deactivated: None,
        };
        // Two operators setting a discount on one product at once collide on
        // "one active discount"; the loser retries and replaces the winner's.
        let replaced = retry::on_conflict(&self.retry, || {
            Ok::<_, AttemptError>(self.stores.discounts.replace_discount(&discount)?)
        })?
        .value;
        Ok(DiscountSet { discount, replaced })
    }
}
