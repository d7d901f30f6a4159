//! The unit-of-work mechanics every adapter shares: whether one is open,
//! joining it, and ending it the way its work says.

use std::cell::Cell;

use crate::app::ports::{StoreError, UnitEnd};

/// Whether a unit of work is open on a store's connection: its methods then
/// join the unit's transaction instead of opening and committing their own.
#[derive(Debug, Default)]
pub struct OpenUnit(Cell<bool>);

impl OpenUnit {
    pub fn is_open(&self) -> bool {
        self.0.get()
    }

    /// Runs `work` in a unit: `begin` opens the transaction and `end(commit)`
    /// ends it; a unit opened inside another only runs `work`, the outer one
    /// ends the transaction. A failed `work` ends it without committing and
    /// its error is the one reported.
    pub fn run(
        &self,
        begin: impl FnOnce() -> Result<(), StoreError>,
        end: impl FnOnce(bool) -> Result<(), StoreError>,
        work: &mut dyn FnMut() -> Result<UnitEnd, StoreError>,
    ) -> Result<UnitEnd, StoreError> {
        if self.is_open() {
            return work();
        }
        begin()?;
        self.0.set(true);
        let outcome = work();
        self.0.set(false);
        match outcome {
            Ok(end_as) => {
                end(end_as == UnitEnd::Commit)?;
                Ok(end_as)
            }
            Err(e) => {
                let _ = end(false);
                Err(e)
            }
        }
    }
}
