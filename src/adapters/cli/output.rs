//! Rendering results as a table for people or JSON, NDJSON and CSV for scripts.
//!
//! Every command prints [`Record`]s, read from its views, and this module is
//! the only place that knows the formats: a field has the same name and
//! value in all of them.

use std::io::Write;

use clap::ValueEnum;
use serde::Serialize;

use super::record::Record;
use super::table::{self, Screen};

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
            .write_record(row.cells().iter().map(|(_, c)| c.plain()))
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
                .write_record(record.cells().iter().map(|(_, c)| c.plain()))
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
    use crate::adapters::cli::record::Cell;
    use crate::domain::Money;

    fn sample() -> Record {
        Record::from_cells(vec![
            ("id", Cell::Text("PROD1".into())),
            (
                "price",
                Cell::Money(Money::parse_price("p", "17.49").unwrap()),
            ),
            (
                "discount_amount",
                Cell::Money(Money::parse_price("p", "9000").unwrap()),
            ),
            ("note", Cell::Null),
        ])
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
