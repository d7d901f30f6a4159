//! Connecting within `--connect-timeout-ms`, handshake and TLS included.
//!
//! The driver bounds the TCP connect on its own, but not the handshake as a
//! whole: its read timeout applies to each read, and has to stay long enough
//! for statements that wait on locks, so a server that accepts the
//! connection and then trickles or says nothing would hold milly for as long
//! as the lock timeout allows, per read. Connecting on a helper thread and
//! waiting for it with a deadline bounds everything up to the first
//! statement, whatever the server does. On a timeout the thread is left
//! behind; the process ends with the command a moment later.
//!
//! The session is set up in the same window, in one statement: every round
//! trip here is paid by every command.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use ::mysql::prelude::Queryable;
use ::mysql::{Conn, DriverError, Error, OptsBuilder};

use super::errors::{map_err, Context, Secrets};
use super::tls;
use super::url::{MysqlUrl, SslMode};
use crate::adapters::persistence::StoreSettings;
use crate::app::ports::StoreError;

pub enum ConnectError {
    Driver(Error),
    /// No connection within the connect timeout.
    TimedOut,
    /// The server offers no TLS and the URL's ssl-mode requires it.
    NoTls,
}

impl ConnectError {
    pub fn into_store_error(
        self,
        location: &str,
        url: &MysqlUrl,
        settings: &StoreSettings,
        secrets: &Secrets,
    ) -> StoreError {
        match self {
            ConnectError::Driver(e) => map_err(e, Context::Connect(location), secrets),
            ConnectError::TimedOut => StoreError::Unavailable(format!(
                "cannot connect to {location}: no answer from the server within {} ms (--connect-timeout-ms); is it overloaded, or not a MySQL server?",
                settings.connect_timeout.as_millis()
            )),
            ConnectError::NoTls => StoreError::Unavailable(format!(
                "cannot connect to {location}: the server does not offer TLS, and ssl-mode={} refuses a plaintext connection; enable TLS on the server, or use ssl-mode=preferred to allow plaintext",
                url.ssl_mode.name()
            )),
        }
    }
}

/// The session variables every connection sets.
#[derive(Clone)]
pub struct Session {
    /// Assignments for a `SET` that every server takes.
    pub common: String,
}

/// MySQL's "unknown system variable".
const UNKNOWN_VARIABLE: u16 = 1193;

impl Session {
    /// One round trip on MariaDB: READ COMMITTED through its `tx_isolation`
    /// variable, causal reads on a Galera node (`wsrep_sync_wait`; no
    /// effect elsewhere), so a command run on one node sees what a command
    /// run a moment before on another node committed — a script that
    /// creates a product through one node and adjusts its stock through
    /// the next must not be told the product does not exist — and, in the
    /// same trip, the schema version every command checks. MySQL knows
    /// neither variable: it gets `transaction_isolation`, and the version
    /// is left to the check itself.
    ///
    /// Returns the newest applied schema version when it was read.
    fn start(&self, conn: &mut Conn) -> ::mysql::Result<Option<i64>> {
        let mariadb = format!(
            "SET {}, SESSION tx_isolation = 'READ-COMMITTED', SESSION wsrep_sync_wait = 1;
             SELECT MAX(version) FROM milly_migrations",
            self.common
        );
        let read = match conn.query_iter(mariadb) {
            Ok(mut results) => {
                let mut version = None;
                while let Some(set) = results.iter() {
                    for row in set {
                        match row.map(::mysql::from_row::<Option<i64>>) {
                            Ok(found) => version = Some(found.unwrap_or(0)),
                            // No ledger yet (a new database): the check
                            // itself finds out what to do.
                            Err(Error::MySqlError(_)) => return Ok(None),
                            Err(e) => return Err(e),
                        }
                    }
                }
                Ok(version)
            }
            Err(e) => Err(e),
        };
        match read {
            Err(Error::MySqlError(e)) if e.code == UNKNOWN_VARIABLE => conn
                .query_drop(format!(
                    "SET {}, SESSION transaction_isolation = 'READ-COMMITTED'",
                    self.common
                ))
                .map(|()| None),
            other => other,
        }
    }
}

/// Connects as `opts` and the URL's ssl-mode say and starts the session,
/// giving up after `timeout`. Returns the connection and the schema version
/// read with the session's start, when it was.
pub fn within(
    timeout: Duration,
    opts: OptsBuilder,
    session: Session,
    url: &MysqlUrl,
) -> Result<(Conn, Option<i64>), ConnectError> {
    let mode = url.ssl_mode;
    // The driver never encrypts a Unix socket, which never leaves the
    // machine; asking it to would send a TLS request and then talk plaintext.
    let ssl = if url.socket.is_some() {
        None
    } else {
        tls::ssl_opts(url)
    };
    let (sender, receiver) = mpsc::channel();
    thread::Builder::new()
        .name("mysql-connect".into())
        .spawn(move || {
            let connected = connect(opts, ssl, mode).and_then(|mut conn| {
                let version = session.start(&mut conn).map_err(ConnectError::Driver)?;
                Ok((conn, version))
            });
            let _ = sender.send(connected);
        })
        .map_err(|e| ConnectError::Driver(Error::IoError(e)))?;
    match receiver.recv_timeout(timeout) {
        Ok(result) => result,
        Err(_) => Err(ConnectError::TimedOut),
    }
}

fn connect(
    opts: OptsBuilder,
    ssl: Option<::mysql::SslOpts>,
    mode: SslMode,
) -> Result<Conn, ConnectError> {
    let Some(ssl) = ssl else {
        return Conn::new(opts).map_err(ConnectError::Driver);
    };
    match Conn::new(opts.clone().ssl_opts(ssl)) {
        Ok(conn) => Ok(conn),
        // The server said in its greeting that it has no TLS, before any
        // credentials were sent: `preferred` tries again in plaintext.
        Err(Error::DriverError(DriverError::TlsNotSupported)) if mode == SslMode::Preferred => {
            Conn::new(opts).map_err(ConnectError::Driver)
        }
        Err(Error::DriverError(DriverError::TlsNotSupported)) => Err(ConnectError::NoTls),
        Err(e) => Err(ConnectError::Driver(e)),
    }
}
