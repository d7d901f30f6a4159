//! `milly discount set|list|clear`.

use clap::{Args, Subcommand};

use super::output::Output;
use super::parse::{domain, moment};
use super::record::Record;
use super::views::{self, DISCOUNT_LIST, DISCOUNT_SCAN};
use crate::app::usecases::{ListDiscounts, SetDiscount};
use crate::app::{AppError, Catalog};
use crate::domain::{Moment, Percentage, ProductId};

#[derive(Debug, Clone, Subcommand)]
#[command(defer = true)]
pub enum DiscountCommand {
    /// Give a product a discount over a window, replacing those it overlaps from its start
    Set(SetArgs),
    /// List discounts, oldest first, whatever their status
    List(ListArgs),
    /// Switch off a product's running and scheduled discounts (none is not an error)
    Clear(ClearArgs),
}

#[derive(Debug, Clone, Args)]
pub struct SetArgs {
    /// The product's id (PROD…)
    #[arg(value_parser = domain(ProductId::parse))]
    pub(super) product_id: ProductId,
    /// Percentage off, more than 0 and at most 100, e.g. 20 or 12.5
    #[arg(long, allow_hyphen_values = true, value_parser = domain(Percentage::parse))]
    pub(super) percent: Percentage,
    /// Start of the discount (RFC 3339, a date, today, -7d, +30d …) [default: now]
    #[arg(long, allow_hyphen_values = true, value_parser = moment())]
    pub(super) from: Option<Moment>,
    /// End of the discount, exclusive (RFC 3339, a date, today, -7d, +30d …) [default: 30 days after --from]
    #[arg(long, allow_hyphen_values = true, value_parser = moment())]
    pub(super) until: Option<Moment>,
}

#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Only this product's discounts (PROD…)
    #[arg(value_parser = domain(ProductId::parse))]
    product_id: Option<ProductId>,
    /// Only discounts running now (status running)
    #[arg(long)]
    active: bool,
    /// Discounts per page
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    page_size: u32,
    /// Page number, from 1
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    page: u64,
}

#[derive(Debug, Clone, Args)]
pub struct ClearArgs {
    /// The product's id (PROD…)
    #[arg(value_parser = domain(ProductId::parse))]
    pub(super) product_id: ProductId,
}

impl DiscountCommand {
    /// How to see whether a write whose outcome is unknown was applied.
    pub fn how_to_check(&self) -> String {
        match self {
            DiscountCommand::Set(args) => format!(
                "see which discount is active with `milly product show {}`",
                args.product_id
            ),
            DiscountCommand::Clear(args) => format!(
                "see whether a discount is still active with `milly discount list {} --active`",
                args.product_id
            ),
            DiscountCommand::List(_) => "run it again (it only reads)".into(),
        }
    }
}

pub fn run(command: DiscountCommand, catalog: &Catalog<'_>) -> Result<Output, AppError> {
    match command {
        DiscountCommand::Set(args) => {
            let set = catalog.set_discount(SetDiscount {
                product_id: args.product_id,
                percentage: args.percent,
                from: args.from,
                until: args.until,
            })?;
            Ok(Output::One(Record::of(&views::Discount::set(&set))))
        }
        DiscountCommand::List(args) => {
            let listed = catalog.list_discounts(ListDiscounts {
                product_id: args.product_id,
                active: args.active,
                page: args.page,
                page_size: args.page_size,
            })?;
            Ok(Output::Listing {
                columns: DISCOUNT_LIST.to_vec(),
                scan: DISCOUNT_SCAN.to_vec(),
                rows: views::records(&listed.items, |d| views::Discount::listed(d, listed.at)),
            })
        }
        DiscountCommand::Clear(args) => {
            let cleared = catalog.clear_discount(&args.product_id)?;
            let view = views::DiscountCleared::of(&args.product_id, &cleared);
            Ok(Output::One(Record::of(&view)))
        }
    }
}
