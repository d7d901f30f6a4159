//! Rendering results as a table for people or JSON, NDJSON and CSV for scripts.
//!
//! Every command builds [`Record`]s, one ordered list of named cells each, and
//! this module is the only place that knows the formats: a field has the same
//! name and value in all of them.

use std::io::Write;

use clap::ValueEnum;
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::table::{self, Screen};

use crate::domain::{Instant, Money, Percentage};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The columns an operator scans, fitted to the terminal (borders only
    /// on a terminal).
    Table,
    /// Every column, in a table.
    Wide,
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

    /// Whether the output is a table for people.
    pub fn is_table(self) -> bool {
        matches!(self, Format::Table | Format::Wide)
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
    /// Steps of an explanation: each an object in JSON, a line of text in
    /// tables (one table row per step) and CSV.
    Steps(Vec<(String, Record)>),
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    pub fn opt<T>(value: Option<T>, f: impl FnOnce(T) -> Cell) -> Cell {
        value.map_or(Cell::Null, f)
    }

    /// Numbers, right-aligned in tables.
    pub fn is_number(&self) -> bool {
        matches!(self, Cell::Int(_) | Cell::Money(_) | Cell::Percent(_))
    }

    /// The form used in CSV: money with two decimals, times in RFC 3339,
    /// null as an empty cell.
    pub fn plain(&self) -> String {
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
            Cell::Steps(steps) => steps
                .iter()
                .map(|(line, _)| line.as_str())
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
            Cell::Steps(steps) => s.collect_seq(steps.iter().map(|(_, r)| r)),
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

    pub fn cells(&self) -> &[(&'static str, Cell)] {
        &self.0
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
    /// A list whose default table shows only the `scan` columns, the ones an
    /// operator scans; `-o wide`, JSON, NDJSON and CSV have every column.
    Listing {
        columns: Vec<&'static str>,
        scan: Vec<&'static str>,
        rows: Vec<Record>,
    },
    /// Plain text printed as is whatever the format (completion scripts).
    Raw(String),
    /// Already written to stdout while it was produced.
    Streamed,
}

/// Renders `output` into one string, written to stdout in one go.
pub fn render(output: &Output, format: Format) -> Result<String, String> {
    render_on(output, format, &Screen::stdout())
}

/// Renders for a given screen (the terminal's, or none when piped).
pub fn render_on(output: &Output, format: Format, screen: &Screen) -> Result<String, String> {
    let wide = format == Format::Wide;
    match (output, format) {
        (Output::Raw(text), _) => Ok(text.clone()),
        (Output::Streamed, _) => Ok(String::new()),
        (Output::One(record), Format::Json) => json_line(record, true),
        (Output::Many { rows, .. } | Output::Listing { rows, .. }, Format::Json) => {
            json_line(rows, true)
        }
        (Output::One(record), Format::Ndjson) => json_line(record, false),
        (Output::Many { rows, .. } | Output::Listing { rows, .. }, Format::Ndjson) => {
            rows.iter().map(|r| json_line(r, false)).collect()
        }
        (Output::One(record), Format::Csv) => csv(&record.names(), std::slice::from_ref(record)),
        (Output::Many { columns, rows } | Output::Listing { columns, rows, .. }, Format::Csv) => {
            csv(columns, rows)
        }
        (Output::One(record), Format::Table | Format::Wide) => Ok(table::vertical(record, screen)),
        (Output::Many { columns, rows }, Format::Table | Format::Wide) => {
            Ok(table::list(columns, columns, rows, screen))
        }
        (
            Output::Listing {
                columns,
                scan,
                rows,
            },
            Format::Table | Format::Wide,
        ) => Ok(table::list(
            columns,
            if wide { columns } else { scan },
            rows,
            screen,
        )),
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

/// Writes a list row by row as it is produced, for `product list --all`:
/// memory stays flat whatever the number of rows. JSON is still one array
/// (one object per line inside it); tables are aligned per block of rows.
pub struct RowStream<W: Write> {
    sink: Sink<W>,
    format: Format,
    columns: Vec<&'static str>,
    /// The columns of a default table (`-o table`); all of them otherwise.
    scan: Option<Vec<&'static str>>,
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
                writer.write_record(&columns).map_err(csv_io_error)?;
                Sink::Csv(Box::new(writer))
            }
            Format::Json => {
                out.write_all(b"[")?;
                Sink::Plain(out)
            }
            Format::Ndjson | Format::Table | Format::Wide => Sink::Plain(out),
        };
        Ok(RowStream {
            sink,
            format,
            columns,
            scan: None,
            rows: 0,
            block: Vec::new(),
        })
    }

    /// Shows only these columns in a default table.
    pub fn scan(mut self, columns: Vec<&'static str>) -> Self {
        self.scan = Some(columns);
        self
    }

    pub fn row(&mut self, record: Record) -> std::io::Result<()> {
        self.rows += 1;
        match (&mut self.sink, self.format) {
            (Sink::Csv(writer), _) => writer
                .write_record(record.0.iter().map(|(_, c)| c.plain()))
                .map_err(csv_io_error)?,
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
        if self.format.is_table() && (self.rows == 0 || !self.block.is_empty()) {
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
        let shown = match (&self.scan, self.format) {
            (Some(scan), Format::Table) => scan,
            _ => &self.columns,
        };
        let text = table::list(&self.columns, shown, &block, &Screen::stdout());
        match &mut self.sink {
            Sink::Plain(out) => out.write_all(text.as_bytes()),
            Sink::Csv(_) => Ok(()),
        }
    }
}

/// csv wraps the writer's I/O errors in its own type, which `?` would turn
/// into an `io::Error` of kind `Other`: unwrap them so that a closed pipe is
/// still recognised as one.
fn csv_io_error(e: csv::Error) -> std::io::Error {
    if !matches!(e.kind(), csv::ErrorKind::Io(_)) {
        return std::io::Error::other(e);
    }
    match e.into_kind() {
        csv::ErrorKind::Io(io) => io,
        _ => unreachable!("checked above"),
    }
}

/// The reader went away (`milly … | head -1`): what it wanted it has, so
/// this ends the command quietly, with exit 0, in every format.
pub fn is_closed_pipe(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::BrokenPipe
}

/// Writes rendered output to stdout. A closed pipe is not an error worth a
/// message.
pub fn write_stdout(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if is_closed_pipe(&e) => Ok(()),
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

/// What a command printed, in a form that keeps every cell's type, so that a
/// rerun under the same idempotency key prints exactly what the first run
/// printed (the same ids, in whatever format the rerun asks for).
pub mod stored {
    use serde::{Deserialize, Serialize};

    use super::{Cell, Output, Record};
    use crate::domain::{Instant, Money, Percentage};

    #[derive(Serialize, Deserialize)]
    enum StoredOutput {
        One(StoredRecord),
        Many {
            columns: Vec<String>,
            rows: Vec<StoredRecord>,
        },
        Listing {
            columns: Vec<String>,
            scan: Vec<String>,
            rows: Vec<StoredRecord>,
        },
    }

    type StoredRecord = Vec<(String, StoredCell)>;

    #[derive(Serialize, Deserialize)]
    enum StoredCell {
        Text(String),
        Int(i64),
        Cents(i64),
        BasisPoints(i64),
        Bool(bool),
        Time(String),
        Null,
        List(Vec<StoredRecord>),
        Steps(Vec<(String, StoredRecord)>),
    }

    pub fn encode(output: &Output) -> Result<String, String> {
        let stored = match output {
            Output::One(record) => StoredOutput::One(record_of(record)),
            Output::Many { columns, rows } => StoredOutput::Many {
                columns: columns.iter().map(|c| c.to_string()).collect(),
                rows: rows.iter().map(record_of).collect(),
            },
            Output::Listing {
                columns,
                scan,
                rows,
            } => StoredOutput::Listing {
                columns: columns.iter().map(|c| c.to_string()).collect(),
                scan: scan.iter().map(|c| c.to_string()).collect(),
                rows: rows.iter().map(record_of).collect(),
            },
            Output::Raw(_) | Output::Streamed => {
                return Err("this output cannot be recorded".into())
            }
        };
        serde_json::to_string(&stored).map_err(|e| e.to_string())
    }

    pub fn decode(text: &str) -> Result<Output, String> {
        let stored: StoredOutput = serde_json::from_str(text).map_err(|e| e.to_string())?;
        Ok(match stored {
            StoredOutput::One(record) => Output::One(record_from(record)?),
            StoredOutput::Many { columns, rows } => Output::Many {
                columns: columns.into_iter().map(name).collect(),
                rows: rows
                    .into_iter()
                    .map(record_from)
                    .collect::<Result<_, _>>()?,
            },
            StoredOutput::Listing {
                columns,
                scan,
                rows,
            } => Output::Listing {
                columns: columns.into_iter().map(name).collect(),
                scan: scan.into_iter().map(name).collect(),
                rows: rows
                    .into_iter()
                    .map(record_from)
                    .collect::<Result<_, _>>()?,
            },
        })
    }

    fn record_of(record: &Record) -> StoredRecord {
        record
            .0
            .iter()
            .map(|(n, c)| (n.to_string(), cell_of(c)))
            .collect()
    }

    fn cell_of(cell: &Cell) -> StoredCell {
        match cell {
            Cell::Text(t) => StoredCell::Text(t.clone()),
            Cell::Int(n) => StoredCell::Int(*n),
            Cell::Money(m) => StoredCell::Cents(m.cents()),
            Cell::Percent(p) => StoredCell::BasisPoints(i64::from(p.basis_points())),
            Cell::Bool(b) => StoredCell::Bool(*b),
            Cell::Time(t) => StoredCell::Time(t.to_rfc3339()),
            Cell::Null => StoredCell::Null,
            Cell::List(items) => StoredCell::List(items.iter().map(record_of).collect()),
            Cell::Steps(steps) => StoredCell::Steps(
                steps
                    .iter()
                    .map(|(step, record)| (step.clone(), record_of(record)))
                    .collect(),
            ),
        }
    }

    fn record_from(stored: StoredRecord) -> Result<Record, String> {
        stored.into_iter().try_fold(Record::new(), |r, (n, c)| {
            Ok(r.field(name(n), cell_from(c)?))
        })
    }

    fn cell_from(stored: StoredCell) -> Result<Cell, String> {
        let bad = |e: crate::domain::DomainError| e.to_string();
        Ok(match stored {
            StoredCell::Text(t) => Cell::Text(t),
            StoredCell::Int(n) => Cell::Int(n),
            StoredCell::Cents(c) => Cell::Money(Money::from_cents(c).map_err(bad)?),
            StoredCell::BasisPoints(bp) => {
                Cell::Percent(Percentage::from_basis_points(bp).map_err(bad)?)
            }
            StoredCell::Bool(b) => Cell::Bool(b),
            StoredCell::Time(t) => Cell::Time(Instant::from_stored(&t).map_err(bad)?),
            StoredCell::Null => Cell::Null,
            StoredCell::List(items) => Cell::List(
                items
                    .into_iter()
                    .map(record_from)
                    .collect::<Result<_, _>>()?,
            ),
            StoredCell::Steps(steps) => Cell::Steps(
                steps
                    .into_iter()
                    .map(|(step, record)| Ok((step, record_from(record)?)))
                    .collect::<Result<_, String>>()?,
            ),
        })
    }

    /// Field names are static in a record; the few a recorded result holds
    /// live as long as the process (one command) anyway.
    fn name(text: String) -> &'static str {
        Box::leak(text.into_boxed_str())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_recorded_output_renders_as_the_original() {
            let at = Instant::parse("at", "2025-06-01T12:00:00.5Z").unwrap();
            let record = Record::new()
                .field("id", Cell::text("PROD1"))
                .field("price", Cell::Money(Money::from_cents(1749).unwrap()))
                .field(
                    "percent",
                    Cell::Percent(Percentage::from_basis_points(1250).unwrap()),
                )
                .field("n", Cell::Int(-3))
                .field("on", Cell::Bool(true))
                .field("at", Cell::Time(at))
                .field("none", Cell::Null)
                .field(
                    "list",
                    Cell::List(vec![Record::new().field("v", Cell::Int(1))]),
                )
                .field(
                    "steps",
                    Cell::Steps(vec![(
                        "list price".into(),
                        Record::new().field("v", Cell::Int(2)),
                    )]),
                );
            let outputs = [
                Output::One(record.clone()),
                Output::Many {
                    columns: vec!["id"],
                    rows: vec![record.clone()],
                },
                Output::Listing {
                    columns: vec!["id", "price"],
                    scan: vec!["id"],
                    rows: vec![record],
                },
            ];
            for output in outputs {
                let again = decode(&encode(&output).unwrap()).unwrap();
                for format in [super::super::Format::Json, super::super::Format::Csv] {
                    assert_eq!(
                        super::super::render(&again, format),
                        super::super::render(&output, format)
                    );
                }
            }
        }
    }
}
