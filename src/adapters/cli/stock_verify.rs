//! `milly stock verify [PRODUCT_ID]`.

use clap::Args;

use super::output::{Cell, Format, Output, Record};
use super::parse::domain;
use super::stream::StdoutRows;
use crate::app::usecases::LedgerSummary;
use crate::app::{AppError, Catalog};
use crate::domain::{LedgerProblem, ProductId};

#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// Check only this product's ledger (PROD…) [default: every product]
    #[arg(value_parser = domain(ProductId::parse))]
    product_id: Option<ProductId>,
}

pub const PROBLEM_COLUMNS: &[&str] = &["product_id", "version", "problem", "detail"];

/// A sound database prints the summary; otherwise each problem is printed
/// as a row while the ledgers are read, and the command fails with
/// `ledger_inconsistent` (exit 4).
pub fn run(args: VerifyArgs, catalog: &Catalog<'_>, format: Format) -> Result<Output, AppError> {
    let product = args.product_id;
    let mut out = StdoutRows::new(format, PROBLEM_COLUMNS);
    let verified = catalog.verify_ledgers(product.as_ref(), &mut |problem| {
        match out.row(problem_record(&problem)) {
            // The reader left, but the verdict (the exit code) still needs
            // every ledger read.
            Err(_) if out.is_closed() => Ok(()),
            other => other,
        }
    });
    if out.started() {
        out.finish()?;
    }
    Ok(Output::One(summary_record(&verified?)))
}

fn problem_record(p: &LedgerProblem) -> Record {
    Record::new()
        .field("product_id", Cell::text(p.product_id.as_str()))
        .field("version", Cell::opt(p.version, Cell::Int))
        .field("problem", Cell::text(p.fault.code()))
        .field("detail", Cell::text(p.fault.to_string()))
}

fn summary_record(s: &LedgerSummary) -> Record {
    Record::new()
        .field("products_checked", Cell::Int(s.products_checked as i64))
        .field("events_checked", Cell::Int(s.events_checked as i64))
        .field("problems", Cell::Int(s.problems as i64))
}
