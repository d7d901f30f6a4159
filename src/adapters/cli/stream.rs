//! Lists written to stdout row by row as a use case produces them, so that
//! memory stays flat however many rows there are. A reader that goes away
//! (`| head`) is not an error: the command ends quietly.

use std::io::{BufWriter, Stdout};

use super::output::{is_closed_pipe, Format, RowStream};
use super::record::Record;
use crate::app::AppError;

pub struct StdoutRows {
    format: Format,
    columns: &'static [&'static str],
    stream: Option<RowStream<BufWriter<Stdout>>>,
    closed: bool,
    failed: Option<std::io::Error>,
}

impl StdoutRows {
    pub fn new(format: Format, columns: &'static [&'static str]) -> Self {
        StdoutRows {
            format,
            columns,
            stream: None,
            closed: false,
            failed: None,
        }
    }

    /// Writes one row, starting the list (its header, its `[`) on the first.
    /// An error stops the producer; [`StdoutRows::finish`] then tells what
    /// it was.
    pub fn row(&mut self, record: Record) -> Result<(), AppError> {
        if self.closed || self.failed.is_some() {
            return Err(stopped());
        }
        let written = match &mut self.stream {
            Some(stream) => stream.row(record),
            None => RowStream::new(
                BufWriter::with_capacity(64 * 1024, std::io::stdout()),
                self.format,
                self.columns.to_vec(),
            )
            .and_then(|stream| self.stream.insert(stream).row(record)),
        };
        written.map_err(|e| {
            if is_closed_pipe(&e) {
                self.closed = true;
            } else {
                self.failed = Some(e);
            }
            stopped()
        })
    }

    /// Whether the reader went away.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Whether any row was written.
    pub fn started(&self) -> bool {
        self.stream.is_some()
    }

    /// Why the listing failed: the output's own error if writing failed,
    /// `e` otherwise. The list is left unfinished, so that a reader cannot
    /// take it for a whole one.
    pub fn failure_or(self, e: AppError) -> AppError {
        self.failed.map_or(e, output_failed)
    }

    /// Ends the list (an empty one too, so it still has its header or `[]`).
    pub fn finish(mut self) -> Result<(), AppError> {
        if let Some(e) = self.failed.take() {
            return Err(output_failed(e));
        }
        if self.closed {
            return Ok(());
        }
        let stream = match self.stream.take() {
            Some(stream) => Ok(stream),
            None => RowStream::new(
                BufWriter::new(std::io::stdout()),
                self.format,
                self.columns.to_vec(),
            ),
        };
        match stream.and_then(RowStream::finish) {
            Err(e) if is_closed_pipe(&e) => Ok(()),
            other => other.map_err(output_failed),
        }
    }
}

fn stopped() -> AppError {
    AppError::Internal("the output stopped".into())
}

fn output_failed(e: std::io::Error) -> AppError {
    AppError::Internal(format!("cannot write the output: {e}"))
}
