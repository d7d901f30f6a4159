//! `milly import products|coupons`: bulk loading from NDJSON or CSV.
//!
//! This module only reads the file formats; the rules are the use case's, the
//! same as for the single-row commands, and the whole file is one transaction.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use super::output::{Cell, Output, Record};
use crate::app::usecases::{CouponRow, ImportRow, ProductRow};
use crate::app::{AppError, Catalog};
use crate::domain::DomainError;

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import products in one transaction. Fields: name, price, description,
    /// stock, stock_changes (further ledger changes: a JSON array, or
    /// "+5;-2" in CSV), discount_percent, discount_from, discount_until
    Products(ImportArgs),
    /// Import coupons in one transaction. Fields: user, percent, valid_to,
    /// valid_from, code
    Coupons(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// File to read; - reads standard input
    #[arg(default_value = "-")]
    file: PathBuf,
    /// Input format [default: csv for a .csv file, ndjson otherwise]
    #[arg(long, value_enum)]
    format: Option<InputFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    /// One JSON object per line
    Ndjson,
    /// A header line naming the fields, then one row per line
    Csv,
}

const PRODUCT_FIELDS: &[&str] = &[
    "name",
    "price",
    "description",
    "stock",
    "stock_changes",
    "discount_percent",
    "discount_from",
    "discount_until",
];
const COUPON_FIELDS: &[&str] = &["user", "percent", "valid_to", "valid_from", "code"];

#[derive(Clone, Copy)]
enum Kind {
    Products,
    Coupons,
}

pub fn run(command: ImportCommand, catalog: &Catalog<'_>) -> Result<Output, AppError> {
    let (kind, args) = match command {
        ImportCommand::Products(args) => (Kind::Products, args),
        ImportCommand::Coupons(args) => (Kind::Coupons, args),
    };
    let format =
        args.format
            .unwrap_or_else(|| match args.file.extension().and_then(|e| e.to_str()) {
                Some(ext) if ext.eq_ignore_ascii_case("csv") => InputFormat::Csv,
                _ => InputFormat::Ndjson,
            });
    let input: Box<dyn Read> = if args.file.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(File::open(&args.file).map_err(|e| {
            AppError::Invalid(DomainError::invalid(
                "FILE",
                args.file.to_string_lossy(),
                format!("a readable file ({e})"),
            ))
        })?)
    };
    let reader = BufReader::with_capacity(256 * 1024, input);
    let mut rows: Box<dyn Iterator<Item = (u64, Result<ImportRow, DomainError>)>> = match format {
        InputFormat::Ndjson => Box::new(ndjson_rows(reader, kind)),
        InputFormat::Csv => Box::new(csv_rows(reader, kind)),
    };
    let counts = catalog.import(&mut rows)?;
    Ok(Output::One(
        Record::new()
            .field("products", Cell::Int(counts.products as i64))
            .field("stock_events", Cell::Int(counts.stock_events as i64))
            .field("discounts", Cell::Int(counts.discounts as i64))
            .field("coupons", Cell::Int(counts.coupons as i64)),
    ))
}

/// A row's fields by name; a field may hold several values (stock_changes).
type Fields = HashMap<String, Vec<String>>;

fn ndjson_rows(
    reader: impl BufRead,
    kind: Kind,
) -> impl Iterator<Item = (u64, Result<ImportRow, DomainError>)> {
    reader
        .lines()
        .enumerate()
        .map(|(index, line)| (index as u64 + 1, line))
        .filter(|(_, line)| !matches!(line, Ok(text) if text.trim().is_empty()))
        .map(move |(number, line)| {
            let row = line
                .map_err(|e| DomainError::invalid("line", "", format!("UTF-8 text ({e})")))
                .and_then(|text| json_fields(&text))
                .and_then(|fields| build_row(fields, kind));
            (number, row)
        })
}

