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
use crate::domain::Instant;

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

/// The server's clock, in the form milly stores times in.
const SERVER_TIME: &str = "SELECT DATE_FORMAT(UTC_TIMESTAMP(6), '%Y-%m-%dT%H:%i:%s.%fZ')";

/// What the session's first round trip read.
#[derive(Debug, Clone, Copy, Default)]
pub struct Started {
    /// The newest applied schema version, when it was read.
    pub schema_version: Option<i64>,
    /// The server's clock then, and this machine's at the same moment.
    pub clock: Option<ServerClock>,
}

/// The server's clock against this machine's: what "now" is for every row
/// a client records, whatever its own clock says.
#[derive(Debug, Clone, Copy)]
pub struct ServerClock {
    server: Instant,
    local: std::time::SystemTime,
}

impl ServerClock {
    fn read(server: &str) -> Option<ServerClock> {
        Some(ServerClock {
            server: Instant::from_stored(server).ok()?,
            local: std::time::SystemTime::now(),
        })
    }

    /// The server's clock now: as read, plus the time this machine has
    /// counted since (an offset, so it holds whatever the machine's clock
    /// says the date is).
    pub fn now(&self) -> Instant {
        let elapsed = std::time::SystemTime::now()
            .duration_since(self.local)
            .unwrap_or_default();
        let elapsed = chrono::Duration::from_std(elapsed).unwrap_or_default();
        Instant::from_datetime(self.server.as_datetime() + elapsed)
    }
}

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
    /// Returns the newest applied schema version when it was read, and the
    /// server's clock (read in the same trip: the one clock every row is
    /// stamped by).
    fn start(&self, conn: &mut Conn) -> ::mysql::Result<Started> {
        let mariadb = format!(
            "SET {}, SESSION tx_isolation = 'READ-COMMITTED', SESSION wsrep_sync_wait = 1;
             {SERVER_TIME};
             SELECT MAX(version) FROM milly_migrations",
            self.common
        );
        let read = match conn.query_iter(mariadb) {
            Ok(mut results) => {
                let mut started = Started::default();
                while let Some(set) = results.iter() {
                    for row in set {
                        // The clock's row is text with a `T`; the version's
                        // is a number or NULL.
                        match row.map(::mysql::from_row::<Option<String>>) {
                            Ok(Some(text)) if text.contains('T') => {
                                started.clock = ServerClock::read(&text);
                            }
                            Ok(found) => {
                                started.schema_version =
                                    Some(found.and_then(|v| v.parse().ok()).unwrap_or(0));
                            }
                            // No ledger yet (a new database): the check
                            // itself finds out what to do.
                            Err(Error::MySqlError(_)) => return Ok(started),
                            Err(e) => return Err(e),
                        }
                    }
                }
                Ok(started)
            }
            Err(e) => Err(e),
        };
        match read {
            Err(Error::MySqlError(e)) if e.code == UNKNOWN_VARIABLE => {
                conn.query_drop(format!(
                    "SET {}, SESSION transaction_isolation = 'READ-COMMITTED'",
                    self.common
                ))?;
                let clock: Option<String> = conn.query_first(SERVER_TIME)?;
                Ok(Started {
                    schema_version: None,
                    clock: clock.as_deref().and_then(ServerClock::read),
                })
            }
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
) -> Result<(Conn, Started), ConnectError> {
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
                let started = session.start(&mut conn).map_err(ConnectError::Driver)?;
                Ok((conn, started))
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
