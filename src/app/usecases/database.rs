use super::Catalog;
use crate::app::error::AppError;
use crate::app::ports::StoreStatus;

impl Catalog<'_> {
    /// Applies pending migrations; returns the versions applied by this call.
    pub fn migrate(&self) -> Result<Vec<i64>, AppError> {
        Ok(self.store.migrate()?)
    }

    pub fn database_status(&self) -> Result<StoreStatus, AppError> {
        Ok(self.store.status()?)
    }
}
