//! `milly discount set|list|clear`.

use clap::{Args, Subcommand};

use super::output::{Cell, Output, Record};
use super::parse::domain;
use crate::app::usecases::{ListDiscounts, SetDiscount};
use crate::app::{AppError, Catalog};
use crate::domain::{Discount, Instant, Percentage, ProductId};

#[derive(Debug, Clone, Subcommand)]
#[command(defer = true)]
pub enum DiscountCommand {
    /// Give a product a discount, replacing its active one
    Set(SetArgs),
    /// List discounts, oldest first, active and replaced alike
    List(ListArgs),
    /// Switch off a product's active discount (nothing active is not an error)
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
    /// Start of the discount (RFC 3339 or a date) [default: now]
    #[arg(long, value_parser = domain(Instant::parse))]
    pub(super) from: Option<Instant>,
    /// End of the discount, exclusive (RFC 3339 or a date) [default: 30 days after --from]
    #[arg(long, value_parser = domain(Instant::parse))]
    pub(super) until: Option<Instant>,
}

#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Only this product's discounts (PROD…)
    #[arg(value_parser = domain(ProductId::parse))]
    product_id: Option<ProductId>,
    /// Only discounts switched on and inside their window now
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

pub const LIST_COLUMNS: &[&str] = &[
    "discount_id",
    "product_id",
    "percentage",
    "valid_from",
    "valid_to",
    "is_active",
    "created_at",
    "actor",
    "deactivated_at",
    "deactivated_by",
];

pub const LIST_SCAN: &[&str] = &[
    "discount_id",
    "product_id",
    "percentage",
    "valid_from",
    "valid_to",
    "is_active",
    "deactivated_at",
];

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
            Ok(Output::One(discount_record(&set.discount).field(
                "replaced_discount_id",
                Cell::opt(set.replaced.as_ref(), |id| Cell::text(id.as_str())),
            )))
        }
        DiscountCommand::List(args) => {
            let discounts = catalog.list_discounts(ListDiscounts {
                product_id: args.product_id,
                active: args.active,
                page: args.page,
                page_size: args.page_size,
            })?;
            Ok(Output::Listing {
                columns: LIST_COLUMNS.to_vec(),
                scan: LIST_SCAN.to_vec(),
                rows: discounts.iter().map(listed_record).collect(),
            })
        }
        DiscountCommand::Clear(args) => {
            let id = args.product_id;
            let cleared = catalog.clear_discount(&id)?;
            Ok(Output::One(
                Record::new()
                    .field("product_id", Cell::text(id.as_str()))
                    .field(
                        "deactivated_discount_id",
                        Cell::opt(cleared.as_ref(), |d| Cell::text(d.as_str())),
                    ),
            ))
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

fn listed_record(d: &Discount) -> Record {
    discount_record(d)
        .field(
            "actor",
            Cell::opt(d.actor.as_ref(), |a| Cell::text(a.as_str())),
        )
        .field(
            "deactivated_at",
            Cell::opt(d.deactivated.as_ref(), |x| Cell::Time(x.at)),
        )
        .field(
            "deactivated_by",
            Cell::opt(d.deactivated.as_ref().and_then(|x| x.by.as_ref()), |a| {
                Cell::text(a.as_str())
            }),
        )
}
