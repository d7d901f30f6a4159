//! Faults: unusable databases, servers that go away, writers killed mid-flight.
//!
//! Each case must end with the documented exit code, within seconds, and
//! with nothing partial left in the database.

use std::io;
use std::net::{Shutdown, TcpListener, TcpStream};
#[cfg(unix)]
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::harness::{mysql_admin_url, Backend, Run, TestDb, MILLY, NOW};
use crate::{on_every_backend, on_mysql, plain_tests};

/// How long a failure that is meant to be quick may take, with room for a
/// loaded CI machine running other tests at the same time.
const QUICKLY: Duration = Duration::from_secs(5);

on_every_backend!(
    a_writer_killed_at_random_moments_leaves_the_ledger_intact,
    a_database_holding_another_applications_tables_is_refused_with_exit_6,
);

plain_tests!(
    a_database_in_a_missing_folder_fails_every_command_with_exit_6_and_creates_nothing,
    #[cfg(unix)]
    a_read_only_database_file_serves_reads_and_refuses_writes_with_exit_6,
    #[cfg(unix)]
    a_read_only_folder_refuses_a_new_database_and_every_write_with_exit_6,
    a_file_of_random_bytes_is_refused_with_exit_6_and_left_untouched,
    a_truncated_database_is_refused_with_exit_6_and_left_untouched,
    a_sqlite_database_locked_past_the_busy_timeout_refuses_writes_with_exit_6_and_serves_reads,
);

on_mysql!(
    mysql_down_wrong_password_and_unknown_database_are_exit_6_within_seconds,
    mysql_server_gone_in_the_middle_of_a_run_of_commands_fails_them_and_later_ones_succeed,
    mysql_connection_cut_inside_a_transaction_is_exit_6_and_writes_nothing,
);

// ---------------------------------------------------------------------------
// Helpers shared with security.rs

/// Runs the binary with a clean environment like `TestDb::command`, but
/// against `url`, and measures how long it took.
pub fn run_against(db: &TestDb, url: &str, args: &[&str]) -> (Run, Duration) {
    let mut cmd = db.command();
    cmd.env("MILLY_DATABASE_URL", url).args(args);
    timed(cmd)
}

fn timed(mut cmd: Command) -> (Run, Duration) {
    let started = Instant::now();
    let output = cmd.output().unwrap();
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    (run, started.elapsed())
}

/// `host:port` of the MySQL server the tests use.
pub fn mysql_server(admin_url: &str) -> String {
    let rest = admin_url.strip_prefix("mysql://").expect("a mysql:// URL");
    let authority = rest.split('/').next().unwrap();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:3306")
    }
}

/// The database name of a MySQL test database.
pub fn database_name(db: &TestDb) -> &str {
    db.url.rsplit_once('/').unwrap().1
}

/// `mysql://[user[:password]@]server/database`.
pub fn mysql_url(user: &str, password: Option<&str>, server: &str, database: &str) -> String {
    match password {
        Some(p) => format!("mysql://{user}:{p}@{server}/{database}"),
        None => format!("mysql://{user}@{server}/{database}"),
    }
}

/// The user part of the admin URL (`root`), with its password if any.
fn admin_userinfo(admin_url: &str) -> (String, Option<String>) {
    let rest = admin_url.strip_prefix("mysql://").unwrap();
    let authority = rest.split('/').next().unwrap();
    match authority.rsplit_once('@') {
        Some((userinfo, _)) => match userinfo.split_once(':') {
            Some((u, p)) => (u.to_owned(), Some(p.to_owned())),
            None => (userinfo.to_owned(), None),
        },
        None => ("root".to_owned(), None),
    }
}

/// The test database's URL, reaching the server through `server` instead.
pub fn admin_url_via(db: &TestDb, server: &str) -> String {
    let (user, password) = admin_userinfo(&mysql_admin_url().unwrap());
    mysql_url(&user, password.as_deref(), server, database_name(db))
}

pub fn admin_conn(url: &str) -> mysql::Conn {
    mysql::Conn::new(mysql::Opts::from_url(url).unwrap()).unwrap()
}

/// A MySQL account of its own with a distinctive password, allowed to use
/// one test database; dropped with the test.
pub struct MysqlUser {
    pub name: String,
    /// The password as the server knows it.
    pub password: String,
    /// The password as written in a URL (`@` percent-encoded).
    pub password_in_url: String,
    /// A random part of the password: if any form of the password were
    /// printed, this would be in the output.
    pub marker: String,
    admin_url: String,
}

