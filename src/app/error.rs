//! The application's error type: every way a use case can fail, in the
//! categories the command line turns into exit codes.

use thiserror::Error;

use super::ports::StoreError;
use crate::domain::{DomainError, Instant};

#[derive(Debug, Error, PartialEq, Eq)]
pub enum AppError {
    /// The input can never be right (exit 2).
    #[error(transparent)]
    Invalid(DomainError),

    /// A row of an import file that cannot be read or breaks a rule (exit 2).
    #[error("line {line}: {source}")]
    InvalidRow { line: u64, source: RowError },

    /// A product or coupon that does not exist (exit 3).
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },

    /// A product asked about at a moment before it was recorded: it did not
    /// exist then (exit 3, like one that does not exist at all).
    #[error("{what} {id} did not exist at {at}: it was recorded at {recorded}")]
    NotYetRecorded {
        what: &'static str,
        id: String,
        /// The moment asked about, as it was typed.
        at: String,
        recorded: Instant,
    },

    /// The current state refuses the operation (exit 4). `code` names the
    /// rule for scripts (`insufficient_stock`, `duplicate_coupon_code`, …).
    #[error("{message}")]
    Rejected { code: &'static str, message: String },

    /// Other writers kept winning until the attempts ran out; nothing was
    /// written and running the command again is safe (exit 5).
    #[error("gave up after {attempts} attempts because other writers kept changing the same data; nothing was written, it is safe to run the command again")]
    Conflict { attempts: u32 },

    /// The database cannot be opened, reached or used (exit 6).
    #[error("{0}")]
    Unavailable(String),

    /// The connection was lost after a write was sent, so the change may
    /// have been applied (exit 6).
    #[error("{0}")]
    OutcomeUnknown(String),

    /// The schema is older than this binary's; `db migrate` upgrades it
    /// (exit 6).
    #[error("{0}")]
    SchemaOutdated(String),

    /// A bug or unreadable data (exit 1).
    #[error("internal error: {0}")]
    Internal(String),

    /// `error`, caused by the row of an import file on this line (any exit
    /// code but 2, which is `InvalidRow`'s).
    #[error("line {line}: {error}")]
    AtLine { line: u64, error: Box<AppError> },
}

/// The refusal of a write to an archived product (exit 4).
pub fn archived(id: &str) -> AppError {
    AppError::Rejected {
        code: "product_archived",
        message: format!(
            "product {id} is archived and read-only; `milly product unarchive {id}` makes it writable again"
        ),
    }
}

/// Why a row of an import file was refused.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum RowError {
    /// A value that breaks the same rule as on the command line.
    #[error(transparent)]
    Invalid(#[from] DomainError),
    /// Not a row at all (bad JSON, an unknown field, a wrong number of
    /// columns), in the file reader's words, which name the field.
    #[error("{0}")]
    Unreadable(String),
}

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        let code = match &e {
            DomainError::Invalid { .. } => return AppError::Invalid(e),
            DomainError::InsufficientStock { .. } => "insufficient_stock",
            DomainError::StockOverflow { .. } => "stock_overflow",
        };
        AppError::Rejected {
            code,
            message: e.to_string(),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            // A conflict that reaches here was not retried; the use cases
            // that can conflict wrap their work in `retry::on_conflict`.
            StoreError::Conflict(_) => AppError::Conflict { attempts: 1 },
            StoreError::ProductNotFound(id) => AppError::NotFound { what: "product", id },
            StoreError::ProductArchived(id) => archived(&id),
            StoreError::DuplicateCouponCode(code) => AppError::Rejected {
                code: "duplicate_coupon_code",
                message: format!("coupon code {code} already exists (codes are unique regardless of case); choose another --code"),
            },
            StoreError::Unavailable(m) => AppError::Unavailable(m),
            StoreError::SchemaOutdated(m) => AppError::SchemaOutdated(m),
            StoreError::OutcomeUnknown(m) => AppError::OutcomeUnknown(m),
            StoreError::Internal(m) => AppError::Internal(m),
        }
    }
}
