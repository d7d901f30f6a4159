//! Runs the real `milly` binary against a fresh database of either backend.
//!
//! SQLite tests always run. MySQL tests run when `MILLY_TEST_MYSQL_URL`
//! names a server (e.g. `mysql://root@127.0.0.1:3306/test`); each test then
//! gets its own freshly created database, dropped afterwards. When the
//! variable is unset the MySQL variants return at once; when it is set and
//! the server cannot be reached they fail.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use tempfile::TempDir;

pub const MILLY: &str = env!("CARGO_BIN_EXE_milly");

/// A fixed "now" so that default windows are predictable.
pub const NOW: &str = "2025-06-01T12:00:00Z";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Mysql,
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
    fn from(output: Output) -> Run {
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
        Run::from(self.command().args(args).output().unwrap())
    }

    /// Runs with `-o json` and expects success.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["-o", "json"];
        all.extend_from_slice(args);
        self.run(&all).expect(0).json()
    }

    /// Creates a product and returns its id.
    pub fn product(&self, name: &str, price: &str, stock: &str) -> String {
        self.json(&[
            "product", "create", "--name", name, "--price", price, "--stock", stock,
        ])["id"]
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

/// Defines a test module per case with a `sqlite` and a `mysql` test, so every
/// story runs against both backends.
#[macro_export]
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        $(
            mod $case {
                #[test]
                fn sqlite() {
                    super::$case(&$crate::harness::TestDb::sqlite());
                }

                #[test]
                fn mysql() {
                    if let Some(db) = $crate::harness::TestDb::mysql() {
                        super::$case(&db);
                    }
                }
            }
        )*
    };
}
