//! Rendering results as a table for people or JSON, NDJSON and CSV for scripts.
//!
//! Every command builds [`Record`]s, one ordered list of named cells each, and
//! this module is the only place that knows the formats: a field has the same
//! name and value in all of them.

use std::io::{IsTerminal, Write};

use clap::ValueEnum;
use comfy_table::{presets, Table};
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::domain::{Instant, Money, Percentage};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for people (borders only on a terminal).
    Table,
    /// One JSON document: an array for lists, an object otherwise.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// Comma-separated values with a header line.
    Csv,
}

impl Format {
    pub fn is_json(self) -> bool {
        matches!(self, Format::Json | Format::Ndjson)
    }
}

/// One value of a record.
#[derive(Debug, Clone)]
pub enum Cell {
    Text(String),
    Int(i64),
    Money(Money),
    Percent(Percentage),
    Bool(bool),
    Time(Instant),
    Null,
    /// Nested records (e.g. the migrations in `db status`): an array in JSON,
    /// a compact summary in tables and CSV.
    List(Vec<Record>),
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    pub fn opt<T>(value: Option<T>, f: impl FnOnce(T) -> Cell) -> Cell {
        value.map_or(Cell::Null, f)
    }

    /// The form used in tables and CSV: money with two decimals, times in
    /// RFC 3339, null as an empty cell.
    fn plain(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Money(m) => m.to_string(),
            Cell::Percent(p) => p.to_string(),
            Cell::Bool(b) => b.to_string(),
            Cell::Time(t) => t.to_rfc3339(),
            Cell::Null => String::new(),
            Cell::List(items) => items
                .iter()
                .map(|r| {
                    r.0.iter()
                        .map(|(_, c)| c.plain())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect::<Vec<_>>()
                .join("; "),
        }
    }
}

impl Serialize for Cell {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::Text(t) => s.serialize_str(t),
            Cell::Int(n) => s.serialize_i64(*n),
            // Exact decimals: serde_json's arbitrary-precision numbers print
            // the digits we give them, so 17.49 never becomes 17.489999….
            Cell::Money(m) => exact_number(&m.to_json_decimal()).serialize(s),
            Cell::Percent(p) => exact_number(&p.to_json_decimal()).serialize(s),
            Cell::Bool(b) => s.serialize_bool(*b),
            Cell::Time(t) => s.serialize_str(&t.to_rfc3339()),
            Cell::Null => s.serialize_none(),
            Cell::List(items) => items.serialize(s),
        }
    }
}

fn exact_number(decimal: &str) -> serde_json::Number {
    decimal
        .parse()
        .expect("milly's decimals are valid JSON numbers")
}

/// Named cells in a fixed order: a JSON object, a CSV row, a table row.
#[derive(Debug, Clone, Default)]
pub struct Record(Vec<(&'static str, Cell)>);

impl Record {
    pub fn new() -> Self {
        Record(Vec::new())
    }

    pub fn field(mut self, name: &'static str, cell: Cell) -> Self {
        self.0.push((name, cell));
        self
    }

    fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|(n, _)| *n).collect()
    }
}

impl Serialize for Record {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, cell) in &self.0 {
            map.serialize_entry(name, cell)?;
        }
        map.end()
    }
}

/// What a command prints.
pub enum Output {
    /// A single object (a created product, a status).
    One(Record),
    /// A list; `columns` names the fields so an empty list still has a CSV
    /// header and table heading.
    Many {
        columns: Vec<&'static str>,
        rows: Vec<Record>,
    },
    /// Plain text printed as is whatever the format (completion scripts).
    Raw(String),
    /// Already written to stdout while it was produced.
    Streamed,
}

/// Renders `output` into one string, written to stdout in one go.
pub fn render(output: &Output, format: Format) -> Result<String, String> {
    match (output, format) {
        (Output::Raw(text), _) => Ok(text.clone()),
        (Output::Streamed, _) => Ok(String::new()),
        (Output::One(record), Format::Json) => json_line(record, true),
        (Output::Many { rows, .. }, Format::Json) => json_line(rows, true),
        (Output::One(record), Format::Ndjson) => json_line(record, false),
        (Output::Many { rows, .. }, Format::Ndjson) => {
            rows.iter().map(|r| json_line(r, false)).collect()
        }
        (Output::One(record), Format::Csv) => csv(&record.names(), std::slice::from_ref(record)),
        (Output::Many { columns, rows }, Format::Csv) => csv(columns, rows),
        (Output::One(record), Format::Table) => Ok(vertical_table(record)),
        (Output::Many { columns, rows }, Format::Table) => Ok(table(columns, rows)),
    }
}

fn json_line<T: Serialize + ?Sized>(value: &T, pretty: bool) -> Result<String, String> {
    let text = if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    };
    text.map(|t| t + "\n").map_err(|e| e.to_string())
}

