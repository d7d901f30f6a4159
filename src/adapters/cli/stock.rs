//! `milly stock adjust|revert|history|verify`.

use clap::{Args, Subcommand};

use super::output::{Format, Output};
use super::parse::{domain, moment};
use super::record::Record;
use super::stream::StdoutRows;
use super::views::{self, STOCK_HISTORY};
use crate::app::usecases::{AdjustStock, RevertStock, StockLog};
use crate::app::{AppError, Catalog};
use crate::domain::{EventId, Moment, ProductId, Reason, StockChange};

#[derive(Debug, Clone, Subcommand)]
#[command(defer = true)]
pub enum StockCommand {
    /// Add to or take from a product's stock (retried on concurrent writes)
    Adjust(AdjustArgs),
    /// Undo one ledger row: append the opposite change, linked to it
    /// (`reverts`). Exit 4 if it would take stock below zero
    /// (insufficient_stock) or the row is already reverted
    /// (already_reverted)
    Revert(RevertArgs),
    /// Print a product's stock ledger, or every product's movements, oldest
    /// first (streamed)
    History(HistoryArgs),
    /// Check every ledger (or one): versions 1..n without gaps, each total
    /// the previous total plus the change, never below zero, ending at the
    /// version its product records as the latest. Exit 0 with a summary, or
    /// exit 4 (ledger_inconsistent) with one row per problem
    Verify(super::stock_verify::VerifyArgs),
}

#[derive(Debug, Clone, Args)]
pub struct AdjustArgs {
    /// The product's id (PROD…)
    #[arg(value_parser = domain(ProductId::parse))]
    pub(super) product_id: ProductId,
    /// Change, e.g. +50 or -20 (both `--change -20` and `--change=-20` work)
    #[arg(long, allow_hyphen_values = true, value_parser = domain(StockChange::parse))]
    pub(super) change: StockChange,
    /// Why, recorded on the ledger row (at most 200 characters)
    #[arg(long, value_parser = domain(Reason::parse))]
    pub(super) reason: Option<Reason>,
    /// Apply only if the product's latest ledger version is still V;
    /// otherwise exit 4 (version_mismatch) naming the current version,
    /// without retrying
    #[arg(long, value_name = "V", value_parser = clap::value_parser!(i64).range(1..))]
    pub(super) expect_version: Option<i64>,
}

#[derive(Debug, Clone, Args)]
pub struct RevertArgs {
    /// The ledger row to undo (EVT…, the `id` in `stock history`)
    #[arg(value_parser = domain(EventId::parse))]
    pub(super) event_id: EventId,
    /// Why, recorded on the new ledger row (at most 200 characters)
    #[arg(long, value_parser = domain(Reason::parse))]
    pub(super) reason: Option<Reason>,
}

#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// The product's id (PROD…) [default: every product's movements, in the
    /// order they were written]
    #[arg(value_parser = domain(ProductId::parse))]
    product_id: Option<ProductId>,
    /// Only movements at or after this time (RFC 3339, a date, today, -7d, +30d …)
    #[arg(long, value_name = "TIME", allow_hyphen_values = true, value_parser = moment())]
    since: Option<Moment>,
    /// Only movements before this time (RFC 3339, a date, today, -7d …);
    /// with --since, the half-open span [since, until)
    #[arg(long, value_name = "TIME", allow_hyphen_values = true, value_parser = moment())]
    until: Option<Moment>,
    /// At most this many movements (the oldest first)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    limit: Option<u64>,
    /// Only the newest N movements, still printed oldest first
    #[arg(long, value_name = "N", conflicts_with = "limit",
          value_parser = clap::value_parser!(u32).range(1..))]
    tail: Option<u32>,
}

impl StockCommand {
    /// How to see whether a write whose outcome is unknown was applied.
    pub fn how_to_check(&self) -> String {
        match self {
            StockCommand::Adjust(args) => format!(
                "look for it at the end of `milly stock history {}`",
                args.product_id
            ),
            StockCommand::Revert(args) => format!(
                "look for a row whose `reverts` is {} in `milly stock history -o json`",
                args.event_id
            ),
            StockCommand::History(_) | StockCommand::Verify(_) => "run the command again".into(),
        }
    }
}

/// The result of a stock command, and what the CLI may report about it on
/// stderr with `--verbose`.
pub struct StockOutput {
    pub output: Output,
    pub attempts: Option<u32>,
}

pub fn run(
    command: StockCommand,
    catalog: &Catalog<'_>,
    format: Format,
) -> Result<StockOutput, AppError> {
    match command {
        StockCommand::Adjust(args) => {
            let adjusted = catalog.adjust_stock(AdjustStock {
                product_id: args.product_id,
                change: args.change,
                reason: args.reason,
                expected_version: args.expect_version,
            })?;
            Ok(StockOutput {
                output: Output::One(Record::of(&views::StockAdjusted::of(&adjusted))),
                attempts: Some(adjusted.attempts),
            })
        }
        StockCommand::Revert(args) => {
            let reverted = catalog.revert_stock(RevertStock {
                event_id: args.event_id,
                reason: args.reason,
            })?;
            Ok(StockOutput {
                output: Output::One(Record::of(&views::StockReverted::of(&reverted))),
                attempts: Some(reverted.attempts),
            })
        }
        StockCommand::History(args) => Ok(StockOutput {
            output: history(args, catalog, format)?,
            attempts: None,
        }),
        StockCommand::Verify(args) => Ok(StockOutput {
            output: super::stock_verify::run(args, catalog, format)?,
            attempts: None,
        }),
    }
}

/// Streams the log to stdout: memory stays flat however long it is.
fn history(args: HistoryArgs, catalog: &Catalog<'_>, format: Format) -> Result<Output, AppError> {
    let log = StockLog {
        product: args.product_id,
        since: args.since,
        until: args.until,
        limit: args.limit,
        tail: args.tail,
    };
    let mut out = StdoutRows::new(format, STOCK_HISTORY);
    let streamed = catalog.stream_stock_log(log, &mut |event| {
        out.row(Record::of(&views::StockEvent::logged(&event)))
    });
    match streamed {
        Ok(_) => out.finish().map(|()| Output::Streamed),
        // A reader that went away ends the listing quietly.
        Err(_) if out.is_closed() => Ok(Output::Streamed),
        Err(e) => Err(out.failure_or(e)),
    }
}
