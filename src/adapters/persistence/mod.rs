//! The stores: one adapter per database, chosen by the database URL.

pub mod migrations;
pub mod mysql;
pub mod sqlite;
pub mod url;

use std::time::Duration;

use crate::app::ports::{CatalogStore, StoreError};
pub use url::DatabaseUrl;

/// Connection settings that apply whatever the backend.
#[derive(Debug, Clone, Copy)]
pub struct StoreSettings {
    /// How long to wait for another writer's lock before giving up.
    pub lock_timeout: Duration,
}

/// Opens the store a URL names. Only this function and the composition root
/// know which concrete adapters exist.
pub fn open(
    url: &DatabaseUrl,
    settings: &StoreSettings,
) -> Result<Box<dyn CatalogStore>, StoreError> {
    match url {
        DatabaseUrl::Sqlite(path) => Ok(Box::new(sqlite::SqliteStore::open(
            path,
            settings.lock_timeout,
        )?)),
        DatabaseUrl::Mysql(url) => Ok(Box::new(mysql::MysqlStore::open(url, settings)?)),
    }
}