impl MysqlUser {
    pub fn create(db: &TestDb) -> MysqlUser {
        use mysql::prelude::Queryable;
        let admin_url = mysql_admin_url().unwrap();
        let name = format!("milly_t_{:012x}", rand::random::<u64>() >> 16);
        let marker = format!("{:016x}", rand::random::<u64>());
        // An `@` makes the URL form differ from the real password.
        let password = format!("Pw@{marker}!");
        let password_in_url = format!("Pw%40{marker}!");
        let mut conn = admin_conn(&admin_url);
        conn.exec_drop(
            // (Not a placeholder: MariaDB takes none there; the password
            // is letters, digits, `@` and `!`.)
            format!("CREATE USER '{name}'@'%' IDENTIFIED BY '{password}'"),
            (),
        )
        .unwrap();
        let user = MysqlUser {
            name,
            password,
            password_in_url,
            marker,
            admin_url,
        };
        conn.query_drop(format!(
            "GRANT ALL PRIVILEGES ON `{}`.* TO '{}'@'%'",
            database_name(db),
            user.name
        ))
        .unwrap();
        user
    }

    /// This user's URL for the test database, through `server`.
    pub fn url(&self, server: &str, database: &str) -> String {
        mysql_url(&self.name, Some(&self.password_in_url), server, database)
    }
}

impl Drop for MysqlUser {
    fn drop(&mut self) {
        use mysql::prelude::Queryable;
        if let Ok(mut conn) = mysql::Conn::new(mysql::Opts::from_url(&self.admin_url).unwrap()) {
            let _ = conn.query_drop(format!("DROP USER IF EXISTS '{}'@'%'", self.name));
        }
    }
}

/// A TCP proxy between milly and the MySQL server, on a local port, that
/// can be stopped (listener and every connection closed, as when a server
/// goes away) and started again on the same port.
pub struct Proxy {
    pub port: u16,
    upstream: String,
    running: Option<Running>,
}

struct Running {
    stop: Arc<AtomicBool>,
    accepter: JoinHandle<()>,
    streams: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    pub fn start(upstream: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut proxy = Proxy {
            port,
            upstream: upstream.to_owned(),
            running: None,
        };
        proxy.serve(listener);
        proxy
    }

    /// `127.0.0.1:port`, to put in a URL.
    pub fn server(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Starts again on the same port (std sets SO_REUSEADDR on Unix).
    pub fn restart(&mut self) {
        assert!(self.running.is_none(), "the proxy is already running");
        // The kernel may have lent the port to an outgoing connection in the
        // meantime: wait for it to end.
        let deadline = Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", self.port)) {
                Ok(listener) => break listener,
                Err(e) if Instant::now() < deadline => {
                    assert_eq!(e.kind(), io::ErrorKind::AddrInUse, "{e}");
                    thread::sleep(Duration::from_millis(20));
                }
                Err(e) => panic!("cannot listen on port {} again: {e}", self.port),
            }
        };
        self.serve(listener);
    }

    /// Closes the listener and every connection it relays.
    pub fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop.store(true, Ordering::SeqCst);
            // The listener is dropped when the accept loop ends.
            running.accepter.join().unwrap();
            for stream in running.streams.lock().unwrap().drain(..) {
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
    }

    fn serve(&mut self, listener: TcpListener) {
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let streams = Arc::new(Mutex::new(Vec::new()));
        let accepter = {
            let (stop, streams, upstream) = (stop.clone(), streams.clone(), self.upstream.clone());
            thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((client, _)) => relay(client, &upstream, &streams),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            thread::sleep(Duration::from_millis(2));
                        }
                        Err(_) => thread::sleep(Duration::from_millis(2)),
                    }
                }
            })
        };
        self.running = Some(Running {
            stop,
            accepter,
            streams,
        });
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Pipes bytes both ways between a client and a new server connection.
fn relay(client: TcpStream, upstream: &str, streams: &Mutex<Vec<TcpStream>>) {
    let Ok(server) = TcpStream::connect(upstream) else {
        return;
    };
    client.set_nonblocking(false).unwrap();
    let mut all = streams.lock().unwrap();
    all.push(client.try_clone().unwrap());
    all.push(server.try_clone().unwrap());
    drop(all);
    for (mut from, mut to) in [
        (client.try_clone().unwrap(), server.try_clone().unwrap()),
        (server, client),
    ] {
        thread::spawn(move || {
            let _ = io::copy(&mut from, &mut to);
            let _ = from.shutdown(Shutdown::Both);
            let _ = to.shutdown(Shutdown::Both);
        });
    }
}

