//! MySQL's error codes turned into the store's errors, here and nowhere else.

use std::io::ErrorKind;

use ::mysql::{DriverError, Error};

use crate::app::ports::StoreError;

/// What the failing call was doing: the same MySQL code means different
/// things to different operations (a duplicate key is a lost race for a stock
/// append but a taken code for a coupon; a lock wait timeout is a retryable
/// conflict for an append but "locked" for anything else).
#[derive(Debug, Clone, Copy)]
pub enum Context<'a> {
    /// Connecting to the server at this (masked) location.
    Connect(&'a str),
    Read,
    Write,
    /// Appending to the ledger of this product.
    AppendEvent(&'a str),
    /// A write whose product must exist and which races other writers of it.
    WriteForProduct(&'a str),
    CreateCoupon(&'a str),
    Migrate,
}

/// Server error numbers milly tells apart (see the MySQL and MariaDB error
/// references; both servers share these).
mod code {
    pub const CON_COUNT: u16 = 1040;
    pub const DB_ACCESS_DENIED: u16 = 1044;
    pub const ACCESS_DENIED: u16 = 1045;
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

pub fn map_err(e: Error, context: Context<'_>, secrets: &Secrets) -> StoreError {
    match &e {
        Error::MySqlError(server) => {
            let detail = secrets.scrub(&format!("{} ({})", server.message, server.code));
            server_error(server.code, detail, context)
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

/// Whether the socket's timeout is behind a driver error: reported as an
/// I/O error, or inside a codec error when it happens during the handshake.
fn timed_out(e: &Error) -> bool {
    let io = match e {
        Error::IoError(io) => Some(io),
        Error::CodecError(codec) => {
            std::error::Error::source(codec).and_then(|s| s.downcast_ref::<std::io::Error>())
        }
        _ => None,
    };
    io.is_some_and(|io| matches!(io.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut))
}

/// The server cannot be reached or stopped answering: no write can be
/// assumed to have happened, and nothing here can fix it.
fn connection_failed(detail: String, context: Context<'_>) -> StoreError {
    StoreError::Unavailable(match context {
        Context::Connect(location) => format!("cannot connect to {location}: {detail}"),
        _ => format!("lost the connection to the MySQL server: {detail}"),
    })
}

fn server_error(number: u16, detail: String, context: Context<'_>) -> StoreError {
    use code::*;
    use Context::*;
    match (number, context) {
        (DUP_ENTRY, AppendEvent(_)) => StoreError::Conflict(detail),
        (DUP_ENTRY, CreateCoupon(code)) => StoreError::DuplicateCouponCode(code.to_owned()),
        // Two `discount set` for one product racing past each other hit the
        // one-active-discount index: a conflict to retry.
        (DUP_ENTRY, WriteForProduct(_)) => StoreError::Conflict(detail),
        // InnoDB rolled the whole transaction back: nothing was written.
        (DEADLOCK, _) => StoreError::Conflict(detail),
        (LOCK_WAIT_TIMEOUT, AppendEvent(_) | WriteForProduct(_)) => StoreError::Conflict(detail),
        (LOCK_WAIT_TIMEOUT, _) => StoreError::Unavailable(
            "the database is locked by another session and stayed locked past the lock timeout (--lock-timeout-ms); try again later".into(),
        ),
        (NO_REFERENCED_ROW | NO_REFERENCED_ROW_2, AppendEvent(id) | WriteForProduct(id)) => {
            StoreError::ProductNotFound(id.to_owned())
        }
        (TABLE_EXISTS, Migrate) => StoreError::Unavailable(format!(
            "cannot create milly's tables: {detail}; the database holds a table that milly has not recorded creating (another application's, or left by an interrupted migration): give milly an empty database, or drop that table if milly created it"
        )),
        (
            ACCESS_DENIED | DB_ACCESS_DENIED | BAD_DB | CON_COUNT | HOST_IS_BLOCKED
            | HOST_NOT_PRIVILEGED | TOO_MANY_USER_CONNECTIONS | USER_LIMIT_REACHED
            | NOT_SUPPORTED_AUTH_MODE | MUST_CHANGE_PASSWORD,
            Connect(location),
        ) => StoreError::Unavailable(format!("cannot connect to {location}: {detail}")),
        (
            ACCESS_DENIED | DB_ACCESS_DENIED | TABLE_ACCESS_DENIED | COLUMN_ACCESS_DENIED
            | SPECIFIC_ACCESS_DENIED,
            _,
        ) => StoreError::Unavailable(format!(
            "the MySQL user lacks a privilege milly needs: {detail}"
        )),
        (SERVER_SHUTDOWN | CONNECTION_KILLED | SERVER_GONE | SERVER_LOST, _) => {
            connection_failed(detail, context)
        }
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
            map_err(server(code::LOCK_WAIT_TIMEOUT, "x"), Context::Write, &none),
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
