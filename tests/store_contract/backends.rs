//! The backends the contract runs on, each giving every story a fresh,
//! empty database and, for the SQL ones, a raw connection for what the port
//! cannot show.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ::mysql::prelude::Queryable;
use milly::adapters::persistence::memory::MemoryDatabase;
use milly::adapters::persistence::{DatabaseUrl, StoreSettings};
use milly::app::CatalogStore;
use tempfile::TempDir;

/// The engines stories run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// One write lock for the whole file, taken when a write begins.
    Sqlite,
    /// Row locks, taken as rows are written (MySQL, MariaDB, Galera).
    Mysql,
    /// One write lock, like SQLite's, and no SQL.
    Memory,
}

/// The SQL dialects of the engines that have one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sql {
    Sqlite,
    Mysql,
}

/// How a backend opens a fresh database for one story.
#[derive(Clone)]
pub struct Backend {
    pub name: &'static str,
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    Sqlite,
    /// The in-memory store: no SQL, no file, no server.
    Memory,
    /// A server reachable at this admin URL, or the variable that was unset.
    Mysql(Result<Arc<str>, &'static str>),
}

impl Backend {
    pub fn sqlite() -> Backend {
        Backend {
            name: "sqlite",
            kind: Kind::Sqlite,
        }
    }

    pub fn memory() -> Backend {
        Backend {
            name: "memory",
            kind: Kind::Memory,
        }
    }

    /// Whether the backend has SQL, which some stories use to reach past
    /// the port.
    pub fn has_sql(&self) -> bool {
        !matches!(self.kind, Kind::Memory)
    }

    /// A MySQL-compatible server named by the environment variable `var`
    /// (the first URL, when it lists several nodes of one cluster).
    pub fn mysql(name: &'static str, var: &'static str) -> Backend {
        let url = std::env::var(var)
            .ok()
            .and_then(|urls| urls.split_whitespace().next().map(Arc::from))
            .ok_or(var);
        Backend {
            name,
            kind: Kind::Mysql(url),
        }
    }

    pub fn skip_reason(&self) -> Option<String> {
        match &self.kind {
            Kind::Mysql(Err(var)) => Some(format!("{var} is not set")),
            _ => None,
        }
    }

    pub fn fresh(&self) -> Result<TestDb, String> {
        match &self.kind {
            Kind::Sqlite => {
                let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
                let path = dir.path().join("contract.db");
                Ok(TestDb {
                    url: format!("sqlite:{}", path.display()),
                    raw: Raw::Sqlite { path, _dir: dir },
                })
            }
            Kind::Memory => {
                let url = format!("memory:{:016x}", rand::random::<u64>());
                memory_databases().push((url.clone(), MemoryDatabase::new()));
                Ok(TestDb {
                    url,
                    raw: Raw::Memory,
                })
            }
            Kind::Mysql(Ok(admin)) => {
                let name = format!("milly_contract_{:016x}", rand::random::<u64>());
                let mut conn = mysql_conn(admin)?;
                conn.query_drop(format!("CREATE DATABASE `{name}`"))
                    .map_err(|e| format!("cannot create a test database on {admin}: {e}"))?;
                let url = with_database(admin, &name);
                Ok(TestDb {
                    url: url.clone(),
                    raw: Raw::Mysql {
                        admin: admin.to_string(),
                        url,
                        name,
                    },
                })
            }
            Kind::Mysql(Err(var)) => Err(if crate::ci::in_ci() {
                crate::ci::missing_in_ci(var)
            } else {
                format!("{var} is not set")
            }),
        }
    }
}

fn mysql_conn(url: &str) -> Result<::mysql::Conn, String> {
    let opts = ::mysql::Opts::from_url(url).map_err(|e| format!("bad MySQL URL: {e}"))?;
    ::mysql::Conn::new(opts).map_err(|e| format!("cannot connect to the test server: {e}"))
}

/// The admin URL with its database replaced.
fn with_database(admin: &str, database: &str) -> String {
    let (base, query) = admin
        .split_once('?')
        .map_or((admin, None), |(b, q)| (b, Some(q)));
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let root = match base[after_scheme..].find('/') {
        Some(slash) => &base[..after_scheme + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{database}?{q}"),
        None => format!("{root}/{database}"),
    }
}

/// One story's database.
pub struct TestDb {
    pub url: String,
    raw: Raw,
}

enum Raw {
    Sqlite {
        path: PathBuf,
        _dir: TempDir,
    },
    Mysql {
        admin: String,
        url: String,
        name: String,
    },
    /// An in-memory database, held in `MEMORY_DATABASES` under the URL.
    Memory,
}

/// The in-memory databases of the stories running, by URL, so that a story
/// can open another connection to its database by URL (from another thread
/// too), as it does to a file or a server.
static MEMORY_DATABASES: Mutex<Vec<(String, MemoryDatabase)>> = Mutex::new(Vec::new());

fn memory_databases() -> std::sync::MutexGuard<'static, Vec<(String, MemoryDatabase)>> {
    MEMORY_DATABASES
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// The message of a story that uses SQL on a backend without it: such a
/// story belongs in `NEEDS_SQL` (main.rs).
fn no_sql(sql: &str) -> ! {
    panic!("this story runs SQL ({sql}) on a store without SQL: list it in NEEDS_SQL")
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.raw {
            Raw::Mysql { admin, name, .. } => {
                if let Ok(mut conn) = mysql_conn(admin) {
                    let _ = conn.query_drop(format!("DROP DATABASE IF EXISTS `{name}`"));
                }
            }
            Raw::Memory => memory_databases().retain(|(url, _)| url != &self.url),
            Raw::Sqlite { .. } => {}
        }
    }
}

/// A new connection to the database at `url` (already migrated) through the
/// adapter, e.g. from another thread.
pub fn open_url(url: &str, lock_timeout: Duration) -> Box<dyn CatalogStore> {
    open_url_with(url, lock_timeout, false)
}

/// [`open_url`], for a dry run (every write rolls back) or not.
pub fn open_url_with(url: &str, lock_timeout: Duration, dry_run: bool) -> Box<dyn CatalogStore> {
    if url.starts_with("memory:") {
        let found = memory_databases()
            .iter()
            .find(|(u, _)| u == url)
            .map(|(_, db)| db.clone());
        let db = found.unwrap_or_else(|| panic!("open {url}: no such in-memory database"));
        return Box::new(db.connect().lock_timeout(lock_timeout).dry_run(dry_run));
    }
    let parsed = DatabaseUrl::parse(url, milly::bootstrap::BACKENDS).expect("test URL");
    let settings = StoreSettings {
        lock_timeout,
        create_missing: true,
        connect_timeout: Duration::from_secs(5),
        dry_run,
    };
    parsed
        .open(&settings)
        .unwrap_or_else(|e| panic!("open {url}: {e}"))
}

impl TestDb {
    /// A new connection through the adapter, with its schema migrated, as
    /// every command opens it.
    pub fn store(&self) -> Box<dyn CatalogStore> {
        let store = self.open_unmigrated();
        store.migrate().expect("migrate");
        store
    }