fn json_fields(text: &str) -> Result<Fields, DomainError> {
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)
        .map_err(|e| DomainError::invalid("line", text, format!("one JSON object ({e})")))?;
    let mut fields = Fields::new();
    for (key, value) in object {
        let values = match value {
            serde_json::Value::Null => continue,
            serde_json::Value::Array(items) => {
                items.iter().map(json_scalar).collect::<Result<_, _>>()?
            }
            other => vec![json_scalar(&other)?],
        };
        fields.insert(key, values);
    }
    Ok(fields)
}

/// Strings as they are; numbers as their exact digits (serde_json keeps
/// them arbitrary-precision, so 17.49 is never a float on the way).
fn json_scalar(value: &serde_json::Value) -> Result<String, DomainError> {
    match value {
        serde_json::Value::String(s) => Ok(s.clone()),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        other => Err(DomainError::invalid(
            "field",
            other.to_string(),
            "a string or a number",
        )),
    }
}

fn csv_rows(
    reader: impl Read,
    kind: Kind,
) -> impl Iterator<Item = (u64, Result<ImportRow, DomainError>)> {
    let mut csv = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(reader);
    let headers = csv
        .headers()
        .map(|h| h.iter().map(str::to_owned).collect::<Vec<_>>());
    let mut header_error = match &headers {
        Err(e) => Some((
            1,
            Err(DomainError::invalid(
                "header",
                "",
                format!("a CSV header line ({e})"),
            )),
        )),
        Ok(_) => None,
    };
    let headers = headers.unwrap_or_default();
    let mut records = csv.into_records();
    std::iter::from_fn(move || {
        if let Some(error) = header_error.take() {
            return Some(error);
        }
        let record = records.next()?;
        let line = record
            .as_ref()
            .ok()
            .and_then(|r| r.position())
            .map_or(0, |p| p.line());
        let row = record
            .map_err(|e| {
                DomainError::invalid(
                    "row",
                    "",
                    format!("a CSV row with one value per header field ({e})"),
                )
            })
            .and_then(|record| {
                let mut fields = Fields::new();
                for (name, value) in headers.iter().zip(record.iter()) {
                    if value.is_empty() {
                        continue;
                    }
                    let values = if name == "stock_changes" {
                        value
                            .split([';', ' '])
                            .filter(|v| !v.is_empty())
                            .map(str::to_owned)
                            .collect()
                    } else {
                        vec![value.to_owned()]
                    };
                    fields.insert(name.clone(), values);
                }
                build_row(fields, kind)
            });
        Some((line, row))
    })
}

fn build_row(mut fields: Fields, kind: Kind) -> Result<ImportRow, DomainError> {
    let known = match kind {
        Kind::Products => PRODUCT_FIELDS,
        Kind::Coupons => COUPON_FIELDS,
    };
    if let Some(unknown) = fields.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(DomainError::invalid(
            "field name",
            unknown,
            format!("one of {}", known.join(", ")),
        ));
    }
    let mut one = |name: &'static str| -> Result<Option<String>, DomainError> {
        match fields.remove(name) {
            None => Ok(None),
            Some(mut values) if values.len() == 1 => Ok(values.pop()),
            Some(values) => Err(DomainError::invalid(
                name,
                values.join(","),
                "a single value",
            )),
        }
    };
    let required = |value: Option<String>, name: &'static str| {
        value.ok_or_else(|| DomainError::invalid(name, "", "a value (the field is required)"))
    };
    Ok(match kind {
        Kind::Products => ImportRow::Product(ProductRow {
            name: required(one("name")?, "name")?,
            price: required(one("price")?, "price")?,
            description: one("description")?,
            stock: one("stock")?,
            discount_percent: one("discount_percent")?,
            discount_from: one("discount_from")?,
            discount_until: one("discount_until")?,
            stock_changes: fields.remove("stock_changes").unwrap_or_default(),
        }),
        Kind::Coupons => ImportRow::Coupon(CouponRow {
            user: required(one("user")?, "user")?,
            percent: required(one("percent")?, "percent")?,
            valid_to: required(one("valid_to")?, "valid_to")?,
            valid_from: one("valid_from")?,
            code: one("code")?,
        }),
    })
}