/// A local port with nothing listening on it.
pub fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Waits until a session on `database` runs a statement that starts with
/// `statement` (and so, with the lock it needs held, waits for it), failing
/// with the child's output if the child ended first.
pub fn wait_for_statement(
    admin: &mut mysql::Conn,
    database: &str,
    statement: &str,
    child: &mut Child,
) {
    use mysql::prelude::Queryable;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let running: Option<i64> = admin
            .exec_first(
                "SELECT count(*) FROM information_schema.PROCESSLIST
                  WHERE DB = ? AND COMMAND = 'Query' AND INFO LIKE CONCAT(?, '%')",
                (database, statement),
            )
            .unwrap();
        if running.unwrap_or(0) > 0 {
            return;
        }
        if child.try_wait().unwrap().is_some() {
            let mut stderr = String::new();
            io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
            panic!("milly ended before reaching the held lock: {stderr}");
        }
        assert!(
            Instant::now() < deadline,
            "milly never reached the held lock"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

/// Waits for a child for at most `limit`, killing it (and failing) if it
/// takes longer.
pub fn wait_with_limit(mut child: Child, limit: Duration) -> (Run, Duration) {
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            let output = child.wait_with_output().unwrap();
            let run = Run {
                code: output.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            };
            return (run, started.elapsed());
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("milly still running after {limit:?}");
        }
        thread::sleep(Duration::from_millis(10));
    }
}

// ---------------------------------------------------------------------------
// SQLite: files that cannot be used

/// Every kind of command, given a product id that may or may not exist.
fn every_kind_of_command(id: &str) -> Vec<Vec<&str>> {
    vec![
        vec![
            "product", "create", "--name", "Ghost", "--price", "1", "--stock", "5",
        ],
        vec!["stock", "adjust", id, "--change", "+1"],
        vec!["discount", "set", id, "--percent", "10"],
        vec![
            "coupon",
            "create",
            "--user",
            "u1",
            "--percent",
            "5",
            "--valid-to",
            "2030-01-01",
            "--code",
            "GHOST1",
        ],
        vec!["coupon", "deactivate", "KEPT1"],
        vec!["product", "list"],
        vec!["product", "show", id],
        vec!["stock", "history", id],
        vec!["db", "migrate"],
        vec!["db", "status"],
    ]
}

const SOME_ID: &str = "PROD01JD5Q3Z8X4N2M7K9P6R3T1V0W";

fn a_database_in_a_missing_folder_fails_every_command_with_exit_6_and_creates_nothing() {
    let db = TestDb::sqlite();
    let missing = db.home.path().join("missing");
    let url = format!("sqlite:{}", missing.join("deeper/milly.db").display());
    for args in every_kind_of_command(SOME_ID) {
        let mut all = vec!["--json"];
        all.extend(&args);
        let (run, took) = run_against(&db, &url, &all);
        let run = run.expect(6);
        assert!(took < QUICKLY, "{args:?} took {took:?}");
        // Writes try to create the file; reads do not even try.
        let expected = if creates_the_database(&args) {
            format!(
                "error: cannot create the database file {}/deeper/milly.db: No such file or directory",
                missing.display()
            )
        } else {
            format!(
                "error: the database file {}/deeper/milly.db does not exist",
                missing.display()
            )
        };
        assert!(run.stderr.starts_with(&expected), "{run:?}");
        assert!(
            run.stderr.contains("\"code\":\"database_unavailable\""),
            "{run:?}"
        );
        assert!(run.stdout.is_empty(), "{run:?}");
    }
    assert!(
        !missing.exists(),
        "milly creates only its own default folder"
    );
}

/// Whether the tests run as root, where file permissions are not enforced.
#[cfg(unix)]
fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").unwrap().uid() == 0
}

/// Runs milly as an unprivileged user (`nobody` when the tests run as root,
/// where permissions would not be enforced; the current user otherwise).
#[cfg(unix)]
fn run_unprivileged(db: &TestDb, url: &str, args: &[&str]) -> Run {
    let mut cmd = if running_as_root() {
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", MILLY]);
        cmd
    } else {
        Command::new(MILLY)
    };
    cmd.env_clear()
        .env("HOME", db.home.path())
        .env("MILLY_DATABASE_URL", url)
        .env("MILLY_NOW", NOW)
        .stdin(Stdio::null())
        .args(args);
    let (run, took) = timed(cmd);
    assert!(took < QUICKLY, "{args:?} took {took:?}");
    assert!(
        !run.stderr.contains("setpriv"),
        "cannot run milly as nobody (is {MILLY} readable by others?): {run:?}"
    );
    run
}

