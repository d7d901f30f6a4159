//! `milly product update|archive|unarchive|history`, and the pricing steps
//! of `product show --explain`.

use clap::Args;

use super::output::{Cell, Output, Record};
use super::parse::domain;
use super::table::short_time;
use crate::app::usecases::{ProductView, UpdateProduct};
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

pub const HISTORY_COLUMNS: &[&str] = &[
    "product_id",
    "at",
    "actor",
    "action",
    "field",
    "old_value",
    "new_value",
];

pub const HISTORY_SCAN: &[&str] = &["at", "actor", "action", "field", "old_value", "new_value"];

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
    Ok(Output::One(product_record(&product)))
}

pub fn archive(
    args: ArchiveArgs,
    catalog: &Catalog<'_>,
    archive: bool,
) -> Result<Output, AppError> {
    let done = catalog.archive_product(&args.product_id, archive)?;
    Ok(Output::One(
        product_record(&done.product).field("changed", Cell::Bool(done.changed)),
    ))
}

pub fn history(args: HistoryArgs, catalog: &Catalog<'_>) -> Result<Output, AppError> {
    let history = catalog.product_history(&args.product_id)?;
    let rows = history.changes.iter().flat_map(change_records).collect();
    Ok(Output::Listing {
        columns: HISTORY_COLUMNS.to_vec(),
        scan: HISTORY_SCAN.to_vec(),
        rows,
    })
}

/// A product as it is stored (today's price, archived or not).
fn product_record(p: &Product) -> Record {
    Record::new()
        .field("id", Cell::text(p.id.as_str()))
        .field("name", Cell::text(p.name.as_str()))
        .field("description", Cell::text(p.description.as_str()))
        .field("price", Cell::Money(p.price))
        .field("is_archived", Cell::Bool(p.is_archived()))
        .field("archived_at", Cell::opt(p.archived_at, Cell::Time))
        .field("created_at", Cell::Time(p.created_at))
        .field("updated_at", Cell::Time(p.updated_at))
}

fn actor_cell(actor: &Option<Actor>) -> Cell {
    Cell::opt(actor.as_ref(), |a| Cell::text(a.as_str()))
}

/// One row per field a change set (old and new value), or one row for an
/// archiving or unarchiving.
fn change_records(change: &ProductChange) -> Vec<Record> {
    let row = |field: Cell, old: Cell, new: Cell| {
        Record::new()
            .field("product_id", Cell::text(change.product_id.as_str()))
            .field("at", Cell::Time(change.at))
            .field("actor", actor_cell(&change.actor))
            .field("action", Cell::text(change.kind.as_str()))
            .field("field", field)
            .field("old_value", old)
            .field("new_value", new)
    };
    let mut rows = Vec::new();
    if let Some(e) = &change.name {
        rows.push(row(
            Cell::text("name"),
            Cell::opt(e.old.as_ref(), |v| Cell::text(v.as_str())),
            Cell::text(e.new.as_str()),
        ));
    }
    if let Some(e) = &change.description {
        rows.push(row(
            Cell::text("description"),
            Cell::opt(e.old.as_ref(), |v| Cell::text(v.as_str())),
            Cell::text(e.new.as_str()),
        ));
    }
    if let Some(e) = &change.price {
        rows.push(row(
            Cell::text("price"),
            Cell::opt(e.old, Cell::Money),
            Cell::Money(e.new),
        ));
    }
    if rows.is_empty() {
        rows.push(row(Cell::Null, Cell::Null, Cell::Null));
    }
    rows
}

/// How the final price was reached, step by step: each an object in JSON,
/// a line in a table.
pub fn explain(v: &ProductView) -> Cell {
    let p = &v.pricing;
    let mut steps = vec![(
        format!("list price {} (in force at {})", p.price, short_time(v.at)),
        Record::new()
            .field("step", Cell::text("list_price"))
            .field("amount", Cell::Money(p.price))
            .field("at", Cell::Time(v.at)),
    )];
    steps.push(match v.discount.as_ref().filter(|d| d.applies_at(v.at)) {
        Some(d) => (
            format!(
                "product discount {} of {}% (valid {} to {}): -{}",
                d.id,
                d.percentage,
                short_time(d.window.from()),
                short_time(d.window.until()),
                p.product_discount
            ),
            Record::new()
                .field("step", Cell::text("product_discount"))
                .field("discount_id", Cell::text(d.id.as_str()))
                .field("percentage", Cell::Percent(d.percentage))
                .field("valid_from", Cell::Time(d.window.from()))
                .field("valid_to", Cell::Time(d.window.until()))
                .field("amount", Cell::Money(p.product_discount)),
        ),
        None => (
            "no product discount applied".to_owned(),
            Record::new()
                .field("step", Cell::text("product_discount"))
                .field("discount_id", Cell::Null)
                .field("amount", Cell::Money(p.product_discount)),
        ),
    });
    steps.push(match v.coupon.as_ref().filter(|c| c.applies_at(v.at)) {
        Some(c) => (
            format!(
                "coupon {} of {}% for customer {} on {}: -{}",
                c.code,
                c.percentage,
                c.user_id,
                p.price.saturating_sub(p.product_discount),
                p.coupon_discount
            ),
            Record::new()
                .field("step", Cell::text("coupon"))
                .field("coupon_id", Cell::text(c.id.as_str()))
                .field("coupon_code", Cell::text(c.code.as_str()))
                .field("user_id", Cell::text(c.user_id.as_str()))
                .field("percentage", Cell::Percent(c.percentage))
                .field("amount", Cell::Money(p.coupon_discount)),
        ),
        None => (
            "no coupon applied".to_owned(),
            Record::new()
                .field("step", Cell::text("coupon"))
                .field("coupon_code", Cell::Null)
                .field("amount", Cell::Money(p.coupon_discount)),
        ),
    });
    steps.push((
        format!("final price {}", p.final_price),
        Record::new()
            .field("step", Cell::text("final_price"))
            .field("amount", Cell::Money(p.final_price)),
    ));
    Cell::Steps(steps)
}
