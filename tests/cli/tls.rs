//! TLS to MySQL: each `ssl-mode` against a TLS-only and a plaintext-only
//! server, set up by `scripts/tls-mariadb.sh up`, which prints the variables
//! read here:
//!
//! - `MILLY_TEST_TLS_URL`: a server that requires TLS, whose certificate
//!   names 127.0.0.1 and localhost and is signed by `MILLY_TEST_TLS_CA`;
//! - `MILLY_TEST_TLS_OTHER_CA`: an unrelated CA;
//! - `MILLY_TEST_PLAIN_URL`: a server without TLS.
//!
//! Without them these tests return at once, like the MySQL tests without
//! `MILLY_TEST_MYSQL_URL`; with them set, an unreachable server fails them.

use std::io;
use std::net::{TcpListener, TcpStream};
use std::thread;

use mysql::prelude::Queryable;

use crate::harness::{Run, TestDb, MILLY};

struct TlsServers {
    tls_url: String,
    ca: String,
    other_ca: String,
    plain_url: String,
}

fn servers() -> Option<TlsServers> {
    let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
    let tls_url = var("MILLY_TEST_TLS_URL")?;
    Some(TlsServers {
        tls_url,
        ca: var("MILLY_TEST_TLS_CA").expect("MILLY_TEST_TLS_CA goes with MILLY_TEST_TLS_URL"),
        other_ca: var("MILLY_TEST_TLS_OTHER_CA")
            .expect("MILLY_TEST_TLS_OTHER_CA goes with MILLY_TEST_TLS_URL"),
        plain_url: var("MILLY_TEST_PLAIN_URL")
            .expect("MILLY_TEST_PLAIN_URL goes with MILLY_TEST_TLS_URL"),
    })
}

/// A database of its own on one of those servers, dropped afterwards.
struct Database {
    admin: String,
    name: String,
    at: Target,
}

impl Database {
    fn create(server_url: &str) -> Database {
        let name = format!("milly_tls_{:016x}", rand::random::<u64>());
        let admin = server_url.to_owned();
        admin_conn(&admin)
            .query_drop(format!("CREATE DATABASE `{name}`"))
            .unwrap();
        let (server, _) = server_url.rsplit_once('/').unwrap();
        Database {
            at: Target {
                url: format!("{server}/{name}"),
            },
            admin,
            name,
        }
    }

    fn run(&self, options: &str, args: &[&str]) -> Run {
        self.at.run(options, args)
    }

    fn tls_of(&self, options: &str) -> String {
        self.at.tls_of(options)
    }
}

/// A database URL, without options: `mysql://user@host:port/name`.
struct Target {
    url: String,
}