#[cfg(unix)]
fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Gives the test's folder back to its owner, so it can be removed.
#[cfg(unix)]
struct RestoreMode<'a>(&'a Path);

#[cfg(unix)]
impl Drop for RestoreMode<'_> {
    fn drop(&mut self) {
        let _ = std::fs::set_permissions(self.0, std::fs::Permissions::from_mode(0o700));
    }
}

/// A database with one product, a discount and a coupon, made by this user.
fn populated(db: &TestDb) -> String {
    let id = db.product("Kept", "10", "7");
    db.run(&["discount", "set", &id, "--percent", "10"])
        .expect(0);
    db.run(&[
        "coupon",
        "create",
        "--user",
        "u1",
        "--percent",
        "5",
        "--valid-to",
        "2030-01-01",
        "--code",
        "KEPT1",
    ])
    .expect(0);
    id
}

/// The commands that create a missing SQLite file: the writes and `db migrate`.
fn creates_the_database(args: &[&str]) -> bool {
    is_write(args) || args[..2] == ["db", "migrate"]
}

fn is_write(args: &[&str]) -> bool {
    matches!(
        args[..2],
        ["product", "create"]
            | ["stock", "adjust"]
            | ["discount", "set"]
            | ["coupon", "create"]
            | ["coupon", "deactivate"]
    )
}

#[cfg(unix)]
fn a_read_only_database_file_serves_reads_and_refuses_writes_with_exit_6() {
    let db = TestDb::sqlite();
    let id = populated(&db);
    let path = db.sqlite_path();
    let before = std::fs::read(&path).unwrap();
    let counts = db.counts();
    // The folder is writable (so SQLite can make its shared-memory file), the
    // database file is not.
    let _restore = RestoreMode(db.home.path());
    chmod(db.home.path(), 0o1777);
    chmod(&path, 0o444);
    let mut writes = 0;
    for args in every_kind_of_command(&id) {
        let run = run_unprivileged(&db, &db.url, &args);
        if is_write(&args) {
            writes += 1;
            let run = run.expect(6);
            assert!(
                run.stderr.starts_with("error: the database is read-only"),
                "{args:?}: {run:?}"
            );
            assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
        } else {
            run.expect(0);
        }
    }
    assert_eq!(writes, 5);
    chmod(&path, 0o600);
    assert_eq!(std::fs::read(&path).unwrap(), before, "nothing written");
    assert_eq!(db.counts(), counts);
    assert_eq!(db.query_strings("PRAGMA integrity_check"), ["ok"]);
}

#[cfg(unix)]
fn a_read_only_folder_refuses_a_new_database_and_every_write_with_exit_6() {
    let db = TestDb::sqlite();
    let id = populated(&db);
    let path = db.sqlite_path();
    let before = std::fs::read(&path).unwrap();
    let counts = db.counts();
    let _restore = RestoreMode(db.home.path());
    chmod(db.home.path(), 0o555);
    chmod(&path, 0o444);

    // A new database cannot be created there.
    let new = db.home.path().join("new.db");
    let new_url = format!("sqlite:{}", new.display());
    let run = run_unprivileged(&db, &new_url, &["product", "list"]).expect(6);
    assert!(
        run.stderr.starts_with(&format!(
            "error: the database file {} does not exist",
            new.display()
        )),
        "{run:?}"
    );
    let write = ["product", "create", "--name", "Ghost", "--price", "1"];
    let run = run_unprivileged(&db, &new_url, &write).expect(6);
    assert_eq!(
        run.stderr.trim_end(),
        format!(
            "error: cannot create the database file {}: Permission denied (os error 13)",
            new.display()
        ),
        "{run:?}"
    );
    assert!(!new.exists());

    // The existing one: writes are refused. Reads may work or not (SQLite
    // cannot make its WAL index in a read-only folder), but either way they
    // are not a crash: success, or exit 6 with a message that says why.
    for args in every_kind_of_command(&id) {
        let run = run_unprivileged(&db, &db.url, &args);
        if is_write(&args) || run.code != 0 {
            let run = run.expect(6);
            assert!(
                run.stderr.starts_with("error: the database is read-only")
                    || run.stderr.starts_with("error: cannot open the database"),
                "{args:?}: {run:?}"
            );
        }
    }
    chmod(db.home.path(), 0o700);
    chmod(&path, 0o600);
    assert_eq!(std::fs::read(&path).unwrap(), before, "nothing written");
    assert_eq!(db.counts(), counts);
}

