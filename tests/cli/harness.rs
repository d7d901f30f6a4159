//! Runs the real `milly` binary against a fresh database of either backend.
//!
//! SQLite tests always run. MySQL tests run when `MILLY_TEST_MYSQL_URL`
//! names a server (e.g. `mysql://root@127.0.0.1:3306/test`); each test then
//! gets its own freshly created database, dropped afterwards. When the
//! variable is unset the MySQL tests are reported as *ignored*, so the
//! summary says how many did not run instead of counting them as passed;
//! when it is set and the server cannot be reached they fail. Under `CI`
//! (`CI=true`) an unset server variable fails the tests that need it too:
//! CI starts every server, so a missing one is a broken run, not a skip
//! (see `tests/common/ci.rs`).
//!
//! This test binary has its own `main` (`harness = false`, libtest-mimic),
//! because only a runner of our own can decide at run time that a test is
//! ignored. It takes the usual arguments: `cargo test -- stock::` filters,
//! `--exact`, `--ignored`, `--list`, `--test-threads`. Tests are declared by
//! listing their functions in one of three macros, which register them
//! wherever they are called (no list to keep in `main.rs`):
//!
//! - `on_every_backend!(case, …)`: `fn case(db: &TestDb)`, run as
//!   `<module>::case::sqlite` and `<module>::case::mysql`;
//! - `on_mysql!(case, …)`: `fn case(db: &TestDb)` on MySQL only, run as
//!   `<module>::case`;
//! - `plain_tests!(case, …)`: `fn case()`, run as `<module>::case`;
//! - `when_set!("VAR": case, …)`: `fn case()` that needs a server the
//!   variable names (a TLS server, a Galera cluster), run as `<module>::case`
//!   and reported as ignored while the variable is unset (failed under CI).
//!
//! Each name may carry attributes, e.g. `plain_tests!(#[cfg(unix)] case)`.
//! A `#[test]` attribute does nothing in this binary: turn `#[test] fn f()`
//! into `fn f()` plus `plain_tests!(f)` (the check `harness::no_test_attributes`
//! fails while one is left, and a listed-nowhere function is dead code).

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use libtest_mimic::{Completion, Failed, Trial};
use serde_json::Value;
use tempfile::TempDir;

pub const MILLY: &str = env!("CARGO_BIN_EXE_milly");

/// A fixed "now" so that default windows are predictable.
pub const NOW: &str = "2025-06-01T12:00:00Z";

/// The newest schema version this milly knows, read from the history the
/// binary embeds (every backend's list is drawn from it), so adding one does
/// not mean editing tests that only want "the latest".
pub const LATEST: i64 = milly::adapters::persistence::migrations::LATEST;

/// The backends every `on_every_backend!` test runs on. Adding one: a
/// variant here and in [`Backend::ALL`], its arm in [`Backend::fresh`] and
/// in the raw-SQL helpers; the compiler then points at every test that
/// treats backends differently (they `match`, never `if … else`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Mysql,
}

impl Backend {
    pub const ALL: [Backend; 2] = [Backend::Sqlite, Backend::Mysql];

    /// How its tests are named: `stock::adjust::sqlite`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Mysql => "mysql",
        }
    }

    /// The environment variable naming its test server, if it needs one.
    pub fn server_var(self) -> Option<&'static str> {
        match self {
            Backend::Sqlite => None,
            Backend::Mysql => Some("MILLY_TEST_MYSQL_URL"),
        }
    }

    /// A fresh, empty database, or `None` when its server is not configured.
    pub fn fresh(self) -> Option<TestDb> {
        match self {
            Backend::Sqlite => Some(TestDb::sqlite()),
            Backend::Mysql => TestDb::mysql(),
        }
    }

    fn configured(self) -> bool {
        self.server_var()
            .is_none_or(|var| std::env::var(var).is_ok_and(|v| !v.trim().is_empty()))
    }
}

/// One test's database, and a home folder that isolates milly from the
/// developer's own default database.
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    pub home: TempDir,
    /// Dropped with the test: drops the MySQL database.
    _mysql: Option<MysqlDatabase>,
}

struct MysqlDatabase {
    admin_url: String,
    name: String,
}

