//! Units of work: several port calls committed together or not at all.

use super::StoreError;

/// How a unit of work ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitEnd {
    Commit,
    Rollback,
}

/// One transaction around several port calls, so that a command's writes
/// and its idempotency record commit together or not at all (and a dry
/// run's unit is rolled back like any other write).
pub trait UnitOfWork {
    /// Runs `work` in one transaction that every port method of this store
    /// called meanwhile joins instead of committing on its own, then ends it
    /// as `work` says: committed on `Ok(Commit)`, rolled back on
    /// `Ok(Rollback)` or an error (a method that failed inside the unit,
    /// `Conflict` included, may have left the transaction unusable; the
    /// caller may run the whole unit again). Returns how it ended. A failed
    /// commit wrote nothing, unless the connection was lost while
    /// committing (`OutcomeUnknown`).
    ///
    /// A unit opened inside another joins it: `work` runs, and the outer
    /// unit alone decides how the transaction ends.
    fn unit(
        &self,
        work: &mut dyn FnMut() -> Result<UnitEnd, StoreError>,
    ) -> Result<UnitEnd, StoreError>;
}

/// Runs `work` as one unit of work of `units` and hands back its value:
/// the unit commits when `work` returns `(value, UnitEnd::Commit)` and rolls
/// back when it returns `UnitEnd::Rollback` or fails. The error that ended
/// the unit is the one reported: a rollback over a lost connection changes
/// nothing.
pub fn in_unit<T, E: From<StoreError>>(
    units: &dyn UnitOfWork,
    work: impl FnOnce() -> Result<(T, UnitEnd), E>,
) -> Result<T, E> {
    let mut work = Some(work);
    let mut outcome: Option<Result<T, E>> = None;
    let ended = units.unit(&mut || {
        let work = work
            .take()
            .ok_or_else(|| StoreError::Internal("a unit of work ran its work twice".into()))?;
        match work() {
            Ok((value, end)) => {
                outcome = Some(Ok(value));
                Ok(end)
            }
            Err(e) => {
                outcome = Some(Err(e));
                Ok(UnitEnd::Rollback)
            }
        }
    });
    match (ended, outcome) {
        (_, Some(Err(e))) => Err(e),
        (Err(e), _) => Err(e.into()),
        (Ok(_), Some(Ok(value))) => Ok(value),
        (Ok(_), None) => {
            Err(StoreError::Internal("a unit of work did not run its work".into()).into())
        }
    }
}