fn a_file_of_random_bytes_is_refused_with_exit_6_and_left_untouched() {
    let db = TestDb::sqlite();
    let garbage: Vec<u8> = (0..64 * 1024).map(|_| rand::random::<u8>()).collect();
    std::fs::write(db.sqlite_path(), &garbage).unwrap();
    for args in every_kind_of_command(SOME_ID) {
        let mut all = vec!["--json"];
        all.extend(&args);
        let (run, took) = run_against(&db, &db.url, &all);
        let run = run.expect(6);
        assert!(took < QUICKLY, "{args:?} took {took:?}");
        assert!(
            run.stderr
                .starts_with("error: the file is not a milly database"),
            "{run:?}"
        );
        assert!(
            run.stderr.contains("\"code\":\"database_unavailable\""),
            "{run:?}"
        );
    }
    assert_eq!(
        std::fs::read(db.sqlite_path()).unwrap(),
        garbage,
        "the file is never overwritten"
    );
}

fn a_truncated_database_is_refused_with_exit_6_and_left_untouched() {
    let db = TestDb::sqlite();
    // Enough products for a database of many pages.
    let file = db.home.path().join("products.ndjson");
    let lines: String = (1..=200)
        .map(|i| {
            format!(
                "{{\"name\":\"Product {i}\",\"price\":\"{i}.50\",\"description\":\"{}\",\"stock\":{i}}}\n",
                "x".repeat(300)
            )
        })
        .collect();
    std::fs::write(&file, lines).unwrap();
    db.run(&["import", "products", file.to_str().unwrap()])
        .expect(0);
    let id = db.json(&["product", "list", "--page-size", "1"])[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let whole = std::fs::read(db.sqlite_path()).unwrap();
    assert!(whole.len() > 100_000, "{} bytes", whole.len());
    assert!(!Path::new(&format!("{}-wal", db.sqlite_path().display())).exists());

    let mut cases = 0;
    for keep in [whole.len() / 2 + 100, whole.len() / 10, 4096, 50] {
        std::fs::write(db.sqlite_path(), &whole[..keep]).unwrap();
        for args in every_kind_of_command(&id) {
            let mut all = vec!["--json"];
            all.extend(&args);
            let (run, took) = run_against(&db, &db.url, &all);
            let run = run.expect(6);
            cases += 1;
            assert!(took < QUICKLY, "{args:?} took {took:?}");
            assert!(
                run.stderr
                    .starts_with("error: the database file is damaged")
                    || run
                        .stderr
                        .starts_with("error: the file is not a milly database"),
                "{keep} bytes, {args:?}: {run:?}"
            );
            assert_eq!(run.stderr.lines().count(), 2, "{run:?}");
        }
        assert_eq!(
            std::fs::read(db.sqlite_path()).unwrap(),
            &whole[..keep],
            "a damaged file is never written to"
        );
    }
    println!("truncated database: {cases} commands refused");
}

fn a_sqlite_database_locked_past_the_busy_timeout_refuses_writes_with_exit_6_and_serves_reads() {
    let db = TestDb::sqlite();
    let id = populated(&db);
    let counts = db.counts();
    let holder = rusqlite::Connection::open(db.sqlite_path()).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    for args in every_kind_of_command(&id) {
        if args[..2] == ["stock", "adjust"] {
            // A conflict to retry, not "unavailable": see exit_codes.rs.
            continue;
        }
        let mut all = vec!["--json", "--lock-timeout-ms", "200"];
        all.extend(&args);
        let (run, took) = run_against(&db, &db.url, &all);
        assert!(took < QUICKLY, "{args:?} took {took:?}");
        if is_write(&args) {
            let run = run.expect(6);
            assert!(
                run.stderr.starts_with(
                    "error: the database is locked by another process and stayed locked past the lock timeout (--lock-timeout-ms)"
                ),
                "{run:?}"
            );
            assert!(
                run.stderr.contains("\"code\":\"database_unavailable\""),
                "{run:?}"
            );
        } else {
            // WAL: readers never wait for the writer.
            run.expect(0);
        }
    }
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    assert_eq!(db.counts(), counts, "nothing written");
    assert_eq!(
        db.json(&["stock", "history", &id])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Once the lock is gone, writes work again.
    db.product("After", "1", "1");
}

// ---------------------------------------------------------------------------
// Both backends

/// A database that already holds another application's `products` table:
/// milly must refuse it (exit 6, one line saying why) and leave that table
/// as it was.
fn a_database_holding_another_applications_tables_is_refused_with_exit_6(db: &TestDb) {
    db.execute("CREATE TABLE products (sku VARCHAR(20), label VARCHAR(50))");
    db.execute("INSERT INTO products VALUES ('A-1', 'theirs')");
    for args in [
        vec!["product", "list"],
        vec!["product", "create", "--name", "Mine", "--price", "1"],
        vec!["db", "migrate"],
    ] {
        let mut all = vec!["--json"];
        all.extend(&args);
        let run = db.run(&all).expect(6);
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(lines.len(), 2, "one line, then the JSON object: {run:?}");
        assert!(
            lines[0].starts_with("error: cannot create milly's tables"),
            "{run:?}"
        );
        assert!(lines[0].contains("products"), "{run:?}");
        assert!(
            lines[1].contains("\"code\":\"database_unavailable\""),
            "{run:?}"
        );
    }
    assert_eq!(
        db.query_strings("SELECT label FROM products"),
        ["theirs"],
        "their table is untouched"
    );
    // `db status` still says what it found.
    db.run(&["db", "status"]).expect(0);
}

/// Kill rounds run for this long on each backend.
const KILLING: Duration = Duration::from_secs(3);
const STEADY_WORKERS: usize = 3;

/// Writers killed with SIGKILL at random moments, over and over, while other
/// processes keep adjusting the same product: every one of those succeeds,
/// and afterwards the ledger is intact.
fn a_writer_killed_at_random_moments_leaves_the_ledger_intact(db: &TestDb) {
    let id = db.product("Contended", "1", "1000");
    let stop = AtomicBool::new(false);
    let steady_runs = AtomicUsize::new(0);
    let steady_sum = AtomicI64::new(0);
    let (mut rounds, mut killed, mut adjust_rounds, mut create_rounds) = (0, 0, 0, 0);
    thread::scope(|scope| {
        for worker in 0..STEADY_WORKERS {
            let (stop, id) = (&stop, &id);
            let (steady_runs, steady_sum) = (&steady_runs, &steady_sum);
            scope.spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    let change: i64 = if (worker + i) % 3 == 0 { -1 } else { 2 };
                    let change_arg = format!("{change:+}");
                    db.run(&[
                        "stock",
                        "adjust",
                        id,
                        "--change",
                        &change_arg,
                        "--reason",
                        "steady",
                    ])
                    .expect(0);
                    steady_runs.fetch_add(1, Ordering::SeqCst);
                    steady_sum.fetch_add(change, Ordering::SeqCst);
                    i += 1;
                }
            });
        }
        // Stops the steady writers however this thread ends.
        let _stop = StopOnDrop(&stop);
        let started = Instant::now();
        while started.elapsed() < KILLING {
            rounds += 1;
            let name = format!("Killed {rounds}");
            let stock = rounds.to_string();
            let args: Vec<&str> = if rounds % 2 == 0 {
                adjust_rounds += 1;
                vec![
                    "stock", "adjust", &id, "--change", "+5", "--reason", "killed",
                ]
            } else {
                create_rounds += 1;
                vec![
                    "product", "create", "--name", &name, "--price", "1", "--stock", &stock,
                ]
            };
            let mut child = db
                .command()
                .args(&args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            thread::sleep(Duration::from_millis(rand::random_range(0..=30)));
            match child.try_wait().unwrap() {
                Some(status) => assert!(status.success(), "{args:?}: {status:?}"),
                None => {
                    child.kill().unwrap();
                    child.wait().unwrap();
                    killed += 1;
                }
            }
        }
    });

    // The steady writers all succeeded, and each of their changes is there
    // exactly once.
    let steady_runs = steady_runs.into_inner() as i64;
    assert!(steady_runs > 0);
    assert_eq!(
        db.query_i64(&format!(
            "SELECT count(*) FROM stock_events WHERE product_id = '{id}' AND reason = 'steady'"
        )),
        steady_runs
    );
    assert_eq!(
        db.query_i64(&format!(
            "SELECT COALESCE(SUM(`change`), 0) FROM stock_events WHERE product_id = '{id}' AND reason = 'steady'"
        )),
        steady_sum.into_inner()
    );
    let landed_adjustments =
        db.query_i64("SELECT count(*) FROM stock_events WHERE reason = 'killed'");
    let landed_creates = db.query_i64("SELECT count(*) FROM products WHERE name LIKE 'Killed %'");
    assert!(landed_adjustments <= adjust_rounds);
    assert!(landed_creates <= create_rounds);

    assert_ledger_intact(db);
    let status = db.json(&["db", "status"]);
    assert_eq!(status["products"], 1 + landed_creates);
    assert_eq!(
        status["stock_events"],
        1 + landed_creates + steady_runs + landed_adjustments
    );
    assert!(
        killed > 0,
        "no process was killed mid-run: the test proved nothing"
    );
    println!(
        "{:?}: {rounds} kill rounds in {KILLING:?}, {killed} killed mid-run; {landed_adjustments}/{adjust_rounds} killed adjustments and {landed_creates}/{create_rounds} killed creations landed; {steady_runs} steady adjustments all succeeded",
        db.backend
    );
}

struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// The ledger's invariants, checked with raw SQL over every product.
pub fn assert_ledger_intact(db: &TestDb) {
    let zero = |what: &str, sql: &str| {
        assert_eq!(db.query_i64(sql), 0, "{what}: {sql}");
    };
    zero(
        "every product has its version-1 event",
        "SELECT count(*) FROM products p WHERE NOT EXISTS
           (SELECT 1 FROM stock_events e WHERE e.product_id = p.id AND e.version = 1)",
    );
    zero(
        "every event belongs to a product",
        "SELECT count(*) FROM stock_events e WHERE NOT EXISTS
           (SELECT 1 FROM products p WHERE p.id = e.product_id)",
    );
    zero(
        "version 1 opens the ledger: change = total",
        "SELECT count(*) FROM stock_events WHERE version = 1 AND `change` <> total_after_change",
    );
    zero(
        "versions are 1..n, contiguous",
        "SELECT count(*) FROM (SELECT product_id FROM stock_events GROUP BY product_id
           HAVING count(*) <> max(version) OR min(version) <> 1) gaps",
    );
    zero(
        "each total is the previous total plus the change",
        "SELECT count(*) FROM stock_events e JOIN stock_events prev
            ON prev.product_id = e.product_id AND prev.version = e.version - 1
         WHERE e.total_after_change <> prev.total_after_change + e.`change`",
    );
    zero(
        "no total below zero",
        "SELECT count(*) FROM stock_events WHERE total_after_change < 0",
    );
    match db.backend {
        Backend::Sqlite => {
            assert_eq!(db.query_strings("PRAGMA integrity_check"), ["ok"]);
            assert!(db.query_strings("PRAGMA foreign_key_check").is_empty());
        }
        Backend::Mysql => {}
    }
}

