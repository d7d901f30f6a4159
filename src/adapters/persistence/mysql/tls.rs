//! TLS for MySQL connections (rustls, so no system OpenSSL): what each
//! `ssl-mode` asks of the driver, and what the connection ended up using.

use ::mysql::prelude::Queryable;
use ::mysql::{Conn, Row, SslOpts};

use super::url::{MysqlUrl, SslMode};

/// The driver's TLS settings for the URL's mode, or `None` for plaintext.
///
/// `preferred` and `required` encrypt without checking the certificate, as
/// the mysql client does: most servers run with a self-signed one, and these
/// modes protect against eavesdropping, not impersonation. The verifying
/// modes trust `ssl-ca` if given, and the public web roots either way (a
/// managed server's certificate is usually signed by one of them).
pub fn ssl_opts(url: &MysqlUrl) -> Option<SslOpts> {
    let opts = SslOpts::default().with_root_cert_path(url.ssl_ca.clone());
    match url.ssl_mode {
        SslMode::Disabled => None,
        SslMode::Preferred | SslMode::Required => Some(
            opts.with_danger_accept_invalid_certs(true)
                .with_danger_skip_domain_validation(true),
        ),
        SslMode::VerifyCa => Some(opts.with_danger_skip_domain_validation(true)),
        SslMode::VerifyIdentity => Some(opts),
    }
}

/// Fails unless the `ssl-ca` file can be read: the driver would report only
/// "No such file or directory", without saying which file.
pub fn check_ca(url: &MysqlUrl) -> Result<(), String> {
    match &url.ssl_ca {
        Some(path) => std::fs::File::open(path)
            .map(drop)
            .map_err(|e| format!("cannot read the ssl-ca file {}: {e}", path.display())),
        None => Ok(()),
    }
}

/// The session's TLS protocol version (`TLSv1.3`), or `none` when it is
/// plaintext; a socket connection is reported as `none` too, since the
/// driver never encrypts those (the socket never leaves the machine).
pub fn version(conn: &mut Conn) -> ::mysql::Result<String> {
    let row: Option<Row> = conn.query_first("SHOW SESSION STATUS LIKE 'Ssl_version'")?;
    let version = row
        .and_then(|r| r.get_opt::<String, _>(1))
        .and_then(Result::ok)
        .unwrap_or_default();
    Ok(if version.is_empty() {
        "none".to_owned()
    } else {
        version
    })
}
