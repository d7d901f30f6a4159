//! The rows of an import file, derived by serde: one struct per kind of row,
//! refusing unknown fields, read with csv's deserializer or serde_json's, one
//! line at a time.
//!
//! The two formats share the structs and differ only in their value types: a
//! CSV cell is always text taken as it is (csv would otherwise guess numbers
//! and turn `17.50` into a float), while NDJSON allows a string or a number,
//! kept as its exact digits.

use std::io::{BufRead, Read};

use serde::de::{self, Deserialize, Deserializer, Unexpected};
use serde_json::Value;

use crate::app::usecases::{CouponRow, ImportRow, ProductRow, StockRow};
use crate::app::RowError;
use crate::domain::DomainError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Products,
    Coupons,
    Stock,
}

/// A product row. Every field is optional here so that a missing one is
/// reported by name, as the rest of the rules are, by [`ProductFields::row`].
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductFields<V, L> {
    name: Option<V>,
    price: Option<V>,
    description: Option<V>,
    stock: Option<V>,
    stock_changes: Option<L>,
    discount_percent: Option<V>,
    discount_from: Option<V>,
    discount_until: Option<V>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CouponFields<V> {
    user: Option<V>,
    percent: Option<V>,
    valid_to: Option<V>,
    valid_from: Option<V>,
    code: Option<V>,
}

/// A stock change: which product, by how much, and why.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StockFields<V> {
    product_id: Option<V>,
    change: Option<V>,
    reason: Option<V>,
}

type CsvStock = StockFields<String>;
type JsonStock = StockFields<JsonText>;
type CsvProduct = ProductFields<String, CsvChanges>;
type CsvCoupon = CouponFields<String>;
type JsonProduct = ProductFields<JsonText, JsonChanges>;
type JsonCoupon = CouponFields<JsonText>;

fn required(value: Option<String>, name: &'static str) -> Result<String, DomainError> {
    value.ok_or_else(|| DomainError::invalid(name, "", "a value (the field is required)"))
}

impl<V: Into<String>, L: Into<Vec<String>>> ProductFields<V, L> {
    fn row(self) -> Result<ImportRow, RowError> {
        Ok(ImportRow::Product(ProductRow {
            name: required(self.name.map(Into::into), "name")?,
            price: required(self.price.map(Into::into), "price")?,
            description: self.description.map(Into::into),
            stock: self.stock.map(Into::into),
            stock_changes: self.stock_changes.map(Into::into).unwrap_or_default(),
            discount_percent: self.discount_percent.map(Into::into),
            discount_from: self.discount_from.map(Into::into),
            discount_until: self.discount_until.map(Into::into),
        }))
    }
}

impl<V: Into<String>> CouponFields<V> {
    fn row(self) -> Result<ImportRow, RowError> {
        Ok(ImportRow::Coupon(CouponRow {
            user: required(self.user.map(Into::into), "user")?,
            percent: required(self.percent.map(Into::into), "percent")?,
            valid_to: required(self.valid_to.map(Into::into), "valid_to")?,
            valid_from: self.valid_from.map(Into::into),
            code: self.code.map(Into::into),
        }))
    }
}

impl<V: Into<String>> StockFields<V> {
    fn row(self) -> Result<ImportRow, RowError> {
        Ok(ImportRow::Stock(StockRow {
            product_id: required(self.product_id.map(Into::into), "product_id")?,
            change: required(self.change.map(Into::into), "change")?,
            // An empty CSV cell is no reason.
            reason: self.reason.map(Into::into).filter(|r| !r.is_empty()),
        }))
    }
}

/// CSV `stock_changes`: several changes in one cell, `+5;-2` (or spaces).
#[derive(Debug)]
struct CsvChanges(Vec<String>);

impl<'de> Deserialize<'de> for CsvChanges {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let cell = String::deserialize(d)?;
        Ok(CsvChanges(
            cell.split([';', ' '])
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .collect(),
        ))
    }
}

impl From<CsvChanges> for Vec<String> {
    fn from(changes: CsvChanges) -> Self {
        changes.0
    }
}

/// An NDJSON value: a string as it is, or a number as its exact digits
/// (serde_json keeps them arbitrary-precision, so 17.49 is never a float on
/// the way).
#[derive(Debug)]
struct JsonText(String);

