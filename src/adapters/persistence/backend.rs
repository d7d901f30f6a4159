//! Backends as plug-ins: each database folder says which URLs are its own
//! and opens a store on one; the composition root lists the backends
//! (`crate::bootstrap::BACKENDS`), and nothing else needs to know them.

use std::fmt;

use super::StoreSettings;
use crate::app::ports::{CatalogStore, StoreError};

/// A database milly can keep the catalog in.
pub trait Backend: Sync {
    /// Reads `raw` if it is one of this backend's URLs: `None` when it is
    /// not (another backend may take it), an error naming the wrong part
    /// when it is but is malformed.
    fn parse_url(&self, raw: &str) -> Option<Result<DatabaseUrl, String>>;

    /// The URL forms this backend takes, as the error for an unknown URL
    /// lists them (`mysql://user:password@host:port/database`).
    fn url_forms(&self) -> &'static str;
}

/// Where one backend's catalog lives, as its URL said.
pub trait Location: fmt::Display + Send + Sync {
    /// Opens a store there.
    fn open(&self, settings: &StoreSettings) -> Result<Box<dyn CatalogStore>, StoreError>;
}

/// A parsed `--database-url`. `Display` (and `Debug`) mask any password, so
/// the value can be printed in `db status` and error messages.
pub struct DatabaseUrl(Box<dyn Location>);

impl DatabaseUrl {
    pub fn new(location: impl Location + 'static) -> Self {
        DatabaseUrl(Box::new(location))
    }

    /// The first of `backends` that takes `raw` reads it.
    pub fn parse(raw: &str, backends: &[&dyn Backend]) -> Result<DatabaseUrl, String> {
        let expected = || {
            let forms: Vec<&str> = backends.iter().map(|b| b.url_forms()).collect();
            match forms.split_last() {
                Some((last, [])) => (*last).to_owned(),
                Some((last, rest)) => format!("{}, or {last}", rest.join(", ")),
                None => "no backend".to_owned(),
            }
        };
        if raw.trim().is_empty() {
            return Err(format!(
                "invalid --database-url \"\": expected {}",
                expected()
            ));
        }
        if let Some(parsed) = backends.iter().find_map(|b| b.parse_url(raw)) {
            return parsed;
        }
        let scheme = raw.split_once("://").map_or(raw, |(scheme, _)| scheme);
        Err(format!(
            "invalid --database-url: the scheme {scheme:?} is not supported; expected {}",
            expected()
        ))
    }

    /// Opens the store this URL names.
    pub fn open(&self, settings: &StoreSettings) -> Result<Box<dyn CatalogStore>, StoreError> {
        self.0.open(settings)
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Debug is Display: a stray `{:?}` must not leak the password either.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
