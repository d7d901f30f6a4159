//! MySQL's error codes turned into the store's errors, here and nowhere else.

use std::io::ErrorKind;

use ::mysql::{DriverError, Error};

pub use crate::adapters::persistence::refusals::Context;
use crate::adapters::persistence::refusals::{store_error, Refusal};
use crate::app::ports::StoreError;

/// Server error numbers milly tells apart (see the MySQL and MariaDB error
/// references; both servers share these).
pub mod code {
    pub const CON_COUNT: u16 = 1040;
    pub const DB_ACCESS_DENIED: u16 = 1044;
    pub const ACCESS_DENIED: u16 = 1045;
    /// "WSREP has not yet prepared node for application use": a Galera node
    /// outside the primary component (cut off from the cluster's majority)
    /// or still joining.
    pub const WSREP_NOT_READY: u16 = 1047;
    pub const BAD_DB: u16 = 1049;
    pub const TABLE_EXISTS: u16 = 1050;
    pub const SERVER_SHUTDOWN: u16 = 1053;
    pub const DUP_ENTRY: u16 = 1062;
    pub const DISK_FULL: u16 = 1021;
    pub const RECORD_FILE_FULL: u16 = 1114;
    pub const HOST_IS_BLOCKED: u16 = 1129;
    pub const HOST_NOT_PRIVILEGED: u16 = 1130;
    pub const TABLE_ACCESS_DENIED: u16 = 1142;
    pub const COLUMN_ACCESS_DENIED: u16 = 1143;
    pub const NO_SUCH_TABLE: u16 = 1146;
    pub const TOO_MANY_USER_CONNECTIONS: u16 = 1203;
    pub const LOCK_WAIT_TIMEOUT: u16 = 1205;
    pub const DEADLOCK: u16 = 1213;
    pub const NO_REFERENCED_ROW: u16 = 1216;
    pub const USER_LIMIT_REACHED: u16 = 1226;
    pub const SPECIFIC_ACCESS_DENIED: u16 = 1227;
    pub const NOT_SUPPORTED_AUTH_MODE: u16 = 1251;
    pub const READ_ONLY_OPTION: u16 = 1290;
    pub const NO_REFERENCED_ROW_2: u16 = 1452;
    pub const READ_ONLY_TRANSACTION: u16 = 1792;
    pub const MUST_CHANGE_PASSWORD: u16 = 1820;
    pub const READ_ONLY_MODE: u16 = 1836;
    pub const CONNECTION_KILLED: u16 = 1927;
    /// Client-side codes of the C library ("server has gone away", "lost
    /// connection"). This pure-Rust driver reports those as I/O errors, but a
    /// proxy may relay them as server errors.
    pub const SERVER_GONE: u16 = 2006;
    pub const SERVER_LOST: u16 = 2013;
}

/// Text that must never be shown: the password as written in the URL and as
/// the driver decoded it. Messages already name the server by its masked
/// URL; scrubbing driver text as well is the safety net.
pub struct Secrets(Vec<String>);

impl Secrets {
    pub fn new<'a>(passwords: impl IntoIterator<Item = Option<&'a str>>) -> Self {
        let mut secrets: Vec<String> = passwords
            .into_iter()
            .flatten()
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        // Longest first, so a password containing another is hidden whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Secrets(secrets)
    }

    pub fn scrub(&self, text: &str) -> String {
        self.0
            .iter()
            .fold(text.to_owned(), |text, secret| text.replace(secret, "***"))
    }
}

/// Whether the statement failed because a table does not exist yet (an
/// unmigrated database, which `db status` reports as empty).
pub fn is_missing_table(e: &Error) -> bool {
    matches!(e, Error::MySqlError(server) if server.code == code::NO_SUCH_TABLE)
}

/// The error number of a refusal that waiting resolves (a taken key, a
/// deadlock or failed certification, a lock wait that ran out), for the
/// few places that wait for their turn themselves rather than report it.
pub fn refused_with(e: &Error) -> Option<u16> {
    match e {
        Error::MySqlError(server)
            if matches!(
                server.code,
                code::DUP_ENTRY | code::DEADLOCK | code::LOCK_WAIT_TIMEOUT
            ) =>
        {
            Some(server.code)
        }
        _ => None,
    }
}