impl Drop for MysqlDatabase {
    fn drop(&mut self) {
        if let Ok(mut conn) = mysql::Conn::new(mysql::Opts::from_url(&self.admin_url).unwrap()) {
            let _ = mysql::prelude::Queryable::query_drop(
                &mut conn,
                format!("DROP DATABASE IF EXISTS `{}`", self.name),
            );
        }
    }
}

/// The result of one run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from_output(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Panics with the whole run unless it exited with `code`.
    pub fn expect(self, code: i32) -> Run {
        assert_eq!(self.code, code, "expected exit {code}, got {self:#?}");
        self
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:#?}"))
    }
}

pub fn mysql_admin_url() -> Option<String> {
    std::env::var("MILLY_TEST_MYSQL_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let home = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", home.path().join("milly.db").display());
        TestDb {
            backend: Backend::Sqlite,
            url,
            home,
            _mysql: None,
        }
    }

    /// A fresh MySQL database, or `None` when `MILLY_TEST_MYSQL_URL` is unset.
    pub fn mysql() -> Option<TestDb> {
        let admin_url = mysql_admin_url()?;
        let name = format!("milly_t_{:016x}", rand::random::<u64>());
        let opts = mysql::Opts::from_url(&admin_url)
            .expect("MILLY_TEST_MYSQL_URL is a valid mysql:// URL");
        let mut conn = mysql::Conn::new(opts).unwrap_or_else(|e| {
            panic!("MILLY_TEST_MYSQL_URL is set but the server cannot be reached: {e}")
        });
        mysql::prelude::Queryable::query_drop(
            &mut conn,
            format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"),
        )
        .unwrap();
        let url = with_database(&admin_url, &name);
        Some(TestDb {
            backend: Backend::Mysql,
            url,
            home: tempfile::tempdir().unwrap(),
            _mysql: Some(MysqlDatabase { admin_url, name }),
        })
    }

    pub fn sqlite_path(&self) -> PathBuf {
        PathBuf::from(
            self.url
                .strip_prefix("sqlite:")
                .expect("a SQLite test database"),
        )
    }

    /// The binary with a clean environment: only this database, a private
    /// HOME, and the fixed clock.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(MILLY);
        cmd.env_clear()
            .env("HOME", self.home.path())
            .env("MILLY_DATABASE_URL", &self.url)
            .env("MILLY_NOW", NOW)
            .stdin(Stdio::null());
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from_output(self.command().args(args).output().unwrap())
    }

    /// Runs at a chosen "now" (`MILLY_NOW`).
    pub fn run_at(&self, now: &str, args: &[&str]) -> Run {
        Run::from_output(
            self.command()
                .env("MILLY_NOW", now)
                .args(args)
                .output()
                .unwrap(),
        )
    }

    /// Runs with `-o json` at a chosen "now" and expects success.
    pub fn json_at(&self, now: &str, args: &[&str]) -> Value {
        let mut all = vec!["-o", "json"];
        all.extend_from_slice(args);
        self.run_at(now, &all).expect(0).json()
    }

    /// Runs with `-o json` and expects success.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["-o", "json"];
        all.extend_from_slice(args);
        self.run(&all).expect(0).json()
    }

    /// Creates a product and returns its id.
    pub fn product(&self, name: &str, price: &str, stock: &str) -> String {
        self.product_at(NOW, name, price, stock)
    }

    /// Creates a product recorded at `now` and returns its id: a test that
    /// asks about past moments records it before them, since an answer for
    /// a moment uses only what was recorded by then.
    pub fn product_at(&self, now: &str, name: &str, price: &str, stock: &str) -> String {
        self.json_at(
            now,
            &[
                "product", "create", "--name", name, "--price", price, "--stock", stock,
            ],
        )["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Row counts as `db status` reports them: products, events, discounts, coupons.
    pub fn counts(&self) -> [i64; 4] {
        let s = self.json(&["db", "status"]);
        ["products", "stock_events", "discounts", "coupons"].map(|k| s[k].as_i64().unwrap())
    }

    /// A single integer from raw SQL, for checks the CLI does not expose.
    pub fn query_i64(&self, sql: &str) -> i64 {
        self.query_strings(sql)[0].parse().unwrap()
    }

    /// One column of raw SQL results as text.
    pub fn query_strings(&self, sql: &str) -> Vec<String> {
        match self.backend {
            Backend::Sqlite => {
                let conn = rusqlite::Connection::open(self.sqlite_path()).unwrap();
                let mut stmt = conn.prepare(sql).unwrap();
                let rows = stmt
                    .query_map([], |r| {
                        let v: rusqlite::types::Value = r.get(0)?;
                        Ok(match v {
                            rusqlite::types::Value::Null => "NULL".to_owned(),
                            rusqlite::types::Value::Integer(i) => i.to_string(),
                            rusqlite::types::Value::Text(t) => t,
                            other => format!("{other:?}"),
                        })
                    })
                    .unwrap();
                rows.map(Result::unwrap).collect()
            }
            Backend::Mysql => {
                use mysql::prelude::Queryable;
                let mut conn = mysql::Conn::new(mysql::Opts::from_url(&self.url).unwrap()).unwrap();
                let rows: Vec<mysql::Row> = conn.query(sql).unwrap();
                rows.into_iter()
                    .map(|row| match row.as_ref(0).unwrap() {
                        mysql::Value::NULL => "NULL".to_owned(),
                        mysql::Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
                        mysql::Value::Int(i) => i.to_string(),
                        mysql::Value::UInt(u) => u.to_string(),
                        other => format!("{other:?}"),
                    })
                    .collect()
            }
        }
    }

    /// Runs raw SQL as another client would, and says whether the database
    /// took it (for what the schema itself must refuse).
    pub fn try_execute(&self, sql: &str) -> Result<(), String> {
        match self.backend {
            Backend::Sqlite => rusqlite::Connection::open(self.sqlite_path())
                .unwrap()
                .execute_batch(sql)
                .map_err(|e| e.to_string()),
            Backend::Mysql => {
                use mysql::prelude::Queryable;
                let mut conn = mysql::Conn::new(mysql::Opts::from_url(&self.url).unwrap()).unwrap();
                conn.query_drop(sql).map_err(|e| e.to_string())
            }
        }
    }

    /// Runs raw SQL that changes the database (to set up a broken state).
    pub fn execute(&self, sql: &str) {
        match self.backend {
            Backend::Sqlite => {
                rusqlite::Connection::open(self.sqlite_path())
                    .unwrap()
                    .execute_batch(sql)
                    .unwrap();
            }
            Backend::Mysql => {
                use mysql::prelude::Queryable;
                let mut conn = mysql::Conn::new(mysql::Opts::from_url(&self.url).unwrap()).unwrap();
                conn.query_drop(sql).unwrap();
            }
        }
    }
}

/// `mysql://user:pw@host:port/old` → `mysql://user:pw@host:port/new`.
fn with_database(url: &str, database: &str) -> String {
    let rest = url.strip_prefix("mysql://").expect("a mysql:// URL");
    let (authority, _) = rest.split_once('/').unwrap_or((rest, ""));
    format!("mysql://{authority}/{database}")
}

/// One registered test function (see the module documentation).
pub struct Registered {
    /// `module_path!()` where it was listed: `cli::stock`.
    pub module: &'static str,
    pub name: &'static str,
    pub body: Body,
}

pub enum Body {
    Plain(fn()),
    OnEvery(fn(&TestDb)),
    /// Only on this backend.
    On(Backend, fn(&TestDb)),
    /// Runs only when this environment variable is set.
    WhenSet(&'static str, fn()),
}

inventory::collect!(Registered);

/// Every registered test as libtest-mimic trials, sorted by name; those of
/// a backend whose server is not configured are ignored, or fail under CI.
pub fn trials() -> Vec<Trial> {
    let in_ci = crate::ci::in_ci();
    let mut trials: Vec<Trial> = inventory::iter::<Registered>
        .into_iter()
        .flat_map(|test| {
            let path = match test.module.split_once("::") {
                Some((_crate, module)) => format!("{module}::{}", test.name),
                None => test.name.to_owned(),
            };
            match test.body {
                Body::Plain(f) => vec![trial(path, f)],
                Body::OnEvery(f) => Backend::ALL
                    .iter()
                    .map(|&backend| on(backend, format!("{path}::{}", backend.name()), f, in_ci))
                    .collect(),
                Body::On(backend, f) => vec![on(backend, path, f, in_ci)],
                Body::WhenSet(var, f) => {
                    let unset = std::env::var(var).map_or(true, |v| v.trim().is_empty());
                    if unset && in_ci {
                        vec![server_missing(path, var)]
                    } else {
                        vec![trial(path, f).with_ignored_flag(unset)]
                    }
                }
            }
        })
        .collect();
    trials.push(trial(
        "harness::no_test_attributes".into(),
        no_test_attributes,
    ));
    trials.sort_by(|a, b| a.name().cmp(b.name()));
    trials
}

/// A test that passes unless it panics (libtest-mimic reports the panic).
fn trial(name: String, body: impl FnOnce() + Send + 'static) -> Trial {
    Trial::test(name, move || {
        body();
        Ok(())
    })
}

/// A test that cannot run because CI did not provide the server `var`
/// names: it fails, so the run does.
fn server_missing(name: String, var: &'static str) -> Trial {
    Trial::test(name, move || {
        Err(Failed::from(crate::ci::missing_in_ci(var)))
    })
}

/// `f` on a fresh database of `backend`. Without its server: ignored up
/// front (and at run time, should it be run anyway with `-- --ignored`), or
/// failed under CI.
fn on(backend: Backend, name: String, f: fn(&TestDb), in_ci: bool) -> Trial {
    let configured = backend.configured();
    match backend.server_var() {
        Some(var) if !configured && in_ci => server_missing(name, var),
        _ => Trial::ignorable_test(name, move || match backend.fresh() {
            Some(db) => {
                f(&db);
                Ok(Completion::Completed)
            }
            None => Ok(Completion::ignored_with(format!(
                "{} is unset",
                backend.server_var().unwrap_or("its server")
            ))),
        })
        .with_ignored_flag(!configured),
    }
}

/// This binary has no libtest, so a function marked `#[test]` would never
/// run, silently: refuse the attribute in every file of this suite.
fn no_test_attributes() {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&folder).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            for (index, line) in text.lines().enumerate() {
                if line.trim_start().starts_with("#[test]") {
                    found.push(format!("{}:{}", path.display(), index + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "#[test] never runs in tests/cli (harness = false): list the function in \
         plain_tests!, on_every_backend! or on_mysql! instead (see tests/cli/harness.rs): {found:#?}"
    );
}

/// Registers `<module>::case::<backend>` for each `fn case(db: &TestDb)`
/// and each of [`Backend::ALL`], so every story runs against every backend.
#[macro_export]
macro_rules! on_every_backend {
    ($($(#[$attr:meta])* $case:ident),* $(,)?) => {
        $(
            $(#[$attr])*
            ::inventory::submit! {
                $crate::harness::Registered {
                    module: module_path!(),
                    name: stringify!($case),
                    body: $crate::harness::Body::OnEvery($case),
                }
            }
        )*
    };
}

/// Registers `<module>::case` for each `fn case(db: &TestDb)` that only
/// makes sense on MySQL.
#[macro_export]
macro_rules! on_mysql {
    ($($(#[$attr:meta])* $case:ident),* $(,)?) => {
        $(
            $(#[$attr])*
            ::inventory::submit! {
                $crate::harness::Registered {
                    module: module_path!(),
                    name: stringify!($case),
                    body: $crate::harness::Body::On($crate::harness::Backend::Mysql, $case),
                }
            }
        )*
    };
}

/// Registers `<module>::case` for each `fn case()`.
#[macro_export]
macro_rules! plain_tests {
    ($($(#[$attr:meta])* $case:ident),* $(,)?) => {
        $(
            $(#[$attr])*
            ::inventory::submit! {
                $crate::harness::Registered {
                    module: module_path!(),
                    name: stringify!($case),
                    body: $crate::harness::Body::Plain($case),
                }
            }
        )*
    };
}

/// Registers `<module>::case` for each `fn case()` that needs the server an
/// environment variable names; ignored while it is unset.
#[macro_export]
macro_rules! when_set {
    ($var:literal: $($(#[$attr:meta])* $case:ident),* $(,)?) => {
        $(
            $(#[$attr])*
            ::inventory::submit! {
                $crate::harness::Registered {
                    module: module_path!(),
                    name: stringify!($case),
                    body: $crate::harness::Body::WhenSet($var, $case),
                }
            }
        )*
    };
}
