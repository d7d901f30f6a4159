//! MySQL and MariaDB URLs: `mysql://user:password@host:port/database?options`
//! (or `mariadb://`), parsed here in full, options included, so that a typo
//! is reported as invalid input naming the wrong part before any connection
//! is tried, never as an unreachable server.

use std::fmt;
use std::path::PathBuf;

use super::MysqlStore;
use crate::adapters::persistence::backend::{Backend, DatabaseUrl, Location};
use crate::adapters::persistence::StoreSettings;
use crate::app::ports::{CatalogStore, StoreError};

/// MySQL, MariaDB and Galera clusters.
pub struct MysqlBackend;

impl Backend for MysqlBackend {
    fn parse_url(&self, raw: &str) -> Option<Result<DatabaseUrl, String>> {
        if !(raw.starts_with("mysql://") || raw.starts_with("mariadb://")) {
            return None;
        }
        let raw = raw.replacen("mariadb://", "mysql://", 1);
        Some(MysqlUrl::parse(raw).map(DatabaseUrl::new))
    }

    fn url_forms(&self) -> &'static str {
        "mysql://user:password@host:port/database"
    }
}

impl Location for MysqlUrl {
    fn open(&self, settings: &StoreSettings) -> Result<Box<dyn CatalogStore>, StoreError> {
        Ok(Box::new(MysqlStore::open(self, settings)?))
    }
}

impl fmt::Display for MysqlUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// How a MySQL connection uses TLS, named as the `mysql` client's
/// `--ssl-mode` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Plaintext only.
    Disabled,
    /// TLS when the server offers it, plaintext otherwise; the certificate
    /// is not checked (it encrypts, it does not authenticate).
    Preferred,
    /// TLS or no connection; the certificate is not checked.
    Required,
    /// TLS with a certificate signed by a trusted CA (`ssl-ca`, or the
    /// public web roots), whatever name it is for.
    VerifyCa,
    /// As `VerifyCa`, and the certificate must name the host of the URL.
    VerifyIdentity,
}

impl SslMode {
    pub const NAMES: &'static str = "disabled, preferred, required, verify_ca, verify_identity";

    fn parse(value: &str) -> Option<SslMode> {
        // The mysql client accepts any case (REQUIRED, VERIFY_CA).
        Some(match value.to_ascii_lowercase().as_str() {
            "disabled" => SslMode::Disabled,
            "preferred" => SslMode::Preferred,
            "required" => SslMode::Required,
            "verify_ca" => SslMode::VerifyCa,
            "verify_identity" => SslMode::VerifyIdentity,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            SslMode::Disabled => "disabled",
            SslMode::Preferred => "preferred",
            SslMode::Required => "required",
            SslMode::VerifyCa => "verify_ca",
            SslMode::VerifyIdentity => "verify_identity",
        }
    }

    /// Whether the server's certificate is checked against a CA.
    pub fn verifies(self) -> bool {
        matches!(self, SslMode::VerifyCa | SslMode::VerifyIdentity)
    }
}

/// The `?name=value` options a MySQL URL may carry; anything else is refused
/// so that a misspelt `ssl-mode` cannot silently leave a connection plaintext.
pub const MYSQL_URL_OPTIONS: &str = "ssl-mode, ssl-ca, socket";

/// A `mysql://user:password@host:port/database?options` URL: its parts, for
/// the driver, and the text as given, shown only masked.
#[derive(Clone, PartialEq, Eq)]
pub struct MysqlUrl {
    raw: String,
    pub host: String,
    pub port: u16,
    pub user: Option<String>,
    /// Percent-decoded.
    pass: Option<String>,
    pub database: String,
    /// A Unix socket to connect through instead of TCP.
    pub socket: Option<String>,
    pub ssl_mode: SslMode,
    /// PEM file of the CA certificates to trust.
    pub ssl_ca: Option<PathBuf>,
}

impl MysqlUrl {
    /// The password as the server knows it: for the driver only.
    pub fn decoded_password(&self) -> Option<&str> {
        self.pass.as_deref()
    }