impl JsonText {
    fn from_value<E: de::Error>(value: Value, expected: &str) -> Result<Self, E> {
        match value {
            Value::String(s) => Ok(JsonText(s)),
            Value::Number(n) => Ok(JsonText(n.to_string())),
            other => Err(E::invalid_type(unexpected(&other), &expected)),
        }
    }
}

fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
        Value::String(s) => Unexpected::Str(s),
        Value::Number(_) => Unexpected::Other("number"),
    }
}

impl<'de> Deserialize<'de> for JsonText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        JsonText::from_value(Value::deserialize(d)?, "a string or a number")
    }
}

impl From<JsonText> for String {
    fn from(text: JsonText) -> Self {
        text.0
    }
}

/// NDJSON `stock_changes`: a list of changes, or a single one.
#[derive(Debug)]
struct JsonChanges(Vec<String>);

impl<'de> Deserialize<'de> for JsonChanges {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        const EXPECTED: &str = "a change such as \"+5\" or -2, or a list of them";
        let items = match Value::deserialize(d)? {
            Value::Array(items) => items,
            one => vec![one],
        };
        items
            .into_iter()
            .map(|item| JsonText::from_value(item, EXPECTED).map(String::from))
            .collect::<Result<_, D::Error>>()
            .map(JsonChanges)
    }
}

impl From<JsonChanges> for Vec<String> {
    fn from(changes: JsonChanges) -> Self {
        changes.0
    }
}

/// NDJSON rows, numbered by their line in the file (`skipped` blank lines
/// came before the reader's first); blank lines are allowed and skipped.
pub fn ndjson(
    mut reader: impl BufRead,
    kind: Kind,
    skipped: u64,
) -> impl Iterator<Item = (u64, Result<ImportRow, RowError>)> {
    let mut line = skipped;
    let mut text = String::new();
    std::iter::from_fn(move || loop {
        text.clear();
        line += 1;
        match reader.read_line(&mut text) {
            Ok(0) => return None,
            Ok(_) if text.trim().is_empty() => continue,
            Ok(_) => return Some((line, json_row(&text, kind))),
            Err(e) => {
                let error = RowError::Unreadable(format!("cannot read the line: {e}"));
                return Some((line, Err(error)));
            }
        }
    })
}

fn json_row(text: &str, kind: Kind) -> Result<ImportRow, RowError> {
    // A struct would also accept a JSON array, by position: refuse it.
    if !text.trim_start().starts_with('{') {
        return Err(RowError::Unreadable(format!(
            "expected one JSON object, found {}",
            shown(text.trim())
        )));
    }
    let mut json = serde_json::Deserializer::from_str(text);
    let row = match kind {
        Kind::Products => {
            serde_path_to_error::deserialize::<_, JsonProduct>(&mut json).map(ProductFields::row)
        }
        Kind::Coupons => {
            serde_path_to_error::deserialize::<_, JsonCoupon>(&mut json).map(CouponFields::row)
        }
        Kind::Stock => {
            serde_path_to_error::deserialize::<_, JsonStock>(&mut json).map(StockFields::row)
        }
    };
    let row = row.map_err(|e| {
        let field = e.path().to_string();
        let message = without_position(e.inner());
        RowError::Unreadable(match e.inner().classify() {
            // An unknown field's name is in the message already.
            serde_json::error::Category::Data
                if field != "." && !message.contains(&format!("`{field}`")) =>
            {
                format!("field {field}: {message}")
            }
            serde_json::error::Category::Data => message,
            _ => format!("expected one JSON object ({message})"),
        })
    })?;
    json.end().map_err(|e| {
        RowError::Unreadable(format!(
            "expected one JSON object and nothing after it ({})",
            without_position(&e)
        ))
    })?;
    row
}

/// serde_json's message, with the column but without "line 1", which would
/// contradict the file's line number given in front of it.
fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rsplit_once(" at line ") {
        Some((message, _)) if e.line() > 0 && e.column() > 0 => {
            format!("{message}, column {}", e.column())
        }
        Some((message, _)) if e.line() > 0 => message.to_owned(),
        _ => text,
    }
}

