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

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use ::mysql::{Conn, DriverError, Error, OptsBuilder};

use super::errors::{map_err, Context, Secrets};
use super::tls;
use crate::adapters::persistence::url::{MysqlUrl, SslMode};
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

/// Connects as `opts` and the URL's ssl-mode say, giving up after `timeout`.
pub fn within(timeout: Duration, opts: OptsBuilder, url: &MysqlUrl) -> Result<Conn, ConnectError> {
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
            let _ = sender.send(connect(opts, ssl, mode));
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
