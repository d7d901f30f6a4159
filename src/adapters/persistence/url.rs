//! Database URLs: which backend, and where, without ever showing a password.

use std::fmt;
use std::path::PathBuf;

/// Where the catalog lives. `Display` masks the password, so the value can
/// be printed in `db status` and error messages.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Mysql(MysqlUrl),
}

/// A `mysql://user:password@host:port/database` URL, kept whole for the
/// driver and shown only masked.
#[derive(Clone, PartialEq, Eq)]
pub struct MysqlUrl {
    raw: String,
}

impl MysqlUrl {
    /// The URL as given, password included: for the driver only.
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// The password, if the URL has one: used to scrub driver messages.
    pub fn password(&self) -> Option<&str> {
        let rest = self.raw.strip_prefix("mysql://")?;
        let userinfo = &rest[..rest.rfind('@')?];
        userinfo
            .split_once(':')
            .map(|(_, p)| p)
            .filter(|p| !p.is_empty())
    }

    /// The URL with the password replaced by `***`.
    pub fn masked(&self) -> String {
        match self.password() {
            Some(p) => self.raw.replacen(&format!(":{p}@"), ":***@", 1),
            None => self.raw.clone(),
        }
    }
}

impl DatabaseUrl {
    /// `sqlite:PATH`, `sqlite://PATH`, `mysql://…`, or a plain file path.
    pub fn parse(raw: &str) -> Result<DatabaseUrl, String> {
        if raw.trim().is_empty() {
            return Err("invalid --database-url \"\": expected sqlite:PATH, a file path, or mysql://user:password@host:port/database".into());
        }
        if let Some(path) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(
                    "invalid --database-url \"sqlite:\": expected a file path after sqlite:".into(),
                );
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        if raw.starts_with("mysql://") || raw.starts_with("mariadb://") {
            let raw = raw.replacen("mariadb://", "mysql://", 1);
            return Ok(DatabaseUrl::Mysql(MysqlUrl { raw }));
        }
        if let Some((scheme, _)) = raw.split_once("://") {
            return Err(format!(
                "invalid --database-url: the scheme {scheme:?} is not supported; expected sqlite:PATH, a file path, or mysql://user:password@host:port/database"
            ));
        }
        Ok(DatabaseUrl::Sqlite(PathBuf::from(raw)))
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            DatabaseUrl::Mysql(url) => f.write_str(&url.masked()),
        }
    }
}

/// Debug is Display: a stray `{:?}` must not leak the password either.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_each_form() {
        assert_eq!(
            DatabaseUrl::parse("sqlite:/tmp/a.db").unwrap(),
            DatabaseUrl::Sqlite("/tmp/a.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///tmp/a.db").unwrap(),
            DatabaseUrl::Sqlite("/tmp/a.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("shop.db").unwrap(),
            DatabaseUrl::Sqlite("shop.db".into())
        );
        assert!(matches!(
            DatabaseUrl::parse("mysql://u:p@h:3306/d").unwrap(),
            DatabaseUrl::Mysql(_)
        ));
        assert!(DatabaseUrl::parse("postgres://x").is_err());
        assert!(DatabaseUrl::parse("").is_err());
    }

    #[test]
    fn never_shows_the_password() {
        let url = DatabaseUrl::parse("mysql://root:s3cr:et@127.0.0.1:3306/test").unwrap();
        assert_eq!(url.to_string(), "mysql://root:***@127.0.0.1:3306/test");
        assert!(!format!("{url:?}").contains("s3cr"));
        let no_password = DatabaseUrl::parse("mysql://root@127.0.0.1/test").unwrap();
        assert_eq!(no_password.to_string(), "mysql://root@127.0.0.1/test");
    }
}
