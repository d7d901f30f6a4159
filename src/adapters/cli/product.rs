//! `milly product create|list|show`; the life-cycle commands (update,
//! archive, unarchive, history) are in `product_lifecycle`.

use clap::{Args, Subcommand};

use super::output::{is_closed_pipe, Format, Output, RowStream};
use super::parse::{domain, moment};
use super::product_lifecycle;
use super::record::Record;
use super::views::{self, PRODUCT_LIST, PRODUCT_SCAN};
use crate::app::usecases::{CreateProduct, ListProducts, ShowProduct};
use crate::app::{AppError, Catalog};
use crate::domain::*;

#[derive(Debug, Clone, Subcommand)]
#[command(defer = true)]
pub enum ProductCommand {
    /// Create a product with its opening stock
    Create(CreateArgs),
    /// List products, oldest first, with stock and discounted price
    List(ListArgs),
    /// Show one product priced for a customer at a moment
    Show(ShowArgs),
    /// Change a product's name, description or price (recorded in its history)
    Update(product_lifecycle::UpdateArgs),
    /// Retire a product: hidden from lists, read-only (repeating it is harmless)
    Archive(product_lifecycle::ArchiveArgs),
    /// Make an archived product listed and writable again
    Unarchive(product_lifecycle::ArchiveArgs),
    /// Every change to a product, oldest first, with when and who
    History(product_lifecycle::HistoryArgs),
}

#[derive(Debug, Clone, Args)]
pub struct CreateArgs {
    /// Name, 1 to 200 characters (trimmed)
    #[arg(long, value_parser = domain(ProductName::parse))]
    pub(super) name: ProductName,
    /// Price with at most 2 decimals, e.g. 10000 or 17.49
    #[arg(long, allow_hyphen_values = true, value_parser = domain(Money::parse_price))]
    pub(super) price: Money,
    /// Free text, at most 2000 characters
    #[arg(long, default_value = "", value_parser = domain(Description::parse))]
    pub(super) description: Description,
    /// Opening stock, a whole number
    #[arg(long, default_value = "0", allow_hyphen_values = true, value_parser = domain(Quantity::parse))]
    pub(super) stock: Quantity,
}

#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Only names containing this text (case-insensitive; % and _ are literal)
    #[arg(long, value_parser = domain(ProductName::parse))]
    name: Option<ProductName>,
    /// Every matching product, streamed as it is read (instead of one page)
    #[arg(long, conflicts_with_all = ["page", "page_size"])]
    all: bool,
    /// Products per page
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    page_size: u32,
    /// Page number, from 1
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    page: u64,
    /// Price the products at this time instead of now (RFC 3339, a date, today, -7d, +30d …)
    #[arg(long, allow_hyphen_values = true, value_parser = moment())]
    at: Option<Moment>,
    /// List archived products too
    #[arg(long)]
    include_archived: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ShowArgs {
    /// The product's id (PROD…)
    #[arg(value_parser = domain(ProductId::parse))]
    product_id: ProductId,
    /// Apply this customer's best valid coupon
    #[arg(long, value_parser = domain(CustomerId::parse))]
    user: Option<CustomerId>,
    /// Price the product at this time instead of now (RFC 3339, a date, today, -7d, +30d …)
    #[arg(long, allow_hyphen_values = true, value_parser = moment())]
    at: Option<Moment>,
    /// Add the pricing steps: list price, discount, coupon, final price
    #[arg(long)]
    explain: bool,
}

impl ProductCommand {
    /// How to see whether a write whose outcome is unknown was applied.
    pub fn how_to_check(&self) -> String {
        match self {
            ProductCommand::Create(args) => {
                format!(
                    "look for it with `milly product list --name {:?}`",
                    args.name.as_str()
                )
            }
            ProductCommand::Update(args) => format!(
                "see whether the change is recorded with `milly product history {}`",
                args.product_id
            ),
            ProductCommand::Archive(args) | ProductCommand::Unarchive(args) => format!(
                "see whether it is archived with `milly product history {}` (archiving or unarchiving twice is harmless)",
                args.product_id
            ),
            _ => "run the command again".into(),
        }
    }
}

pub fn run(
    command: ProductCommand,
    catalog: &Catalog<'_>,
    format: Format,
) -> Result<Output, AppError> {
    match command {
        ProductCommand::Create(args) => {
            let created = catalog.create_product(CreateProduct {
                name: args.name,
                description: args.description,
                price: args.price,
                stock: args.stock,
            })?;
            Ok(Output::One(Record::of(&views::Product::created(&created))))
        }
        ProductCommand::List(args) => {
            let name_contains = args.name;
            if args.all {
                stream_all(
                    catalog,
                    name_contains.as_ref().map(|n| n.as_str()),
                    args.at.as_ref(),
                    args.include_archived,
                    format,
                )?;
                return Ok(Output::Streamed);
            }
            let rows = catalog.list_products(ListProducts {
                name_contains: name_contains.map(|n| n.as_str().to_owned()),
                page: args.page,
                page_size: args.page_size,
                at: args.at,
                include_archived: args.include_archived,
            })?;
            Ok(Output::Listing {
                columns: PRODUCT_LIST.to_vec(),
                scan: PRODUCT_SCAN.to_vec(),
                rows: views::records(&rows, views::Product::listed),
            })
        }
        ProductCommand::Show(args) => {
            let view = catalog.show_product(ShowProduct {
                id: args.product_id,
                customer: args.user,
                at: args.at,
            })?;
            Ok(Output::One(Record::of(&views::Product::priced(
                &view,
                args.explain,
            ))))
        }
        ProductCommand::Update(args) => product_lifecycle::update(args, catalog),
        ProductCommand::Archive(args) => product_lifecycle::archive(args, catalog, true),
        ProductCommand::Unarchive(args) => product_lifecycle::archive(args, catalog, false),
        ProductCommand::History(args) => product_lifecycle::history(args, catalog),
    }
}

/// Streams the whole (filtered) catalog to stdout. A reader that goes away
/// (`| head`) ends the listing quietly.
fn stream_all(
    catalog: &Catalog<'_>,
    name: Option<&str>,
    at: Option<&Moment>,
    include_archived: bool,
    format: Format,
) -> Result<(), AppError> {
    let output_failed =
        |e: std::io::Error| AppError::Internal(format!("cannot write the output: {e}"));
    let stdout = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    let mut stream = match RowStream::new(stdout, format, PRODUCT_LIST.to_vec()) {
        Err(e) if is_closed_pipe(&e) => return Ok(()),
        other => other.map_err(output_failed)?.scan(PRODUCT_SCAN.to_vec()),
    };
    let mut write_error = None;
    let result = catalog.stream_products(name, at, include_archived, &mut |summary| {
        let row = Record::of(&views::Product::listed(&summary));
        stream.row(row).map_err(|e| {
            let stop = AppError::Internal(e.to_string());
            write_error = Some(e);
            stop
        })
    });
    match (result, write_error) {
        (_, Some(e)) if is_closed_pipe(&e) => Ok(()),
        (_, Some(e)) => Err(output_failed(e)),
        (Err(e), None) => Err(e),
        (Ok(_), None) => match stream.finish() {
            Err(e) if is_closed_pipe(&e) => Ok(()),
            other => other.map_err(output_failed),
        },
    }
}
