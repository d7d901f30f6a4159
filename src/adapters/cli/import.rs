//! `milly import products|coupons|stock`: bulk loading from NDJSON or CSV.
//!
//! This module only reads the file formats, one row at a time so that memory
//! stays flat; the rules are the use case's, the same as for the single-row
//! commands, and the whole file is one transaction.

mod rows;

use std::cell::RefCell;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand, ValueEnum};

use super::output::{Format, Output};
use super::progress::RowProgress;
use super::record::Record;
use super::views::{self, IMPORTED_COUPONS, IMPORTED_ROWS, STOCK_IMPORTED};
use crate::app::usecases::RowSource;
use crate::app::{AppError, Catalog, RowError};
use crate::domain::DomainError;
use rows::Kind;

#[derive(Debug, Clone, Subcommand)]
#[command(defer = true)]
pub enum ImportCommand {
    /// Import products in one transaction. Fields: name, price, description,
    /// stock, stock_changes (further ledger changes: a JSON array, or
    /// "+5;-2" in CSV), discount_percent, discount_from, discount_until
    Products(ImportArgs),
    /// Import coupons in one transaction. Fields: user, percent, valid_to,
    /// valid_from, code
    Coupons(ImportArgs),
    /// Apply stock changes in one transaction, in file order, each checked
    /// against its product's running total. Fields: product_id, change
    /// (e.g. +50 or -20), reason
    Stock(ImportArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// File to read; - reads standard input
    #[arg(default_value = "-")]
    pub(super) file: PathBuf,
    /// Input format [default: told from the first line: NDJSON if it starts
    /// with '{', CSV otherwise]
    #[arg(long, value_enum)]
    pub(super) format: Option<InputFormat>,
    /// Accept an input with no rows (refused by default: an empty file is
    /// most often a failed download)
    #[arg(long)]
    pub(super) allow_empty: bool,
    /// Standard input, read whole for a write under an idempotency key: its
    /// digest is part of the request, and a retried unit reads it again.
    #[arg(skip)]
    spooled: Option<Arc<Vec<u8>>>,
}

impl ImportCommand {
    /// What is imported, as the command names it, and from where.
    pub fn parts(&self) -> (&'static str, &ImportArgs) {
        match self {
            ImportCommand::Products(args) => ("products", args),
            ImportCommand::Coupons(args) => ("coupons", args),
            ImportCommand::Stock(args) => ("stock", args),
        }
    }

    /// Feeds the input to `digest` (part of the request under an
    /// idempotency key). Standard input is kept in memory to be read again.
    pub fn digest_input(&mut self, digest: &mut impl Write) -> Result<(), AppError> {
        let (ImportCommand::Products(args)
        | ImportCommand::Coupons(args)
        | ImportCommand::Stock(args)) = self;
        let mut input = open(&args.file)?;
        let unreadable = |e: std::io::Error| AppError::InvalidRow {
            line: 1,
            source: RowError::Unreadable(format!("cannot read the input: {e}")),
        };
        if args.file.as_os_str() == "-" {
            let mut bytes = Vec::new();
            input.read_to_end(&mut bytes).map_err(unreadable)?;
            digest.write_all(&bytes).map_err(unreadable)?;
            args.spooled = Some(Arc::new(bytes));
        } else {
            std::io::copy(&mut input, digest).map_err(unreadable)?;
        }
        Ok(())
    }

    /// How to see whether an import whose outcome is unknown was applied.
    pub fn how_to_check(&self) -> String {
        "compare the row counts of `milly db status` with those before the import".into()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    /// One JSON object per line
    Ndjson,
    /// A header line naming the fields, then one row per line
    Csv,
}

pub fn run(
    command: ImportCommand,
    catalog: &Catalog<'_>,
    output: Format,
) -> Result<Output, AppError> {
    let (kind, args) = match command {
        ImportCommand::Products(args) => (Kind::Products, args),
        ImportCommand::Coupons(args) => (Kind::Coupons, args),
        ImportCommand::Stock(args) => (Kind::Stock, args),
    };
    // Tables show counts; the script formats one record per created row,
    // kept only for them (and only the last attempt's).
    let keep = !output.is_table();
    if kind == Kind::Stock {
        return stock(catalog, &mut rows_of(&args, kind)?, keep);
    }
    let created = RefCell::new((0, Vec::new()));
    let replayable = args.spooled.is_some() || args.file.as_os_str() != "-";
    let progress = RowProgress::on_stderr(match kind {
        Kind::Products => "importing products",
        Kind::Coupons => "importing coupons",
        Kind::Stock => "importing stock changes",
    });
    let counts = catalog.import(
        &mut |attempt| {
            if attempt > 1 && !replayable {
                return Ok(None);
            }
            rows_of(&args, kind).map(Some)
        },
        &mut |attempt, row| {
            progress.row();
            let mut created = created.borrow_mut();
            if created.0 != attempt {
                *created = (attempt, Vec::new());
            }
            if keep {
                created.1.push(row);
            }
        },
    );
    progress.finish();
    let counts = counts?;
    let created = created.into_inner().1;
    if !keep {
        return Ok(Output::One(Record::of(&views::ImportCounts::of(&counts))));
    }
    let coupons = kind == Kind::Coupons;
    Ok(Output::Many {
        columns: if coupons {
            IMPORTED_COUPONS
        } else {
            IMPORTED_ROWS
        }
        .to_vec(),
        rows: views::records(&created, |row| views::ImportedRow::of(row, coupons)),
    })
}

/// The rows of the input, read from its start.
fn rows_of(args: &ImportArgs, kind: Kind) -> Result<Box<RowSource<'static>>, AppError> {
    let input: Box<dyn Read> = match &args.spooled {
        Some(bytes) => Box::new(std::io::Cursor::new(SharedBytes(bytes.clone()))),
        None => open(&args.file)?,
    };
    let mut reader = BufReader::with_capacity(256 * 1024, input);
    let (found, skipped) = sniff(&mut reader).map_err(|e| AppError::InvalidRow {
        line: 1,
        source: RowError::Unreadable(format!("cannot read the input: {e}")),
    })?;
    let rows: Box<RowSource<'static>> = match (args.format, found) {
        // Nothing but blank lines.
        (_, Sniffed::Nothing) => Box::new(std::iter::empty()),
        (Some(InputFormat::Csv), _) => Box::new(rows::csv(reader, kind, skipped)),
        (None | Some(InputFormat::Ndjson), Sniffed::JsonArray) => {
            return Err(AppError::InvalidRow {
                line: skipped + 1,
                source: RowError::Unreadable(
                    "the input is a JSON array (what `-o json` prints); import reads NDJSON, one object per line: convert it with `jq -c '.[]'`".into(),
                ),
            })
        }
        (Some(InputFormat::Ndjson), _) | (None, Sniffed::Ndjson) => {
            Box::new(rows::ndjson(reader, kind, skipped))
        }
        (None, Sniffed::Csv) => Box::new(rows::csv(reader, kind, skipped)),
    };
    if args.allow_empty {
        return Ok(rows);
    }
    Ok(Box::new(refuse_empty(rows, skipped)))
}