    /// The password as written in the URL, if it has one: used to scrub
    /// driver messages and to mask the URL.
    pub fn password(&self) -> Option<&str> {
        let rest = self.raw.split_once("://")?.1;
        let authority = rest.split(['/', '?']).next()?;
        let userinfo = &authority[..authority.rfind('@')?];
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

    fn parse(raw: String) -> Result<MysqlUrl, String> {
        let masked = MysqlUrl {
            raw: raw.clone(),
            ..MysqlUrl::empty()
        }
        .masked();
        let bad = |what: String| {
            format!("invalid --database-url {masked}: {what}; expected mysql://user:password@host:port/database[?ssl-mode=...&ssl-ca=PATH]")
        };
        let parsed = url::Url::parse(&raw).map_err(|e| {
            bad(match e {
                url::ParseError::InvalidPort => {
                    "the port is not a number from 1 to 65535".to_owned()
                }
                url::ParseError::EmptyHost => "the host is missing".to_owned(),
                url::ParseError::InvalidIpv6Address | url::ParseError::InvalidIpv4Address => {
                    "the host is not a valid IP address".to_owned()
                }
                url::ParseError::InvalidDomainCharacter => {
                    "the host contains a character a host name cannot have".to_owned()
                }
                other => format!("it is not a valid URL ({other})"),
            })
        })?;
        let host = match parsed.host_str() {
            Some(h) if !h.is_empty() => h.trim_matches(['[', ']']).to_owned(),
            _ => return Err(bad("the host is missing".into())),
        };
        if parsed.port() == Some(0) {
            return Err(bad("the port is not a number from 1 to 65535".into()));
        }
        let decode = |part: &str, what: &str| -> Result<String, String> {
            percent_encoding::percent_decode_str(part)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| bad(format!("the {what} is not valid UTF-8 once decoded")))
        };
        let user = match parsed.username() {
            "" => None,
            u => Some(decode(u, "user name")?),
        };
        let pass = parsed
            .password()
            .map(|p| decode(p, "password"))
            .transpose()?;
        let path = parsed.path().trim_start_matches('/');
        if path.is_empty() {
            return Err(bad(
                "it names no database (add /DATABASE after the host)".into()
            ));
        }
        if path.contains('/') {
            return Err(bad(format!(
                "the database name {path:?} contains '/'; a URL names one database"
            )));
        }
        let database = decode(path, "database name")?;
        let mut url = MysqlUrl {
            raw,
            host,
            port: parsed.port().unwrap_or(3306),
            user,
            pass,
            database,
            ..MysqlUrl::empty()
        };
        let mut mode = None;
        for (name, value) in parsed.query_pairs() {
            let duplicate = || bad(format!("the option {name} is given twice"));
            match name.as_ref() {
                "ssl-mode" => {
                    let parsed = SslMode::parse(&value).ok_or_else(|| {
                        bad(format!("ssl-mode={value} is not one of {}", SslMode::NAMES))
                    })?;
                    if mode.replace(parsed).is_some() {
                        return Err(duplicate());
                    }
                }
                "ssl-ca" | "socket" if value.is_empty() => {
                    return Err(bad(format!("the option {name} needs a path")));
                }
                "ssl-ca" => {
                    if url.ssl_ca.replace(PathBuf::from(&*value)).is_some() {
                        return Err(duplicate());
                    }
                }
                "socket" => {
                    if url.socket.replace(value.into_owned()).is_some() {
                        return Err(duplicate());
                    }
                }
                _ => {
                    return Err(bad(format!(
                        "unknown option {name:?}; the options are {MYSQL_URL_OPTIONS}"
                    )))
                }
            }
        }
        // Like the mysql client: a CA given without a mode means "check the
        // server against it", never a silently unverified connection.
        url.ssl_mode = match (mode, &url.ssl_ca) {
            (Some(mode), _) => mode,
            (None, Some(_)) => SslMode::VerifyCa,
            (None, None) => SslMode::Preferred,
        };
        if url.ssl_ca.is_some() && !url.ssl_mode.verifies() {
            return Err(bad(format!(
                "ssl-ca is only used with ssl-mode=verify_ca or verify_identity, not with ssl-mode={}",
                url.ssl_mode.name()
            )));
        }
        Ok(url)
    }

