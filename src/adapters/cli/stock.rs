//! `milly stock adjust|history`.

use clap::{Args, Subcommand};

use super::output::{Cell, Output, Record};
use super::parse::optional;
use crate::app::usecases::{AdjustStock, StockAdjusted};
use crate::app::{AppError, Catalog};
use crate::domain::{ProductId, Reason, StockChange, StockEvent};

#[derive(Debug, Subcommand)]
pub enum StockCommand {
    /// Add to or take from a product's stock (retried on concurrent writes)
    Adjust(AdjustArgs),
    /// Print a product's stock ledger, oldest first
    History(HistoryArgs),
}

#[derive(Debug, Args)]
pub struct AdjustArgs {
    /// The product's id (PROD…)
    product_id: String,
    /// Change, e.g. +50 or -20 (both `--change -20` and `--change=-20` work)
    #[arg(long, allow_hyphen_values = true)]
    change: String,
    /// Why, recorded on the ledger row (at most 200 characters)
    #[arg(long)]
    reason: Option<String>,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The product's id (PROD…)
    product_id: String,
}

pub const HISTORY_COLUMNS: &[&str] = &[
    "id",
    "product_id",
    "version",
    "change",
    "total_after_change",
    "reason",
    "created_at",
];

/// The result of a stock command, and what the CLI may report about it on
/// stderr with `--verbose`.
pub struct StockOutput {
    pub output: Output,
    pub attempts: Option<u32>,
}

pub fn run(command: StockCommand, catalog: &Catalog<'_>) -> Result<StockOutput, AppError> {
    match command {
        StockCommand::Adjust(args) => {
            let adjusted = catalog.adjust_stock(AdjustStock {
                product_id: ProductId::parse("PRODUCT_ID", &args.product_id)?,
                change: StockChange::parse("--change", &args.change)?,
                reason: optional(args.reason.as_deref(), |r| Reason::parse("--reason", r))?,
            })?;
            Ok(StockOutput {
                output: Output::One(adjusted_record(&adjusted)),
                attempts: Some(adjusted.attempts),
            })
        }
        StockCommand::History(args) => {
            let events =
                catalog.stock_history(&ProductId::parse("PRODUCT_ID", &args.product_id)?)?;
            Ok(StockOutput {
                output: Output::Many {
                    columns: HISTORY_COLUMNS.to_vec(),
                    rows: events.iter().map(event_record).collect(),
                },
                attempts: None,
            })
        }
    }
}

fn adjusted_record(a: &StockAdjusted) -> Record {
    let e = &a.event;
    Record::new()
        .field("product_id", Cell::text(e.product_id.as_str()))
        .field("event_id", Cell::text(e.id.as_str()))
        .field("change", Cell::Int(e.change))
        .field("new_stock_count", Cell::Int(e.total_after_change))
        .field("version", Cell::Int(e.version))
        .field(
            "reason",
            Cell::opt(e.reason.as_ref(), |r| Cell::text(r.as_str())),
        )
        .field("created_at", Cell::Time(e.created_at))
}

fn event_record(e: &StockEvent) -> Record {
    Record::new()
        .field("id", Cell::text(e.id.as_str()))
        .field("product_id", Cell::text(e.product_id.as_str()))
        .field("version", Cell::Int(e.version))
        .field("change", Cell::Int(e.change))
        .field("total_after_change", Cell::Int(e.total_after_change))
        .field(
            "reason",
            Cell::opt(e.reason.as_ref(), |r| Cell::text(r.as_str())),
        )
        .field("created_at", Cell::Time(e.created_at))
}
