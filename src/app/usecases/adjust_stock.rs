use super::{random_bits, Catalog};
use crate::app::error::AppError;
use crate::app::retry::{self, AttemptError};
use crate::domain::{EventId, ProductId, Reason, StockChange, StockEvent};

pub struct AdjustStock {
    pub product_id: ProductId,
    pub change: StockChange,
    pub reason: Option<Reason>,
}

pub struct StockAdjusted {
    pub event: StockEvent,
    /// How many attempts the optimistic write took (1 = no conflict).
    pub attempts: u32,
}

impl Catalog<'_> {
    /// Optimistic locking: read the latest event, check the rule against it,
    /// append `version + 1`. If another writer took that version first the
    /// store reports a conflict and the whole read-check-write is retried with
    /// backoff, so the rule is always checked against the stock it changes.
    pub fn adjust_stock(&self, input: AdjustStock) -> Result<StockAdjusted, AppError> {
        let outcome = retry::on_conflict(&self.retry, || {
            let latest = self
                .store
                .latest_stock_event(&input.product_id)?
                .ok_or_else(|| AppError::NotFound {
                    what: "product",
                    id: input.product_id.to_string(),
                })?;
            let now = self.clock.now();
            let next = latest
                .next(
                    EventId::generate(now, random_bits()),
                    input.change,
                    input.reason.clone(),
                    now,
                )
                .map_err(AppError::from)?;
            self.store.append_stock_event(&next)?;
            Ok::<_, AttemptError>(next)
        })?;
        Ok(StockAdjusted {
            event: outcome.value,
            attempts: outcome.attempts,
        })
    }
}