/// A piece of the input, quoted so that blanks and control characters show,
/// and cut short if long.
fn shown(text: &str) -> String {
    const SHOWN: usize = 40;
    let start: String = text.chars().take(SHOWN).collect();
    if text.chars().nth(SHOWN).is_some() {
        format!("{start:?}…")
    } else {
        format!("{start:?}")
    }
}

/// CSV rows: a header naming the fields (line 1), then one row per line,
/// numbered by the line each starts on. Reading stops at the first error.
pub fn csv(
    reader: impl Read,
    kind: Kind,
    skipped: u64,
) -> impl Iterator<Item = (u64, Result<ImportRow, RowError>)> {
    let mut csv = csv::ReaderBuilder::new()
        .flexible(false)
        .has_headers(false)
        .from_reader(reader);
    let mut headers: Option<csv::StringRecord> = None;
    let mut record = csv::StringRecord::new();
    let mut failed = false;
    std::iter::from_fn(move || loop {
        if failed {
            return None;
        }
        let read = csv.read_record(&mut record);
        let line = record.position().map_or(0, |p| p.line()) + skipped;
        let (line, row) = match (read, &headers) {
            (Ok(false), _) => return None,
            (Err(e), _) => {
                let line = e.position().map_or(line, |p| p.line() + skipped);
                (line, Err(csv_read_error(&e)))
            }
            (Ok(true), None) => {
                // Headers match without regard to case (`Name,Price`).
                let names: csv::StringRecord = record.iter().map(str::to_lowercase).collect();
                match check_header(&names, kind) {
                    Ok(()) => {
                        headers = Some(names);
                        continue;
                    }
                    Err(e) => (line, Err(e)),
                }
            }
            (Ok(true), Some(names)) => (line, csv_row(&record, names, kind)),
        };
        failed = row.is_err();
        return Some((line, row));
    })
}

/// The header's field names, checked by the row structs themselves: reading
/// the header as if it were a row refuses exactly the unknown or repeated
/// names, on line 1 rather than on the first row.
fn check_header(header: &csv::StringRecord, kind: Kind) -> Result<(), RowError> {
    let read = match kind {
        Kind::Products => header.deserialize::<CsvProduct>(Some(header)).map(drop),
        Kind::Coupons => header.deserialize::<CsvCoupon>(Some(header)).map(drop),
        Kind::Stock => header.deserialize::<CsvStock>(Some(header)).map(drop),
    };
    read.map_err(|e| {
        RowError::Unreadable(format!("in the header: {}", deserialize_message(&e, None)))
    })
}

fn csv_row(
    record: &csv::StringRecord,
    headers: &csv::StringRecord,
    kind: Kind,
) -> Result<ImportRow, RowError> {
    let fail = |e: csv::Error| RowError::Unreadable(deserialize_message(&e, Some(headers)));
    match kind {
        Kind::Products => record
            .deserialize::<CsvProduct>(Some(headers))
            .map_err(fail)?
            .row(),
        Kind::Coupons => record
            .deserialize::<CsvCoupon>(Some(headers))
            .map_err(fail)?
            .row(),
        Kind::Stock => record
            .deserialize::<CsvStock>(Some(headers))
            .map_err(fail)?
            .row(),
    }
}

/// What serde said about a row, naming the field (by its header) when the
/// message does not already.
fn deserialize_message(e: &csv::Error, headers: Option<&csv::StringRecord>) -> String {
    let csv::ErrorKind::Deserialize { err, .. } = e.kind() else {
        return e.to_string();
    };
    let field = err
        .field()
        .and_then(|i| headers.and_then(|h| h.get(i as usize)));
    match field {
        Some(name) => format!("field {name}: {}", err.kind()),
        None => err.kind().to_string(),
    }
}

/// A row csv cannot read (wrong number of cells, bad UTF-8).
fn csv_read_error(e: &csv::Error) -> RowError {
    RowError::Unreadable(match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("expected {expected_len} values, one per header field, found {len}"),
        csv::ErrorKind::Utf8 { err, .. } => {
            format!("value {} is not UTF-8 text ({err})", err.field() + 1)
        }
        csv::ErrorKind::Io(io) => format!("cannot read the line: {io}"),
        _ => format!("cannot read the line: {e}"),
    })
}