impl Target {
    /// milly against this database, with `options` appended to its URL.
    fn run(&self, options: &str, args: &[&str]) -> Run {
        let home = tempfile::tempdir().unwrap();
        let output = std::process::Command::new(MILLY)
            .env_clear()
            .env("HOME", home.path())
            .env("MILLY_DATABASE_URL", format!("{}{options}", self.url))
            .args(args)
            .output()
            .unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    fn tls_of(&self, options: &str) -> String {
        self.run(options, &["-o", "json", "db", "status"])
            .expect(0)
            .json()["tls"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = admin_conn(&self.admin).query_drop(format!("DROP DATABASE `{}`", self.name));
    }
}

/// The test's own connection: encrypted whenever the server offers it
/// (the TLS server refuses anything else), certificate unchecked.
fn admin_conn(url: &str) -> mysql::Conn {
    let opts = mysql::Opts::from_url(url).unwrap();
    let tls = mysql::Conn::new(
        mysql::OptsBuilder::from_opts(opts.clone()).ssl_opts(
            mysql::SslOpts::default()
                .with_danger_accept_invalid_certs(true)
                .with_danger_skip_domain_validation(true),
        ),
    );
    match tls {
        Ok(conn) => conn,
        Err(_) => mysql::Conn::new(opts).unwrap(),
    }
}

fn expect_refused(run: Run, says: &str) {
    let run = run.expect(6);
    assert!(run.stderr.contains(says), "{run:?}");
    assert!(
        run.stderr.contains("\"code\":\"database_unavailable\""),
        "{run:?}"
    );
}

fn tls_required_and_the_default_connect_encrypted_and_db_status_shows_the_version() {
    let Some(s) = servers() else { return };
    let db = Database::create(&s.tls_url);
    for options in ["?ssl-mode=required", "", "?ssl-mode=preferred"] {
        let tls = db.tls_of(options);
        assert!(tls.starts_with("TLSv1."), "{options}: {tls}");
    }
    // A write and a read over TLS.
    db.run(
        "?ssl-mode=required",
        &["product", "create", "--name", "Safe", "--price", "1"],
    )
    .expect(0);
    let list = db
        .run("?ssl-mode=required", &["-o", "json", "product", "list"])
        .expect(0)
        .json();
    assert_eq!(list[0]["name"], "Safe");
    // In a table too.
    let table = db.run("?ssl-mode=required", &["db", "status"]).expect(0);
    assert!(
        table
            .stdout
            .lines()
            .any(|l| l.contains("tls") && l.contains("TLSv1.")),
        "{table:?}"
    );
}

fn tls_verify_ca_with_the_right_ca_connects_and_with_another_ca_is_exit_6() {
    let Some(s) = servers() else { return };
    let db = Database::create(&s.tls_url);
    let right = format!("?ssl-mode=verify_ca&ssl-ca={}", s.ca);
    assert!(db.tls_of(&right).starts_with("TLSv1."));
    // ssl-ca alone means verify_ca.
    assert!(db
        .tls_of(&format!("?ssl-ca={}", s.ca))
        .starts_with("TLSv1."));
    for options in [
        format!("?ssl-mode=verify_ca&ssl-ca={}", s.other_ca),
        format!("?ssl-ca={}", s.other_ca),
        format!("?ssl-mode=verify_identity&ssl-ca={}", s.other_ca),
        // Without ssl-ca only the public roots are trusted.
        "?ssl-mode=verify_ca".to_owned(),
    ] {
        expect_refused(
            db.run(&options, &["--json", "product", "list"]),
            "the TLS handshake failed",
        );
    }
    assert!(db
        .run(
            &format!("?ssl-ca={}", s.other_ca),
            &["--json", "product", "list"]
        )
        .stderr
        .contains("not signed by a CA in ssl-ca"));
    // Nothing was created by the refused runs.
    assert_eq!(tables(&db), 0);
}

fn tls_verify_identity_checks_the_name_in_the_url() {
    let Some(s) = servers() else { return };
    let db = Database::create(&s.tls_url);
    let options = format!("?ssl-mode=verify_identity&ssl-ca={}", s.ca);
    // The certificate names 127.0.0.1 and localhost.
    assert!(db.tls_of(&options).starts_with("TLSv1."));
    let via_localhost = Target {
        url: db.at.url.replace("127.0.0.1", "localhost"),
    };
    assert!(via_localhost.tls_of(&options).starts_with("TLSv1."));
    // The same server reached as 127.0.0.2, a name the certificate lacks:
    // verify_ca still connects, verify_identity refuses.
    let server = server_of(&db.at.url);
    let elsewhere = Target {
        url: db.at.url.replace(&server, &relay_from_127_0_0_2(&server)),
    };
    assert!(elsewhere
        .tls_of(&format!("?ssl-mode=verify_ca&ssl-ca={}", s.ca))
        .starts_with("TLSv1."));
    expect_refused(
        elsewhere.run(&options, &["--json", "product", "list"]),
        "does not name the host of the URL",
    );
    assert_eq!(
        tables(&db),
        0,
        "db status creates nothing, refused runs nothing"
    );
}

fn tls_required_against_a_plaintext_server_is_exit_6_naming_the_cause() {
    let Some(s) = servers() else { return };
    let db = Database::create(&s.plain_url);
    for mode in ["required", "verify_ca", "verify_identity"] {
        let options = if mode == "required" {
            format!("?ssl-mode={mode}")
        } else {
            format!("?ssl-mode={mode}&ssl-ca={}", s.ca)
        };
        let run = db.run(
            &options,
            &["--json", "product", "create", "--name", "X", "--price", "1"],
        );
        expect_refused(
            run,
            &format!(
                "the server does not offer TLS, and ssl-mode={mode} refuses a plaintext connection"
            ),
        );
    }
    assert_eq!(tables(&db), 0, "nothing reached the server");
}

fn tls_preferred_against_a_plaintext_server_works_in_plaintext() {
    let Some(s) = servers() else { return };
    let db = Database::create(&s.plain_url);
    for options in ["", "?ssl-mode=preferred", "?ssl-mode=disabled"] {
        assert_eq!(db.tls_of(options), "none", "{options}");
    }
    db.run(
        "",
        &["product", "create", "--name", "Plain", "--price", "1"],
    )
    .expect(0);
    // disabled against the TLS-only server: the server refuses plaintext.
    let tls_db = Database::create(&s.tls_url);
    let run = tls_db.run("?ssl-mode=disabled", &["--json", "product", "list"]);
    assert_eq!(run.code, 6, "{run:?}");
}

/// The SQLite backend has no connection: `tls` is null.
fn db_status_of_sqlite_has_a_null_tls() {
    let db = TestDb::sqlite();
    db.run(&["db", "migrate"]).expect(0);
    assert!(db.json(&["db", "status"])["tls"].is_null());
}

fn tables(db: &Database) -> usize {
    let rows: Vec<String> = admin_conn(&db.admin)
        .query(format!("SHOW TABLES FROM `{}`", db.name))
        .unwrap();
    rows.len()
}

fn server_of(url: &str) -> String {
    let rest = url.strip_prefix("mysql://").unwrap();
    let authority = rest.split('/').next().unwrap();
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, h)| h)
        .to_owned()
}

/// Listens on 127.0.0.2 (loopback, but not a name in the certificate) and
/// relays every connection to `upstream`; returns `127.0.0.2:port`.
fn relay_from_127_0_0_2(upstream: &str) -> String {
    let listener = TcpListener::bind("127.0.0.2:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let upstream = upstream.to_owned();
    thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(&upstream) else {
                continue;
            };
            let pipe = |mut from: TcpStream, mut to: TcpStream| {
                thread::spawn(move || {
                    let _ = io::copy(&mut from, &mut to);
                    let _ = to.shutdown(std::net::Shutdown::Write);
                })
            };
            pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
            pipe(server, client);
        }
    });
    address
}

crate::when_set!("MILLY_TEST_TLS_URL": tls_required_and_the_default_connect_encrypted_and_db_status_shows_the_version, tls_verify_ca_with_the_right_ca_connects_and_with_another_ca_is_exit_6, tls_verify_identity_checks_the_name_in_the_url, tls_required_against_a_plaintext_server_is_exit_6_naming_the_cause, tls_preferred_against_a_plaintext_server_works_in_plaintext);

crate::plain_tests!(db_status_of_sqlite_has_a_null_tls);
