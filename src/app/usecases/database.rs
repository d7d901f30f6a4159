use super::Catalog;
use crate::app::error::AppError;
use crate::app::ports::StoreStatus;

impl Catalog<'_> {
    /// Applies pending migrations; returns the versions applied by this call.
    pub fn migrate(&self) -> Result<Vec<i64>, AppError> {
        Ok(self.stores.schema.migrate()?)
    }

    /// What every other command does first: see `CatalogStore::prepare`.
    pub fn prepare(&self) -> Result<Vec<i64>, AppError> {
        Ok(self.stores.schema.prepare()?)
    }

    pub fn database_status(&self) -> Result<StoreStatus, AppError> {
        Ok(self.stores.schema.status()?)
    }

    /// See `CatalogStore::tls_version`.
    pub fn connection_tls(&self) -> Result<Option<String>, AppError> {
        Ok(self.stores.schema.tls_version()?)
    }
}
