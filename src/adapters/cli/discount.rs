//! `milly discount set`.

use clap::{Args, Subcommand};

use super::output::{Cell, Output, Record};
use super::parse::optional;
use crate::app::usecases::SetDiscount;
use crate::app::{AppError, Catalog};
use crate::domain::{Discount, Instant, Percentage, ProductId};

#[derive(Debug, Subcommand)]
pub enum DiscountCommand {
    /// Give a product a discount, replacing its active one
    Set(SetArgs),
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// The product's id (PROD…)
    product_id: String,
    /// Percentage off, more than 0 and at most 100, e.g. 20 or 12.5
    #[arg(long, allow_hyphen_values = true)]
    percent: String,
    /// Start of the discount (RFC 3339 or a date) [default: now]
    #[arg(long)]
    from: Option<String>,
    /// End of the discount, exclusive (RFC 3339 or a date) [default: 30 days after --from]
    #[arg(long)]
    until: Option<String>,
}

pub fn run(command: DiscountCommand, catalog: &Catalog<'_>) -> Result<Output, AppError> {
    match command {
        DiscountCommand::Set(args) => {
            let discount = catalog.set_discount(SetDiscount {
                product_id: ProductId::parse("PRODUCT_ID", &args.product_id)?,
                percentage: Percentage::parse("--percent", &args.percent)?,
                from: optional(args.from.as_deref(), |r| Instant::parse("--from", r))?,
                until: optional(args.until.as_deref(), |r| Instant::parse("--until", r))?,
            })?;
            Ok(Output::One(discount_record(&discount)))
        }
    }
}

fn discount_record(d: &Discount) -> Record {
    Record::new()
        .field("discount_id", Cell::text(d.id.as_str()))
        .field("product_id", Cell::text(d.product_id.as_str()))
        .field("percentage", Cell::Percent(d.percentage))
        .field("valid_from", Cell::Time(d.window.from()))
        .field("valid_to", Cell::Time(d.window.until()))
        .field("is_active", Cell::Bool(d.is_active))
        .field("created_at", Cell::Time(d.created_at))
}
