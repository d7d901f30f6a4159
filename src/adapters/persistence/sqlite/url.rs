//! SQLite URLs: `sqlite:PATH`, `sqlite://PATH`, or a plain file path (any
//! text that names no other scheme).

use std::fmt;
use std::path::PathBuf;

use super::SqliteStore;
use crate::adapters::persistence::backend::{Backend, DatabaseUrl, Location};
use crate::adapters::persistence::StoreSettings;
use crate::app::ports::{CatalogStore, StoreError};

/// The embedded backend.
pub struct SqliteBackend;

impl Backend for SqliteBackend {
    fn parse_url(&self, raw: &str) -> Option<Result<DatabaseUrl, String>> {
        if let Some(path) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Some(Err(
                    "invalid --database-url \"sqlite:\": expected a file path after sqlite:".into(),
                ));
            }
            return Some(Ok(file(PathBuf::from(path))));
        }
        if raw.contains("://") {
            return None;
        }
        Some(Ok(file(PathBuf::from(raw))))
    }

    fn url_forms(&self) -> &'static str {
        "sqlite:PATH, a file path"
    }
}

/// The URL of the database file at `path`.
pub fn file(path: PathBuf) -> DatabaseUrl {
    DatabaseUrl::new(SqliteFile(path))
}

/// A database file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SqliteFile(PathBuf);

impl Location for SqliteFile {
    fn open(&self, settings: &StoreSettings) -> Result<Box<dyn CatalogStore>, StoreError> {
        Ok(Box::new(
            SqliteStore::open(&self.0, settings.lock_timeout, settings.create_missing)?
                .dry_run(settings.dry_run),
        ))
    }
}

impl fmt::Display for SqliteFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sqlite:{}", self.0.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(raw: &str) -> Option<String> {
        SqliteBackend
            .parse_url(raw)
            .map(|url| url.map(|u| u.to_string()).unwrap_or_else(|e| e))
    }

    #[test]
    fn recognises_each_form() {
        assert_eq!(
            parsed("sqlite:/tmp/a.db").as_deref(),
            Some("sqlite:/tmp/a.db")
        );
        assert_eq!(
            parsed("sqlite:///tmp/a.db").as_deref(),
            Some("sqlite:/tmp/a.db")
        );
        assert_eq!(parsed("shop.db").as_deref(), Some("sqlite:shop.db"));
        assert!(parsed("sqlite:").unwrap().contains("expected a file path"));
        assert_eq!(parsed("postgres://x"), None, "another backend's URL");
    }
}
