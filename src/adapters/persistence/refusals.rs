//! What a database refusal means to the store, written once for every
//! backend.
//!
//! Each adapter classifies its driver's codes into a [`Refusal`] (SQLite's
//! extended result codes, MySQL's error numbers) right where the error
//! happens; this table then decides what the use cases see. The same
//! refusal means different things to different operations, which the
//! [`Context`] tells apart: a duplicate key is a lost race for a ledger
//! append but a taken code for a coupon.

use crate::app::ports::StoreError;

/// What the failing call was doing.
#[derive(Debug, Clone, Copy)]
pub enum Context<'a> {
    /// Opening the database file, or connecting to the server, at this (masked)
    /// location.
    Connect(&'a str),
    Read,
    Write,
    /// Appending to the ledger of this product.
    AppendEvent(&'a str),
    /// A write whose product must exist and which races other writers of it.
    WriteForProduct(&'a str),
    /// Storing a coupon with this code.
    CreateCoupon(&'a str),
    /// Running a migration's SQL.
    Migrate,
    /// Starting a unit of work, which its caller retries as a whole.
    BeginUnit,
}

/// A refusal every backend can report, in the backend's own words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A unique index or primary key already holds the value.
    Duplicate,
    /// A foreign key found no parent row.
    MissingParent,
    /// Another writer held a lock past the lock timeout.
    LockTimeout,
    /// The database rolled the whole transaction back to resolve a conflict
    /// (a deadlock; a failed certification on a Galera cluster).
    RolledBack,
    /// A table a migration creates already exists.
    TableExists,
}

/// The store error for `refusal` during `context`; `detail` is the
/// database's own message, already free of secrets.
pub fn store_error(refusal: Refusal, context: Context<'_>, detail: String) -> StoreError {
    use Context::*;
    use Refusal::*;
    match (refusal, context) {
        // The optimistic ledger: another writer took this version first.
        (Duplicate | LockTimeout, AppendEvent(_)) => StoreError::Conflict(detail),
        // Another writer held the lock a unit takes at its start (SQLite's
        // write lock): contention, which the unit's caller retries within
        // the lock timeout, and reports as a conflict once it runs out, as
        // it would a ledger append that waited on a held product.
        (LockTimeout, BeginUnit) => StoreError::Conflict(detail),
        (Duplicate, CreateCoupon(code)) => StoreError::DuplicateCouponCode(code.to_owned()),
        // Two `discount set` for one product racing past each other hit the
        // one-active-discount index: a conflict to retry.
        (Duplicate, WriteForProduct(_)) => StoreError::Conflict(detail),
        // A product's position taken by a writer on another Galera node (the
        // row lock writers take turns on is local to each node), seen once
        // that writer's change reached this node; ids are random, so a
        // duplicate in a plain write is that race. Rolled back: retry.
        (Duplicate, Write) => StoreError::Conflict(detail),
        // Nothing was written; trying again may succeed (a deadlock, or a
        // Galera certification failure).
        (RolledBack, _) => StoreError::Conflict(detail),
        (LockTimeout, _) => StoreError::Unavailable(
            "the database is locked by another process and stayed locked past the lock timeout (--lock-timeout-ms); try again later".into(),
        ),
        (MissingParent, AppendEvent(id) | WriteForProduct(id)) => {
            StoreError::ProductNotFound(id.to_owned())
        }
        (TableExists, Migrate) => StoreError::Unavailable(format!(
            "cannot create milly's tables: {detail}; the database holds a table that milly has not recorded creating (another application's, or left by an interrupted migration): give milly a database of its own, or drop that table if milly created it"
        )),
        (_, _) => StoreError::Internal(format!("the database refused a write: {detail}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_refusal_means_what_the_operation_makes_it() {
        let detail = || "detail".to_owned();
        assert!(matches!(
            store_error(Refusal::Duplicate, Context::AppendEvent("P"), detail()),
            StoreError::Conflict(_)
        ));
        assert_eq!(
            store_error(
                Refusal::Duplicate,
                Context::CreateCoupon("Save10"),
                detail()
            ),
            StoreError::DuplicateCouponCode("Save10".into())
        );
        assert!(matches!(
            store_error(Refusal::LockTimeout, Context::AppendEvent("P"), detail()),
            StoreError::Conflict(_)
        ));
        assert!(matches!(
            store_error(
                Refusal::LockTimeout,
                Context::WriteForProduct("P"),
                detail()
            ),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            store_error(Refusal::RolledBack, Context::Write, detail()),
            StoreError::Conflict(_)
        ));
        assert_eq!(
            store_error(Refusal::MissingParent, Context::AppendEvent("P1"), detail()),
            StoreError::ProductNotFound("P1".into())
        );
        assert!(matches!(
            store_error(Refusal::MissingParent, Context::Write, detail()),
            StoreError::Internal(_)
        ));
    }
}
