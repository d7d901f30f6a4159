//! `milly stock verify [PRODUCT_ID]`.

use clap::Args;

use super::output::{Format, Output};
use super::parse::domain;
use super::record::Record;
use super::stream::StdoutRows;
use super::views::{self, LEDGER_PROBLEMS};
use crate::app::{AppError, Catalog};
use crate::domain::ProductId;

#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// Check only this product's ledger (PROD…) [default: every product]
    #[arg(value_parser = domain(ProductId::parse))]
    product_id: Option<ProductId>,
}

/// A sound database prints the summary; otherwise each problem is printed
/// as a row while the ledgers are read, and the command fails with
/// `ledger_inconsistent` (exit 4).
pub fn run(args: VerifyArgs, catalog: &Catalog<'_>, format: Format) -> Result<Output, AppError> {
    let product = args.product_id;
    let mut out = StdoutRows::new(format, LEDGER_PROBLEMS);
    let verified = catalog.verify_ledgers(product.as_ref(), &mut |problem| {
        match out.row(Record::of(&views::LedgerProblem::of(&problem))) {
            // The reader left, but the verdict (the exit code) still needs
            // every ledger read.
            Err(_) if out.is_closed() => Ok(()),
            other => other,
        }
    });
    if out.started() {
        out.finish()?;
    }
    Ok(Output::One(Record::of(&views::LedgersVerified::of(
        &verified?,
    ))))
}