/// The rows, or, when there are none, one refusal: an import of nothing is
/// most often a failed download, which a cron job must not take for
/// success.
fn refuse_empty(
    rows: Box<RowSource<'static>>,
    skipped: u64,
) -> impl Iterator<Item = (u64, Result<crate::app::usecases::ImportRow, RowError>)> {
    let mut rows = rows.peekable();
    let empty = rows.peek().is_none();
    let refusal = empty.then(|| {
        let message = "the input holds no rows (an empty file is most often a failed download); pass --allow-empty to import nothing";
        (skipped.max(1), Err(RowError::Unreadable(message.into())))
    });
    refusal.into_iter().chain(rows)
}

/// Spooled input, shared with the command's copies (one per attempt).
struct SharedBytes(Arc<Vec<u8>>);

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// `import stock`: in a table the counts, otherwise one record per row.
fn stock(catalog: &Catalog<'_>, rows: &mut RowSource<'_>, keep: bool) -> Result<Output, AppError> {
    let mut applied = Vec::new();
    let counts = catalog.import_stock(rows, &mut |line, event| {
        if keep {
            applied.push(Record::of(&views::StockEvent::imported(line, event)));
        }
    })?;
    if !keep {
        return Ok(Output::One(Record::of(&views::StockImportCounts::of(
            &counts,
        ))));
    }
    Ok(Output::Many {
        columns: STOCK_IMPORTED.to_vec(),
        rows: applied,
    })
}

/// The file, or standard input for `-`. FILE is input like any flag: a path
/// that cannot be read, a directory included, is a usage error (exit 2).
fn open(file: &PathBuf) -> Result<Box<dyn Read>, AppError> {
    if file.as_os_str() == "-" {
        return Ok(Box::new(std::io::stdin().lock()));
    }
    let refused = |why: String| {
        AppError::Invalid(DomainError::invalid(
            "FILE",
            file.to_string_lossy(),
            format!("a readable file ({why})"),
        ))
    };
    if file.is_dir() {
        return Err(refused("it is a directory".into()));
    }
    Ok(Box::new(
        File::open(file).map_err(|e| refused(e.to_string()))?,
    ))
}

/// What the first character of an input says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sniffed {
    Nothing,
    Ndjson,
    /// `[`: a JSON array, which is not NDJSON.
    JsonArray,
    Csv,
}

/// Skips a byte-order mark and leading blank space, and tells the format from
/// the first character that is left: `{` starts NDJSON, `[` a JSON array,
/// anything else CSV. Returns the lines skipped too, so that every error
/// still names the line of the file.
fn sniff(reader: &mut impl BufRead) -> std::io::Result<(Sniffed, u64)> {
    let mut skipped = 0;
    let mut start = true;
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok((Sniffed::Nothing, skipped));
        }
        if start && buffer.starts_with(b"\xEF\xBB\xBF") {
            reader.consume(3);
            start = false;
            continue;
        }
        start = false;
        let blank = buffer
            .iter()
            .take_while(|b| b.is_ascii_whitespace())
            .count();
        skipped += buffer[..blank].iter().filter(|&&b| b == b'\n').count() as u64;
        let first = buffer.get(blank).copied();
        reader.consume(blank);
        if let Some(first) = first {
            let format = match first {
                b'{' => Sniffed::Ndjson,
                b'[' => Sniffed::JsonArray,
                _ => Sniffed::Csv,
            };
            return Ok((format, skipped));
        }
    }
}
