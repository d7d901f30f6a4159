//! The one place where failures become exit codes and messages.

use serde::Serialize;

use crate::app::AppError;

/// Exit codes, part of milly's interface (see the README).
pub mod exit {
    pub const OK: u8 = 0;
    pub const INTERNAL: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const NOT_FOUND: u8 = 3;
    pub const REJECTED: u8 = 4;
    pub const CONFLICT: u8 = 5;
    pub const UNAVAILABLE: u8 = 6;
}

/// A failure as the user sees it: exit code, stable code string, message.
#[derive(Debug, Serialize)]
pub struct Failure {
    pub code: &'static str,
    pub exit_code: u8,
    pub message: String,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Self {
        Failure {
            code: "invalid_input",
            exit_code: exit::USAGE,
            message: message.into(),
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Failure {
            code: "internal",
            exit_code: exit::INTERNAL,
            message: message.into(),
        }
    }
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        let (code, exit_code) = classify(&e);
        Failure {
            code,
            exit_code,
            message: e.to_string(),
        }
    }
}

/// The stable code and the exit code of an error.
fn classify(e: &AppError) -> (&'static str, u8) {
    match e {
        AppError::Invalid(_) | AppError::InvalidRow { .. } => ("invalid_input", exit::USAGE),
        AppError::NotFound { .. } | AppError::NotYetRecorded { .. } => {
            ("not_found", exit::NOT_FOUND)
        }
        AppError::Rejected { code, .. } => (code, exit::REJECTED),
        AppError::Conflict { .. } => ("conflict", exit::CONFLICT),
        AppError::Unavailable(_) => ("database_unavailable", exit::UNAVAILABLE),
        AppError::SchemaOutdated(_) => ("schema_outdated", exit::UNAVAILABLE),
        AppError::OutcomeUnknown(_) => ("database_unavailable", exit::UNAVAILABLE),
        AppError::Internal(_) => ("internal", exit::INTERNAL),
        // A row's error is the error's, whatever line it is on.
        AppError::AtLine { error, .. } => classify(error),
    }
}

/// Prints the failure on stderr: `error: …` for people, and also a JSON
/// object when the chosen output format is JSON, for scripts.
pub fn report(failure: &Failure, json: bool) {
    let mut text = format!("error: {}\n", failure.message);
    if json {
        if let Ok(object) = serde_json::to_string(failure) {
            text.push_str(&object);
            text.push('\n');
        }
    }
    to_stderr(&text);
}

/// Writes diagnostics in one `write`, so that the lines of processes sharing
/// a log file (cron, `2>>log`) never interleave mid-line.
pub fn to_stderr(text: &str) {
    use std::io::Write;
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}