// ---------------------------------------------------------------------------
// MySQL: servers that cannot be used

fn mysql_down_wrong_password_and_unknown_database_are_exit_6_within_seconds(db: &TestDb) {
    let admin = mysql_admin_url().unwrap();
    let server = mysql_server(&admin);
    let user = MysqlUser::create(db);
    let database = database_name(db).to_owned();
    let cases = [
        (
            "server down",
            mysql_url(
                &user.name,
                Some(&user.password_in_url),
                &format!("127.0.0.1:{}", closed_port()),
                &database,
            ),
            "cannot connect to mysql://",
        ),
        (
            "wrong password",
            mysql_url(&user.name, Some("not-the-password"), &server, &database),
            "Access denied",
        ),
        (
            "unknown database",
            admin_url_via(db, &server).replace(&database, "milly_no_such_database"),
            "Unknown database",
        ),
    ];
    let mut count = 0;
    for (case, url, says) in &cases {
        for args in every_kind_of_command(SOME_ID) {
            let mut all = vec!["--json"];
            all.extend(&args);
            let (run, took) = run_against(db, url, &all);
            let run = run.expect(6);
            count += 1;
            assert!(took < QUICKLY, "{case}: {args:?} took {took:?}");
            assert!(run.stderr.contains(says), "{case}: {run:?}");
            assert!(
                run.stderr.starts_with("error: cannot connect to mysql://"),
                "{case}: {run:?}"
            );
            assert!(
                run.stderr.contains("\"code\":\"database_unavailable\""),
                "{case}: {run:?}"
            );
        }
    }
    // Nothing reached the real database.
    assert!(db.query_strings("SHOW TABLES").is_empty());
    println!("MySQL connection faults: {count} commands refused");
}

