//! What a command printed, in a form that keeps every cell's type, so that a
//! rerun under the same idempotency key prints exactly what the first run
//! printed (the same ids, in whatever format the rerun asks for). The form
//! is recorded in the database: results recorded by earlier releases must
//! still read.

use serde::{Deserialize, Serialize};

use super::output::Output;
use super::record::{Cell, Record};
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
    Texts(Vec<String>),
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
        Output::Raw(_) | Output::Streamed => return Err("this output cannot be recorded".into()),
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
        .cells()
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
        Cell::Texts(texts) => StoredCell::Texts(texts.clone()),
        Cell::Steps(steps) => StoredCell::Steps(
            steps
                .iter()
                .map(|(step, record)| (step.clone(), record_of(record)))
                .collect(),
        ),
    }
}

fn record_from(stored: StoredRecord) -> Result<Record, String> {
    stored
        .into_iter()
        .map(|(n, c)| Ok((name(n), cell_from(c)?)))
        .collect::<Result<_, String>>()
        .map(Record::from_cells)
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
        StoredCell::Texts(texts) => Cell::Texts(texts),
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
    use crate::adapters::cli::output::{render, Format};

    /// A result as the first release recorded it.
    #[test]
    fn a_result_recorded_earlier_still_reads() {
        let recorded = r#"{"One":[["product_id",{"Text":"PROD01JD5Q3Z8X4N2M7K9P6R3T1V0W"}],["change",{"Int":-2}],["price",{"Cents":1750}],["percentage",{"BasisPoints":1250}],["created_at",{"Time":"2025-06-01T12:00:00.000000Z"}],["reason","Null"],["ok",{"Bool":true}]]}"#;
        let output = decode(recorded).unwrap();
        assert_eq!(
            render(&output, Format::Ndjson).unwrap(),
            "{\"product_id\":\"PROD01JD5Q3Z8X4N2M7K9P6R3T1V0W\",\"change\":-2,\"price\":17.5,\"percentage\":12.5,\"created_at\":\"2025-06-01T12:00:00.000000Z\",\"reason\":null,\"ok\":true}\n"
        );
        assert_eq!(encode(&output).unwrap(), recorded);
    }

    #[test]
    fn a_recorded_output_renders_as_the_original() {
        let at = Instant::parse("at", "2025-06-01T12:00:00.5Z").unwrap();
        let one = |name, cell| Record::from_cells(vec![(name, cell)]);
        let record = Record::from_cells(vec![
            ("id", Cell::Text("PROD1".into())),
            ("price", Cell::Money(Money::from_cents(1749).unwrap())),
            (
                "percent",
                Cell::Percent(Percentage::from_basis_points(1250).unwrap()),
            ),
            ("n", Cell::Int(-3)),
            ("on", Cell::Bool(true)),
            ("at", Cell::Time(at)),
            ("none", Cell::Null),
            ("list", Cell::List(vec![one("v", Cell::Int(1))])),
            ("texts", Cell::Texts(vec!["a".into(), "b".into()])),
            (
                "steps",
                Cell::Steps(vec![("list price".into(), one("v", Cell::Int(2)))]),
            ),
        ]);
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
            for format in [Format::Json, Format::Csv] {
                assert_eq!(render(&again, format), render(&output, format));
            }
        }
    }
}
