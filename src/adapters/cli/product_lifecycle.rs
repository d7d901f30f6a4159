//! `milly product update|archive|unarchive|history`.

use clap::Args;

use super::output::Output;
use super::parse::domain;
use super::record::Record;
use super::views::{self, PRODUCT_HISTORY, PRODUCT_HISTORY_SCAN};
use crate::app::usecases::UpdateProduct;
use crate::app::{AppError, Catalog};
use crate::domain::*;

#[derive(Debug, Clone, Args)]
pub struct UpdateArgs {
    /// The product's id (PROD…)
    #[arg(value_parser = domain(ProductId::parse))]
    pub(super) product_id: ProductId,
    /// New name, 1 to 200 characters (trimmed)
    #[arg(long, value_parser = domain(ProductName::parse))]
    pub(super) name: Option<ProductName>,
    /// New description, at most 2000 characters ("" empties it)
    #[arg(long, value_parser = domain(Description::parse))]
    pub(super) description: Option<Description>,
    /// New price with at most 2 decimals; prices shown --at an earlier time
    /// keep the price in force then
    #[arg(long, allow_hyphen_values = true, value_parser = domain(Money::parse_price))]
    pub(super) price: Option<Money>,
}

#[derive(Debug, Clone, Args)]
pub struct ArchiveArgs {
    /// The product's id (PROD…)
    #[arg(value_parser = domain(ProductId::parse))]
    pub(super) product_id: ProductId,
}

#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// The product's id (PROD…)
    #[arg(value_parser = domain(ProductId::parse))]
    product_id: ProductId,
}

pub fn update(args: UpdateArgs, catalog: &Catalog<'_>) -> Result<Output, AppError> {
    let edit = ProductEdit {
        name: args.name,
        description: args.description,
        price: args.price,
    };
    let product = catalog.update_product(UpdateProduct {
        id: args.product_id,
        edit,
    })?;
    Ok(Output::One(Record::of(&views::Product::stored(&product))))
}

pub fn archive(
    args: ArchiveArgs,
    catalog: &Catalog<'_>,
    archive: bool,
) -> Result<Output, AppError> {
    let done = catalog.archive_product(&args.product_id, archive)?;
    Ok(Output::One(Record::of(&views::Product::archived(&done))))
}

pub fn history(args: HistoryArgs, catalog: &Catalog<'_>) -> Result<Output, AppError> {
    let history = catalog.product_history(&args.product_id)?;
    let rows = (history.changes.iter())
        .flat_map(views::ProductChange::rows)
        .map(|row| Record::of(&row))
        .collect();
    Ok(Output::Listing {
        columns: PRODUCT_HISTORY.to_vec(),
        scan: PRODUCT_HISTORY_SCAN.to_vec(),
        rows,
    })
}