/// The server goes away between commands: while it is gone every command
/// fails with 6 within seconds and writes nothing; once it is back, later
/// commands succeed and the data is as the successful commands left it.
fn mysql_server_gone_in_the_middle_of_a_run_of_commands_fails_them_and_later_ones_succeed(
    db: &TestDb,
) {
    let mut proxy = Proxy::start(&mysql_server(&mysql_admin_url().unwrap()));
    let url = admin_url_via(db, &proxy.server());
    let json = |args: &[&str]| -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend(args);
        run_against(db, &url, &all).0.expect(0).json()
    };
    let id = json(&[
        "product", "create", "--name", "Before", "--price", "5", "--stock", "10",
    ])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    json(&["stock", "adjust", &id, "--change", "+5"]);
    json(&["discount", "set", &id, "--percent", "10"]);
    let counts = db.counts();
    assert_eq!(counts, [1, 2, 1, 0]);

    proxy.stop();
    let mut failed = 0;
    for args in every_kind_of_command(&id) {
        let mut all = vec!["--json"];
        all.extend(&args);
        let (run, took) = run_against(db, &url, &all);
        let run = run.expect(6);
        failed += 1;
        assert!(took < QUICKLY, "{args:?} took {took:?}");
        assert!(
            run.stderr.starts_with("error: cannot connect to mysql://"),
            "{run:?}"
        );
        assert!(
            run.stderr.contains(&format!("@127.0.0.1:{}/", proxy.port)),
            "{run:?}"
        );
        assert!(run.stdout.is_empty(), "{run:?}");
    }
    assert_eq!(
        db.counts(),
        counts,
        "nothing written while the server was gone"
    );

    proxy.restart();
    let adjusted = json(&["stock", "adjust", &id, "--change", "-3"]);
    assert_eq!(adjusted["new_stock_count"], 12);
    json(&[
        "product", "create", "--name", "After", "--price", "1", "--stock", "1",
    ]);
    assert_eq!(db.counts(), [2, 4, 1, 0]);
    let history = json(&["stock", "history", &id]);
    let versions: Vec<i64> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [1, 2, 3]);
    assert_ledger_intact(db);
    println!("MySQL server gone: {failed} commands failed with 6, later ones succeeded");
}

/// Holds the row that product creations take turns on (from the admin
/// connection, in an open transaction), then starts `product create "Cut"`
/// through `url` and returns once it is waiting inside its own transaction.
/// Roll the holder back to release it.
pub fn create_waiting_on_the_products_lock(
    db: &TestDb,
    url: &str,
    database: &str,
) -> (mysql::Conn, Child) {
    use mysql::prelude::Queryable;
    let mut holder = admin_conn(&db.url);
    holder.query_drop("START TRANSACTION").unwrap();
    holder
        .query_drop("SELECT name FROM milly_locks WHERE name = 'products' FOR UPDATE")
        .unwrap();
    let mut child = db
        .command()
        .env("MILLY_DATABASE_URL", url)
        .args([
            "-v",
            "--json",
            "--lock-timeout-ms",
            "20000",
            "product",
            "create",
            "--name",
            "Cut",
            "--price",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let admin = mysql_admin_url().unwrap();
    wait_for_statement(
        &mut admin_conn(&admin),
        database,
        "INSERT INTO milly_locks",
        &mut child,
    );
    (holder, child)
}

/// The connection is cut while a product creation waits inside its
/// transaction: milly fails with 6 at once, and the server rolls the
/// transaction back, so nothing is written.
fn mysql_connection_cut_inside_a_transaction_is_exit_6_and_writes_nothing(db: &TestDb) {
    use mysql::prelude::Queryable;
    let admin = mysql_admin_url().unwrap();
    let mut proxy = Proxy::start(&mysql_server(&admin));
    let url = admin_url_via(db, &proxy.server());
    db.product("First", "1", "1");
    let counts = db.counts();

    let (mut holder, child) = create_waiting_on_the_products_lock(db, &url, database_name(db));
    proxy.stop();
    let (run, took) = wait_with_limit(child, Duration::from_secs(15));
    let run = run.expect(6);
    assert!(took < QUICKLY, "took {took:?}");
    assert!(
        run.stderr
            .starts_with("error: lost the connection to the MySQL server"),
        "{run:?}"
    );
    holder.query_drop("ROLLBACK").unwrap();
    drop(holder);
    assert_eq!(db.counts(), counts, "nothing written");
    assert!(db
        .query_strings("SELECT name FROM products WHERE name = 'Cut'")
        .is_empty());

    proxy.restart();
    let mut all = vec!["--json"];
    all.extend(["product", "create", "--name", "Later", "--price", "1"]);
    run_against(db, &url, &all).0.expect(0);
    assert_ledger_intact(db);
}