pub fn map_err(e: Error, context: Context<'_>, secrets: &Secrets) -> StoreError {
    match &e {
        Error::MySqlError(server) => {
            let detail = secrets.scrub(&format!("{} ({})", server.message, server.code));
            server_error(server.code, detail, context)
        }
        _ if tls_failure(&e).is_some() => {
            connection_failed(secrets.scrub(&tls_failure(&e).unwrap_or_default()), context)
        }
        // The socket's read or write timeout ran out.
        _ if timed_out(&e) =>
        {
            connection_failed(
                "no answer from the server in time (is it overloaded, or not a MySQL server?)"
                    .into(),
                context,
            )
        }
        Error::IoError(io) => connection_failed(secrets.scrub(&io.to_string()), context),
        Error::TlsError(tls) => connection_failed(
            secrets.scrub(&format!(
                "cannot set up TLS (does ssl-ca hold PEM certificates?): {tls}"
            )),
            context,
        ),
        Error::CodecError(codec) => connection_failed(secrets.scrub(&codec.to_string()), context),
        Error::DriverError(
            DriverError::Params(_)
            | DriverError::MixedParams
            | DriverError::MismatchedStmtParams(..)
            | DriverError::BulkExecute(_),
        ) => StoreError::Internal(secrets.scrub(&format!("MySQL driver: {e}"))),
        Error::DriverError(driver) => {
            connection_failed(secrets.scrub(&driver.to_string()), context)
        }
        Error::UrlError(url) => StoreError::Unavailable(secrets.scrub(&match context {
            Context::Connect(location) => format!(
                "invalid MySQL URL {location}: {url}; expected mysql://user:password@host:port/database"
            ),
            _ => format!("invalid MySQL URL: {url}"),
        })),
        Error::FromValueError(_) | Error::FromRowError(_) => {
            StoreError::Internal(format!("MySQL: a stored value has an unexpected type: {e}"))
        }
    }
}

/// The I/O error behind a driver error: reported as such, or inside a codec
/// error when it happens during the handshake.
fn io_error(e: &Error) -> Option<&std::io::Error> {
    match e {
        Error::IoError(io) => Some(io),
        Error::CodecError(codec) => {
            std::error::Error::source(codec).and_then(|s| s.downcast_ref::<std::io::Error>())
        }
        _ => None,
    }
}

/// Whether the socket's timeout is behind a driver error.
fn timed_out(e: &Error) -> bool {
    io_error(e).is_some_and(|io| matches!(io.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut))
}

/// What went wrong in the TLS handshake, if that is what failed: rustls
/// reports a refused certificate or a failed negotiation as an I/O error of
/// kind `InvalidData` carrying its own error (the codec's errors never take
/// that form). The certificate checks get a hint at the URL option behind
/// them.
fn tls_failure(e: &Error) -> Option<String> {
    let io = io_error(e).filter(|io| io.kind() == ErrorKind::InvalidData)?;
    let cause = io.get_ref()?.to_string();
    let hint = if cause.contains("UnknownIssuer") || cause.contains("BadSignature") {
        " (the server's certificate is not signed by a CA in ssl-ca, nor by a public one)"
    } else if cause.contains("NotValidForName") || cause.contains("not valid for name") {
        " (the server's certificate does not name the host of the URL; ssl-mode=verify_identity requires it)"
    } else if cause.contains("Expired") || cause.contains("NotValidYet") {
        " (the server's certificate is outside its validity period)"
    } else {
        ""
    };
    Some(format!("the TLS handshake failed: {cause}{hint}"))
}

/// The server cannot be reached or stopped answering, and nothing here can
/// fix it. Once a write or its commit was sent, the server may have applied
/// it before the connection went: the outcome is unknown, and the command
/// line says how to find out.
fn connection_failed(detail: String, context: Context<'_>) -> StoreError {
    use Context::*;
    match context {
        Connect(location) => {
            StoreError::Unavailable(format!("cannot connect to {location}: {detail}"))
        }
        // A write (or its commit) was sent: the server may have applied it
        // before the connection went.
        Write | AppendEvent(_) | WriteForProduct(_) | CreateCoupon(_) => {
            StoreError::OutcomeUnknown(format!(
                "lost the connection to the MySQL server: {detail}; the change may have been applied"
            ))
        }
        // Nothing was sent yet at the start of a unit.
        Read | Migrate | BeginUnit => StoreError::Unavailable(format!(
            "lost the connection to the MySQL server: {detail}"
        )),
    }
}