    fn empty() -> MysqlUrl {
        MysqlUrl {
            raw: String::new(),
            host: String::new(),
            port: 3306,
            user: None,
            pass: None,
            database: String::new(),
            socket: None,
            ssl_mode: SslMode::Preferred,
            ssl_ca: None,
        }
    }
}

impl fmt::Debug for MysqlUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mysql(raw: &str) -> MysqlUrl {
        MysqlUrl::parse(raw.replacen("mariadb://", "mysql://", 1)).unwrap()
    }

    fn parse(raw: &str) -> Result<DatabaseUrl, String> {
        MysqlBackend.parse_url(raw).expect("a MySQL URL")
    }

    #[test]
    fn recognises_each_form() {
        let url = mysql("mysql://u:p%40ss@h:3307/d");
        assert_eq!(
            (url.host.as_str(), url.port, url.database.as_str()),
            ("h", 3307, "d")
        );
        assert_eq!(url.user.as_deref(), Some("u"));
        assert_eq!(url.decoded_password(), Some("p@ss"));
        assert_eq!(url.ssl_mode, SslMode::Preferred);
        assert_eq!(mysql("mariadb://h/d").port, 3306);
        assert!(MysqlBackend.parse_url("postgres://x").is_none());
        assert!(MysqlBackend.parse_url("shop.db").is_none());
    }

    #[test]
    fn reads_the_tls_and_socket_options() {
        let url = mysql("mysql://h/d?ssl-mode=VERIFY_IDENTITY&ssl-ca=/etc/ca.pem");
        assert_eq!(url.ssl_mode, SslMode::VerifyIdentity);
        assert_eq!(url.ssl_ca, Some("/etc/ca.pem".into()));
        assert_eq!(
            mysql("mysql://h/d?ssl-ca=/ca.pem").ssl_mode,
            SslMode::VerifyCa
        );
        assert_eq!(
            mysql("mysql://h/d?ssl-mode=disabled").ssl_mode,
            SslMode::Disabled
        );
        assert_eq!(
            mysql("mysql://h/d?socket=/run/mysqld/mysqld.sock").socket,
            Some("/run/mysqld/mysqld.sock".into())
        );
    }

    #[test]
    fn a_malformed_url_names_the_wrong_part() {
        for (raw, says) in [
            ("mysql://u:pw@h:99999/d", "the port is not a number"),
            ("mysql://u:pw@h:0/d", "the port is not a number"),
            ("mysql://u:pw@h:3306", "names no database"),
            ("mysql://u:pw@h:3306/", "names no database"),
            (
                "mysql://u:pw@h/d?sslmode=required",
                "unknown option \"sslmode\"",
            ),
            ("mysql://u:pw@h/d?ssl-mode=on", "ssl-mode=on is not one of"),
            (
                "mysql://u:pw@h/d?ssl-mode=required&ssl-ca=/x",
                "ssl-ca is only used",
            ),
            ("mysql://u:pw@h/d?ssl-ca=", "ssl-ca needs a path"),
            ("mysql://u:pw@/d", "the host is missing"),
        ] {
            let message = parse(raw).unwrap_err();
            assert!(message.contains(says), "{raw}: {message}");
            assert!(!message.contains("pw"), "{raw}: {message}");
            assert!(!message.contains("ParseError"), "{raw}: {message}");
        }
    }

    #[test]
    fn never_shows_the_password() {
        let url = parse("mysql://root:s3cr:et@127.0.0.1:3306/test").unwrap();
        assert_eq!(url.to_string(), "mysql://root:***@127.0.0.1:3306/test");
        assert!(!format!("{url:?}").contains("s3cr"));
        let no_password = parse("mysql://root@127.0.0.1/test").unwrap();
        assert_eq!(no_password.to_string(), "mysql://root@127.0.0.1/test");
    }
}
