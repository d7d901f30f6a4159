//! SQLite's result codes turned into the store's errors, here and nowhere else.

use rusqlite::ffi::{self, ErrorCode};

use crate::app::ports::StoreError;

/// What the failing call was doing: the same SQLite code means different
/// things to different operations (a busy database is a retryable conflict
/// for a stock append, but "locked" for anything else).
#[derive(Debug, Clone, Copy)]
pub enum Context<'a> {
    Open,
    Read,
    Write,
    AppendEvent,
    WriteForProduct(&'a str),
    CreateCoupon(&'a str),
    /// Running a migration's SQL.
    Migrate,
}

pub fn map_err(e: rusqlite::Error, context: Context<'_>) -> StoreError {
    let (failure, detail) = match &e {
        rusqlite::Error::SqliteFailure(failure, message) => (
            failure,
            message.clone().unwrap_or_else(|| failure.to_string()),
        ),
        // A statement SQLite could not prepare: its message, without the
        // statement's text (a whole migration script would follow it).
        rusqlite::Error::SqlInputError { error, msg, .. } => (error, msg.clone()),
        _ => return StoreError::Internal(format!("SQLite: {e}")),
    };
    match failure.code {
        // The file holds another application's table of the same name.
        ErrorCode::Unknown if matches!(context, Context::Migrate) && detail.contains("already exists") => {
            StoreError::Unavailable(format!(
                "cannot create milly's tables: {detail}; the database holds a table that milly did not create (another application's?): give milly a database of its own"
            ))
        }
        ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => match context {
            Context::AppendEvent => StoreError::Conflict(detail),
            _ => StoreError::Unavailable(
                "the database is locked by another process and stayed locked past the busy timeout; try again later".into(),
            ),
        },
        ErrorCode::ConstraintViolation => constraint(failure.extended_code, detail, context),
        ErrorCode::NotADatabase => StoreError::Unavailable("the file is not a milly database (not an SQLite database, or encrypted)".into()),
        ErrorCode::DatabaseCorrupt => StoreError::Unavailable(format!("the database file is damaged: {detail}")),
        ErrorCode::ReadOnly => StoreError::Unavailable(format!("the database is read-only (check the permissions of the file and its folder): {detail}")),
        ErrorCode::CannotOpen => StoreError::Unavailable(format!("cannot open the database: {detail}")),
        ErrorCode::DiskFull => StoreError::Unavailable("the disk is full".into()),
        ErrorCode::SystemIoFailure | ErrorCode::PermissionDenied => {
            StoreError::Unavailable(format!("cannot read or write the database: {detail}"))
        }
        _ => StoreError::Internal(format!("SQLite: {detail}")),
    }
}

fn constraint(extended: i32, detail: String, context: Context<'_>) -> StoreError {
    match (extended, context) {
        (
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY,
            Context::AppendEvent,
        ) => StoreError::Conflict(detail),
        (ffi::SQLITE_CONSTRAINT_UNIQUE, Context::CreateCoupon(code)) => {
            StoreError::DuplicateCouponCode(code.to_owned())
        }
        // Two `discount set` for one product racing past each other hit the
        // one-active-discount index: a conflict to retry.
        (ffi::SQLITE_CONSTRAINT_UNIQUE, Context::WriteForProduct(_)) => {
            StoreError::Conflict(detail)
        }
        (ffi::SQLITE_CONSTRAINT_FOREIGNKEY, Context::WriteForProduct(id)) => {
            StoreError::ProductNotFound(id.to_owned())
        }
        _ => StoreError::Internal(format!("SQLite constraint: {detail}")),
    }
}