fn server_error(number: u16, detail: String, context: Context<'_>) -> StoreError {
    use code::*;
    use Context::*;
    let refusal = match number {
        DUP_ENTRY => Some(Refusal::Duplicate),
        NO_REFERENCED_ROW | NO_REFERENCED_ROW_2 => Some(Refusal::MissingParent),
        LOCK_WAIT_TIMEOUT => Some(Refusal::LockTimeout),
        // InnoDB rolled the whole transaction back: nothing was written.
        DEADLOCK => Some(Refusal::RolledBack),
        TABLE_EXISTS => Some(Refusal::TableExists),
        _ => None,
    };
    if let Some(refusal) = refusal {
        return store_error(refusal, context, detail);
    }
    match (number, context) {
        (
            ACCESS_DENIED
            | DB_ACCESS_DENIED
            | BAD_DB
            | CON_COUNT
            | HOST_IS_BLOCKED
            | HOST_NOT_PRIVILEGED
            | TOO_MANY_USER_CONNECTIONS
            | USER_LIMIT_REACHED
            | NOT_SUPPORTED_AUTH_MODE
            | MUST_CHANGE_PASSWORD,
            Connect(location),
        ) => StoreError::Unavailable(format!("cannot connect to {location}: {detail}")),
        (
            ACCESS_DENIED
            | DB_ACCESS_DENIED
            | TABLE_ACCESS_DENIED
            | COLUMN_ACCESS_DENIED
            | SPECIFIC_ACCESS_DENIED,
            _,
        ) => StoreError::Unavailable(format!(
            "the MySQL user lacks a privilege milly needs: {detail}"
        )),
        (SERVER_SHUTDOWN | CONNECTION_KILLED | SERVER_GONE | SERVER_LOST, _) => {
            connection_failed(detail, context)
        }
        (WSREP_NOT_READY, _) => StoreError::Unavailable(format!(
            "the Galera node is not ready: it is not part of the cluster's primary component, or is still joining ({detail}); use another node, or try again once the cluster has recovered"
        )),
        (READ_ONLY_OPTION | READ_ONLY_TRANSACTION | READ_ONLY_MODE, _) => {
            StoreError::Unavailable(format!("the database is read-only: {detail}"))
        }
        (DISK_FULL | RECORD_FILE_FULL, _) => {
            StoreError::Unavailable(format!("the database server is out of space: {detail}"))
        }
        (_, Connect(location)) => {
            StoreError::Unavailable(format!("cannot use {location}: {detail}"))
        }
        _ => StoreError::Internal(format!("MySQL: {detail}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::mysql::MySqlError;

    fn server(number: u16, message: &str) -> Error {
        Error::MySqlError(MySqlError {
            state: "HY000".into(),
            message: message.into(),
            code: number,
        })
    }

    #[test]
    fn races_are_conflicts_and_taken_codes_are_duplicates() {
        let none = Secrets::new([None]);
        let dup = || server(code::DUP_ENTRY, "Duplicate entry");
        assert!(matches!(
            map_err(dup(), Context::AppendEvent("P"), &none),
            StoreError::Conflict(_)
        ));
        assert_eq!(
            map_err(dup(), Context::CreateCoupon("save10"), &none),
            StoreError::DuplicateCouponCode("save10".into())
        );
        assert!(matches!(
            map_err(server(code::DEADLOCK, "x"), Context::Write, &none),
            StoreError::Conflict(_)
        ));
        assert!(matches!(
            map_err(dup(), Context::Write, &none),
            StoreError::Conflict(_)
        ));
        assert!(matches!(
            map_err(server(code::LOCK_WAIT_TIMEOUT, "x"), Context::Write, &none),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            map_err(
                server(code::LOCK_WAIT_TIMEOUT, "x"),
                Context::AppendEvent("P"),
                &none
            ),
            StoreError::Conflict(_)
        ));
        assert!(matches!(
            map_err(
                server(code::LOCK_WAIT_TIMEOUT, "x"),
                Context::WriteForProduct("P1"),
                &none
            ),
            StoreError::Unavailable(_)
        ));
        assert_eq!(
            map_err(
                server(code::NO_REFERENCED_ROW_2, "fk"),
                Context::WriteForProduct("P1"),
                &none
            ),
            StoreError::ProductNotFound("P1".into())
        );
    }

    #[test]
    fn a_galera_node_outside_the_primary_component_is_unavailable() {
        let none = Secrets::new([None]);
        for context in [Context::Read, Context::Write, Context::Migrate] {
            let e = map_err(
                server(code::WSREP_NOT_READY, "WSREP has not yet prepared node"),
                context,
                &none,
            );
            let StoreError::Unavailable(message) = e else {
                panic!("{e:?}")
            };
            assert!(
                message.starts_with("the Galera node is not ready"),
                "{message}"
            );
        }
    }

    #[test]
    fn a_silent_server_is_reported_as_not_answering() {
        let none = Secrets::new([None]);
        for e in [
            Error::IoError(ErrorKind::WouldBlock.into()),
            Error::CodecError(std::io::Error::from(ErrorKind::WouldBlock).into()),
            Error::CodecError(std::io::Error::from(ErrorKind::TimedOut).into()),
        ] {
            let StoreError::Unavailable(message) =
                map_err(e, Context::Connect("mysql://u:***@h/d"), &none)
            else {
                panic!("not unavailable")
            };
            assert!(
                message.starts_with(
                    "cannot connect to mysql://u:***@h/d: no answer from the server in time"
                ),
                "{message}"
            );
        }
    }

    #[test]
    fn never_repeats_the_password() {
        let secrets = Secrets::new([Some("s%40cret"), Some("s@cret")]);
        let e = map_err(
            server(code::ACCESS_DENIED, "no s@cret for you"),
            Context::Connect("mysql://u:***@h/d"),
            &secrets,
        );
        let StoreError::Unavailable(message) = e else {
            panic!("{e:?}")
        };
        assert!(!message.contains("cret"), "{message}");
        assert!(message.contains("mysql://u:***@h/d"), "{message}");
    }
}
