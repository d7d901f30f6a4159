//! SQLite's result codes turned into the store's errors, here and nowhere else.

use rusqlite::ffi::{self, ErrorCode};

pub use crate::adapters::persistence::refusals::Context;
use crate::adapters::persistence::refusals::{store_error, Refusal};
use crate::app::ports::StoreError;

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
    if let Some(refusal) = refusal(failure, &detail) {
        return store_error(refusal, context, detail);
    }
    match failure.code {
        ErrorCode::ConstraintViolation => StoreError::Internal(format!("SQLite constraint: {detail}")),
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

/// The refusals every backend shares, in SQLite's codes.
fn refusal(failure: &ffi::Error, detail: &str) -> Option<Refusal> {
    Some(match (failure.code, failure.extended_code) {
        (
            ErrorCode::ConstraintViolation,
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY,
        ) => Refusal::Duplicate,
        (ErrorCode::ConstraintViolation, ffi::SQLITE_CONSTRAINT_FOREIGNKEY) => {
            Refusal::MissingParent
        }
        // The busy handler waited up to the lock timeout and gave up.
        (ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked, _) => Refusal::LockTimeout,
        (ErrorCode::Unknown, _) if detail.contains("already exists") => Refusal::TableExists,
        _ => return None,
    })
}
