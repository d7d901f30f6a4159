use super::{random_bits, Catalog};
use crate::app::error::AppError;
use crate::app::retry::{self, AttemptError};
use crate::domain::discount::DEFAULT_DISCOUNT_DAYS;
use crate::domain::schedule::check_not_over;
use crate::domain::{Discount, DiscountId, DomainError, Moment, Percentage, ProductId, Window};

use super::DiscountSet;

pub struct SetDiscount {
    pub product_id: ProductId,
    pub percentage: Percentage,
    /// Start of the window; now if `None`.
    pub from: Option<Moment>,
    /// End of the window (exclusive); 30 days after the start if `None`.
    pub until: Option<Moment>,
}

impl Catalog<'_> {
    /// Sets a discount on the product over its window, replacing from its
    /// start the discounts whose windows overlap it (see
    /// [`crate::domain::schedule`]), and says which ones it replaced. A
    /// window already over is refused before anything is read.
    pub fn set_discount(&self, input: SetDiscount) -> Result<DiscountSet, AppError> {
        // Two operators setting a discount on one product at once may
        // collide (see the store); the loser retries and plans against the
        // winner's discount, at its own now: a retry after a wait cuts at
        // the moment it runs, never at one already past.
        let outcome = retry::on_conflict(&self.retry, || {
            let discount = self.discount_to_set(&input)?;
            let replaced = self.stores.discounts.replace_discount(&discount)?;
            Ok::<_, AttemptError>(DiscountSet { discount, replaced })
        })?;
        Ok(outcome.value)
    }

    /// The discount `input` asks for, as of now.
    fn discount_to_set(&self, input: &SetDiscount) -> Result<Discount, AppError> {
        let now = self.clock.now();
        let from = match &input.from {
            Some(from) => from.resolve(now)?,
            None => now,
        };
        let window = match &input.until {
            Some(until) => Window::typed(from, until.resolve(now)?, "--until", until.typed())?,
            None => Window::new(from, from.plus_days(DEFAULT_DISCOUNT_DAYS), "--until")?,
        };
        // The refusal quotes the flag that set the end: --until, or --from
        // when the end is the default 30 days after it.
        match (&input.until, &input.from) {
            (Some(until), _) => check_not_over(window, now, "--until", until.typed())?,
            (None, Some(from)) if window.until() <= now => {
                return Err(DomainError::invalid(
                    "--from",
                    from.typed(),
                    format!(
                        "a start less than {DEFAULT_DISCOUNT_DAYS} days before now ({now}), or \
                         --until: the window would end {DEFAULT_DISCOUNT_DAYS} days after it, \
                         already over"
                    ),
                )
                .into())
            }
            _ => {}
        }
        Ok(Discount::set(
            DiscountId::generate(now, random_bits()),
            input.product_id.clone(),
            input.percentage,
            window,
            now,
            self.actor(),
        ))
    }
}
