use super::{random_bits, Catalog};
use crate::app::error::AppError;
use crate::app::ports::{in_unit, UnitEnd};
use crate::app::retry::{self, AttemptError};
use crate::domain::{EventId, ProductId, Reason, StockChange, StockEvent};

pub struct AdjustStock {
    pub product_id: ProductId,
    pub change: StockChange,
    pub reason: Option<Reason>,
    /// Compare-and-set: apply only if the product's latest version is this
    /// one (`--expect-version`).
    pub expected_version: Option<i64>,
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
    ///
    /// Each attempt is one unit of work, read and append together. The
    /// version check does not depend on it, but a store that takes its write
    /// lock when a unit begins (SQLite) then serves concurrent adjusters one
    /// after another instead of letting them all read the same version and
    /// all but one fail at the append: the first attempt succeeds, and a
    /// busy product costs a short wait in line rather than rounds of backoff.
    ///
    /// With an expected version, a ledger found at any other version is
    /// refused at once (`version_mismatch`): the caller decided on a stock
    /// it no longer holds, so applying the change anyway would be wrong, and
    /// so would retrying it. A lost race for the next version is re-read like
    /// any conflict, and then refused for the version it finds.
    pub fn adjust_stock(&self, input: AdjustStock) -> Result<StockAdjusted, AppError> {
        let outcome = retry::on_conflict(&self.retry, || {
            in_unit(self.stores.units, || {
                self.adjust_once(&input)
                    .map(|event| (event, UnitEnd::Commit))
            })
        })?;
        Ok(StockAdjusted {
            event: outcome.value,
            attempts: outcome.attempts,
        })
    }

    fn adjust_once(&self, input: &AdjustStock) -> Result<StockEvent, AttemptError> {
        let latest = self
            .stores
            .ledger
            .latest_stock_event(&input.product_id)?
            .ok_or_else(|| AppError::NotFound {
                what: "product",
                id: input.product_id.to_string(),
            })?;
        if let Some(expected) = input.expected_version {
            if latest.version != expected {
                return Err(version_mismatch(&latest, expected).into());
            }
        }
        let now = self.clock.now();
        let next = latest
            .next(
                EventId::generate(now, random_bits()),
                input.change,
                input.reason.clone(),
                now,
            )
            .map_err(AppError::from)?
            .by(self.actor());
        self.stores.ledger.append_stock_event(&next)?;
        Ok(next)
    }
}

fn version_mismatch(latest: &StockEvent, expected: i64) -> AppError {
    AppError::Rejected {
        code: "version_mismatch",
        message: format!(
            "product {} is at version {} (stock {}), not at the expected version {expected}; nothing was written",
            latest.product_id, latest.version, latest.total_after_change
        ),
    }
}