    /// A new connection through the adapter that has not migrated yet.
    pub fn open_unmigrated(&self) -> Box<dyn CatalogStore> {
        open_url(&self.url, Duration::from_secs(5))
    }

    /// A new connection whose writes all roll back (`--dry-run`).
    pub fn open_dry_run(&self) -> Box<dyn CatalogStore> {
        open_url_with(&self.url, Duration::from_secs(5), true)
    }

    /// Runs SQL outside milly, as an operator's client would.
    pub fn raw_exec(&self, sql: &str) -> Result<(), String> {
        match &self.raw {
            Raw::Sqlite { path, .. } => rusqlite::Connection::open(path)
                .and_then(|c| c.execute_batch(sql))
                .map_err(|e| e.to_string()),
            Raw::Mysql { url, .. } => mysql_conn(url)?.query_drop(sql).map_err(|e| e.to_string()),
            Raw::Memory => no_sql(sql),
        }
    }

    /// One integer from a raw query.
    pub fn raw_i64(&self, sql: &str) -> i64 {
        match &self.raw {
            Raw::Sqlite { path, .. } => rusqlite::Connection::open(path)
                .and_then(|c| c.query_row(sql, [], |r| r.get(0)))
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
            Raw::Mysql { url, .. } => mysql_conn(url)
                .and_then(|mut c| c.query_first::<i64, _>(sql).map_err(|e| e.to_string()))
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .unwrap_or_else(|| panic!("{sql}: no row")),
            Raw::Memory => no_sql(sql),
        }
    }

    /// The first column of a raw query's rows, as text, with `?` bound to
    /// `param`.
    pub fn raw_strings(&self, sql: &str, param: &str) -> Vec<String> {
        match &self.raw {
            Raw::Sqlite { path, .. } => rusqlite::Connection::open(path)
                .and_then(|c| {
                    c.prepare(sql)?
                        .query_map([param], |r| r.get(0))?
                        .collect::<Result<Vec<String>, _>>()
                })
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
            Raw::Mysql { url, .. } => mysql_conn(url)
                .and_then(|mut c| c.exec(sql, (param,)).map_err(|e| e.to_string()))
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
            Raw::Memory => no_sql(sql),
        }
    }

    /// Returns once another session of this database is seen waiting for a
    /// row lock, on a MySQL-compatible server (its lock tables show it):
    /// a race story then knows its rival is blocked, not merely late.
    /// SQLite's waiting writer is invisible from outside (it retries in its
    /// busy handler), so there is nothing to watch there.
    pub fn await_a_lock_wait(&self) {
        let Raw::Mysql { url, name, .. } = &self.raw else {
            panic!("a waiting SQLite writer cannot be observed");
        };
        let sql = format!(
            "SELECT COUNT(*) FROM information_schema.INNODB_TRX t \
             JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id \
             WHERE t.trx_state = 'LOCK WAIT' AND p.DB = '{name}'"
        );
        let mut conn = mysql_conn(url).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        loop {
            let waiting: Option<i64> = conn.query_first(&sql).unwrap();
            if waiting.unwrap_or(0) > 0 {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no session of {name} came to wait for a lock within 15 s"
            );
            // InnoDB refreshes the tables behind INNODB_TRX only once nobody
            // has read them for 0.1 s: polling faster (or two stories
            // polling at once) would keep reading a snapshot taken before
            // the rival began to wait.
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// Which engine the story runs on, for the few behaviours engines may
    /// differ in (how a writer waits for another). Stories `match` on it,
    /// so that a new engine is pointed out by the compiler wherever one
    /// must say what it does.
    pub fn engine(&self) -> Engine {
        match self.raw {
            Raw::Sqlite { .. } => Engine::Sqlite,
            Raw::Mysql { .. } => Engine::Mysql,
            Raw::Memory => Engine::Memory,
        }
    }

    /// The SQL dialect, for a story that reaches past the port with SQL
    /// (registered only for engines that have SQL: see `NEEDS_SQL`).
    pub fn sql(&self) -> Sql {
        match self.engine() {
            Engine::Sqlite => Sql::Sqlite,
            Engine::Mysql => Sql::Mysql,
            Engine::Memory => {
                panic!("this story reaches past the port with SQL: list it in NEEDS_SQL")
            }
        }
    }
}
