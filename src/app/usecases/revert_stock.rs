use super::{random_bits, Catalog};
use crate::app::error::AppError;
use crate::app::ports::{in_unit, UnitEnd};
use crate::app::retry::{self, AttemptError};
use crate::domain::{EventId, Reason, StockEvent};

pub struct RevertStock {
    pub event_id: EventId,
    pub reason: Option<Reason>,
}

pub struct StockReverted {
    /// The new row: the opposite change, `reverts` naming the undone one.
    pub event: StockEvent,
    /// How many attempts the optimistic write took (1 = no conflict).
    pub attempts: u32,
}

impl Catalog<'_> {
    /// A correction that keeps the history: the reverted row stays as it
    /// was and a new row undoes its change on top of the current stock,
    /// like any adjustment (optimistic, retried on a lost race). A revert
    /// racing another revert of the same row loses at the schema's
    /// one-revert-per-row index, re-reads, and is refused as a double
    /// revert.
    pub fn revert_stock(&self, input: RevertStock) -> Result<StockReverted, AppError> {
        let outcome = retry::on_conflict(&self.retry, || {
            in_unit(self.stores.units, || {
                self.revert_once(&input)
                    .map(|event| (event, UnitEnd::Commit))
            })
        })?;
        Ok(StockReverted {
            event: outcome.value,
            attempts: outcome.attempts,
        })
    }

    fn revert_once(&self, input: &RevertStock) -> Result<StockEvent, AttemptError> {
        let recorded = self
            .stores
            .ledger
            .stock_event(&input.event_id)?
            .ok_or_else(|| AppError::NotFound {
                what: "stock event",
                id: input.event_id.to_string(),
            })?;
        let reverted = recorded.event;
        if let Some(by) = recorded.reverted_by {
            return Err(already_reverted(&reverted, &by).into());
        }
        let latest = self
            .stores
            .ledger
            .latest_stock_event(&reverted.product_id)?
            .ok_or_else(|| AppError::NotFound {
                what: "product",
                id: reverted.product_id.to_string(),
            })?;
        let now = self.clock.now();
        let id = EventId::generate(now, random_bits());
        let next = latest
            .revert(&reverted, id, input.reason.clone(), now)
            .ok_or_else(|| AppError::Rejected {
                code: "nothing_to_revert",
                message: format!(
                    "stock event {} changed nothing (an opening stock of 0); there is nothing to revert",
                    reverted.id
                ),
            })?
            .map_err(|e| refused_revert(&reverted, e.into()));
        let next = match next {
            Ok(next) => next.by(self.actor()),
            // The ledger was read after the event: a revert committed in
            // between is in the stock read but not in the event read. Say
            // what really stands in the way.
            Err(refused) => {
                let again = self.stores.ledger.stock_event(&input.event_id)?;
                return Err(match again.and_then(|r| r.reverted_by) {
                    Some(by) => already_reverted(&reverted, &by),
                    None => refused,
                }
                .into());
            }
        };
        self.stores.ledger.append_stock_event(&next)?;
        Ok(next)
    }
}

/// The refusal of a second revert of one event.
fn already_reverted(reverted: &StockEvent, by: &EventId) -> AppError {
    AppError::Rejected {
        code: "already_reverted",
        message: format!(
            "stock event {} is already reverted by {by}; an event is reverted at most once, and a revert is itself reverted by `milly stock revert {by}`",
            reverted.id
        ),
    }
}

/// A revert that breaks a stock rule, saying which event it would undo.
fn refused_revert(reverted: &StockEvent, error: AppError) -> AppError {
    match error {
        AppError::Rejected { code, message } => AppError::Rejected {
            code,
            message: format!(
                "cannot revert stock event {} (change {:+}): {message}",
                reverted.id, reverted.change
            ),
        },
        other => other,
    }
}