fn csv(columns: &[&'static str], rows: &[Record]) -> Result<String, String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| e.to_string();
    writer.write_record(columns).map_err(fail)?;
    for row in rows {
        writer
            .write_record(row.0.iter().map(|(_, c)| c.plain()))
            .map_err(fail)?;
    }
    let bytes = writer.into_inner().map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

fn new_table() -> Table {
    let mut t = Table::new();
    if std::io::stdout().is_terminal() {
        t.load_preset(presets::UTF8_FULL_CONDENSED);
    } else {
        // Piped or redirected: plain aligned columns, no borders, no styling.
        t.load_preset(presets::NOTHING);
    }
    t
}

fn table(columns: &[&'static str], rows: &[Record]) -> String {
    let mut t = new_table();
    t.set_header(columns.to_vec());
    for row in rows {
        t.add_row(row.0.iter().map(|(_, c)| c.plain()).collect::<Vec<_>>());
    }
    finish(t)
}

fn vertical_table(record: &Record) -> String {
    let mut t = new_table();
    t.set_header(vec!["field", "value"]);
    for (name, cell) in &record.0 {
        t.add_row(vec![name.to_string(), cell.plain()]);
    }
    finish(t)
}

fn finish(t: Table) -> String {
    let mut text = t.trim_fmt();
    text.push('\n');
    text
}

/// Writes a list row by row as it is produced, for `product list --all`:
/// memory stays flat whatever the number of rows. JSON is still one array
/// (one object per line inside it); tables are aligned per block of rows.
pub struct RowStream<W: Write> {
    sink: Sink<W>,
    format: Format,
    columns: Vec<&'static str>,
    rows: u64,
    block: Vec<Record>,
}

enum Sink<W: Write> {
    Plain(W),
    Csv(Box<csv::Writer<W>>),
}

/// Rows per table block when streaming a table.
const TABLE_BLOCK: usize = 1_000;

impl<W: Write> RowStream<W> {
    pub fn new(mut out: W, format: Format, columns: Vec<&'static str>) -> std::io::Result<Self> {
        let sink = match format {
            Format::Csv => {
                let mut writer = csv::Writer::from_writer(out);
                writer.write_record(&columns)?;
                Sink::Csv(Box::new(writer))
            }
            Format::Json => {
                out.write_all(b"[")?;
                Sink::Plain(out)
            }
            Format::Ndjson | Format::Table => Sink::Plain(out),
        };
        Ok(RowStream {
            sink,
            format,
            columns,
            rows: 0,
            block: Vec::new(),
        })
    }

    pub fn row(&mut self, record: Record) -> std::io::Result<()> {
        self.rows += 1;
        match (&mut self.sink, self.format) {
            (Sink::Csv(writer), _) => {
                writer.write_record(record.0.iter().map(|(_, c)| c.plain()))?
            }
            (Sink::Plain(out), Format::Json) => {
                out.write_all(if self.rows == 1 {
                    &b"\n"[..]
                } else {
                    &b",\n"[..]
                })?;
                serde_json::to_writer(&mut *out, &record)?;
            }
            (Sink::Plain(out), Format::Ndjson) => {
                serde_json::to_writer(&mut *out, &record)?;
                out.write_all(b"\n")?;
            }
            (Sink::Plain(_), _) => {
                self.block.push(record);
                if self.block.len() == TABLE_BLOCK {
                    self.flush_table()?;
                }
            }
        }
        Ok(())
    }

    pub fn finish(mut self) -> std::io::Result<()> {
        if self.format == Format::Table && (self.rows == 0 || !self.block.is_empty()) {
            self.flush_table()?;
        }
        match &mut self.sink {
            Sink::Csv(writer) => writer.flush(),
            Sink::Plain(out) => {
                if self.format == Format::Json {
                    out.write_all(if self.rows == 0 {
                        &b"]\n"[..]
                    } else {
                        &b"\n]\n"[..]
                    })?;
                }
                out.flush()
            }
        }
    }

    fn flush_table(&mut self) -> std::io::Result<()> {
        let block = std::mem::take(&mut self.block);
        let text = table(&self.columns, &block);
        match &mut self.sink {
            Sink::Plain(out) => out.write_all(text.as_bytes()),
            Sink::Csv(_) => Ok(()),
        }
    }
}

/// Writes rendered output to stdout. A closed pipe (`milly … | head`) is not
/// an error worth a message.
pub fn write_stdout(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Record {
        Record::new()
            .field("id", Cell::text("PROD1"))
            .field(
                "price",
                Cell::Money(Money::parse_price("p", "17.49").unwrap()),
            )
            .field(
                "discount_amount",
                Cell::Money(Money::parse_price("p", "9000").unwrap()),
            )
            .field("note", Cell::Null)
    }

    #[test]
    fn json_money_is_an_exact_number() {
        let text = render(&Output::One(sample()), Format::Ndjson).unwrap();
        assert_eq!(
            text,
            "{\"id\":\"PROD1\",\"price\":17.49,\"discount_amount\":9000.0,\"note\":null}\n"
        );
    }

    #[test]
    fn csv_has_a_header_even_when_empty() {
        let empty = Output::Many {
            columns: vec!["id", "price"],
            rows: vec![],
        };
        assert_eq!(render(&empty, Format::Csv).unwrap(), "id,price\n");
        let one = Output::Many {
            columns: vec!["id", "price", "discount_amount", "note"],
            rows: vec![sample()],
        };
        assert_eq!(
            render(&one, Format::Csv).unwrap(),
            "id,price,discount_amount,note\nPROD1,17.49,9000.00,\n"
        );
    }
}
