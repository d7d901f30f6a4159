//! `stock verify`: the ledger invariants checked on what the database holds.

use std::ops::ControlFlow;

use super::Catalog;
use crate::app::error::AppError;
use crate::app::ports::LedgerScan;
use crate::domain::{LedgerCheck, LedgerProblem, ProductId};

/// What a verification read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerSummary {
    pub products_checked: u64,
    pub events_checked: u64,
    pub problems: u64,
}

impl Catalog<'_> {
    /// Checks every ledger (or one product's) row by row, handing each
    /// problem to `on_problem` as it is found, so any database size fits in
    /// memory. Any problem makes the result `ledger_inconsistent` (exit 4).
    pub fn verify_ledgers(
        &self,
        product: Option<&ProductId>,
        on_problem: &mut dyn FnMut(LedgerProblem) -> Result<(), AppError>,
    ) -> Result<LedgerSummary, AppError> {
        let mut check = LedgerCheck::new();
        let mut stopped = None;
        // Once `on_problem` fails, nothing more is handed to it.
        let mut report = |problem| {
            if stopped.is_some() {
                return ControlFlow::Break(());
            }
            match on_problem(problem) {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => {
                    stopped = Some(e);
                    ControlFlow::Break(())
                }
            }
        };
        self.stores.ledger.scan_ledgers(product, &mut |found| {
            let problems = match found {
                LedgerScan::Entry(entry) => check.entry(entry),
                LedgerScan::NoLedger(id) => {
                    let mut problems = check.finish();
                    problems.push(check.no_ledger(id));
                    problems
                }
            };
            for problem in problems {
                report(problem)?;
            }
            ControlFlow::Continue(())
        })?;
        // The last ledger read is judged once no rows of it can follow.
        for problem in check.finish() {
            if report(problem).is_break() {
                break;
            }
        }
        if let Some(e) = stopped {
            return Err(e);
        }
        if let (Some(id), 0) = (product, check.products_checked) {
            return Err(AppError::NotFound {
                what: "product",
                id: id.to_string(),
            });
        }
        let summary = LedgerSummary {
            products_checked: check.products_checked,
            events_checked: check.events_checked,
            problems: check.problems,
        };
        if summary.problems > 0 {
            return Err(AppError::Rejected {
                code: "ledger_inconsistent",
                message: format!(
                    "the stock ledger is inconsistent: {} problem(s) found in {} product(s) and {} ledger row(s) checked",
                    summary.problems, summary.products_checked, summary.events_checked
                ),
            });
        }
        Ok(summary)
    }
}
