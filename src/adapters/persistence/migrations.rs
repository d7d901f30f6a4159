//! The schema's history, one for every backend, embedded in the binary.
//!
//! Every version has the same number and name on every backend; only its SQL
//! is in the backend's dialect (`migrations/sqlite/`, `migrations/mysql/`),
//! so `db status` reports the same version for the same data wherever it
//! lives. A version whose change one backend does not need holds only a
//! comment there.
//!
//! A migration is recorded with a checksum of its text: one that was edited
//! after being applied, or one that the database has and the binary does
//! not, is an error rather than a silent skip.

use crate::app::ports::{MigrationState, StoreError};
use crate::domain::Instant;

/// The history: every version's number, file prefix and name, once. A
/// backend takes its dialect's list with [`schema_history!`]`("folder")`,
/// reading `migrations/<folder>/<file>_<name>.sql`, so no two backends can
/// disagree on numbers or names.
macro_rules! history {
    ($($then:ident)::+ $(, $arg:literal)?) => {
        $($then)::+!($($arg;)?
            1 "0001" "products",
            2 "0002" "stock_events",
            3 "0003" "discounts",
            4 "0004" "coupons",
            5 "0005" "milly_locks",
            6 "0006" "text_limits",
            7 "0007" "product_archive",
            8 "0008" "product_changes",
            9 "0009" "stock_event_actors",
            10 "0010" "discount_deactivations",
            11 "0011" "discount_replacement_times",
            12 "0012" "coupon_deactivations",
            13 "0013" "idempotency_keys",
            14 "0014" "product_name_trigrams",
            15 "0015" "product_name_trigrams_backfill",
            16 "0016" "discount_schedules",
            17 "0017" "discount_replacements",
            18 "0018" "stock_event_reverts",
            19 "0019" "stock_events_no_update",
            20 "0020" "stock_events_no_delete",
            21 "0021" "product_stock_versions",
            22 "0022" "stock_events_latest_version",
            23 "0023" "product_stock_versions_backfill",
        )
    };
}

/// The history in one backend's dialect: `schema_history!("sqlite")`.
macro_rules! schema_history {
    ($dialect:literal) => {
        $crate::adapters::persistence::migrations::history!(
            crate::adapters::persistence::migrations::in_dialect,
            $dialect
        )
    };
}

macro_rules! in_dialect {
    ($dialect:literal; $($version:literal $file:literal $name:literal,)*) => {
        &[$($crate::adapters::persistence::migrations::Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"), "/migrations/", $dialect, "/", $file, "_", $name, ".sql"
            )),
        },)*]
    };
}

macro_rules! numbered {
    ($($version:literal $file:literal $name:literal,)*) => {
        &[$(($version, $name),)*]
    };
}

pub(crate) use {history, in_dialect, schema_history};

/// Every version's number and name, in order, whatever the backend.
pub const VERSIONS: &[(i64, &str)] = history!(numbered);

/// The newest schema version this binary knows.
pub const LATEST: i64 = VERSIONS[VERSIONS.len() - 1].0;

/// One migration: its number, its name and its SQL statements.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    /// FNV-1a of the SQL text, in hex: stable across builds and platforms.
    pub fn checksum(&self) -> String {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in self.sql.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        format!("{hash:016x}")
    }

    /// The statements of the migration, split on `;` at line ends. MySQL
    /// commits DDL implicitly, so its migrations keep one statement per file;
    /// SQLite runs a whole file in one transaction.
    pub fn statements(&self) -> impl Iterator<Item = &'static str> {
        self.sql
            .split(";\n")
            .map(strip_comments)
            .filter(|s| !s.is_empty())
    }
}

fn strip_comments(chunk: &'static str) -> &'static str {
    let mut rest = chunk.trim();
    while rest.starts_with("--") {
        rest = rest.split_once('\n').map_or("", |(_, tail)| tail).trim();
    }
    rest.trim_end_matches(';').trim()
}

/// Checks a backend's list against the history: the same numbers and names
/// in order, and every file of its folder listed (a backend's own test).
pub fn check_dialect(dialect: &str, list: &[Migration]) -> Result<(), String> {
    let numbered: Vec<(i64, &str)> = list.iter().map(|m| (m.version, m.name)).collect();
    if numbered != VERSIONS {
        return Err(format!(
            "{dialect}: {numbered:?} is not the history {VERSIONS:?}"
        ));
    }
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(dialect);
    let mut files: Vec<String> = std::fs::read_dir(&folder)
        .map_err(|e| format!("{}: {e}", folder.display()))?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    files.sort();
    let listed: Vec<String> = list
        .iter()
        .map(|m| format!("{:04}_{}.sql", m.version, m.name))
        .collect();
    if files != listed {
        return Err(format!("{dialect}: files {files:?}, listed {listed:?}"));
    }
    Ok(())
}

/// The newest schema version in a list of migrations.
pub fn latest_version(migrations: &[Migration]) -> i64 {
    migrations.iter().map(|m| m.version).max().unwrap_or(0)
}

/// The refusal of a database whose schema is newer than this binary.
pub fn too_new(found: i64, migrations: &[Migration]) -> StoreError {
    StoreError::Unavailable(format!(
        "the database schema is version {found}, newer than this milly supports ({}); upgrade milly",
        latest_version(migrations)
    ))
}

/// Whether a database at schema version `current` has migrations to apply:
/// the quick check every command makes before it takes any lock.
pub fn has_pending(migrations: &[Migration], current: i64) -> Result<bool, StoreError> {
    let latest = latest_version(migrations);
    if current > latest {
        return Err(too_new(current, migrations));
    }
    Ok(current < latest)
}

/// The versions a database at schema version `current` would have applied
/// (what a dry run reports instead of migrating).
pub fn versions_after(migrations: &[Migration], current: i64) -> Result<Vec<i64>, StoreError> {
    has_pending(migrations, current)?;
    Ok(migrations
        .iter()
        .map(|m| m.version)
        .filter(|v| *v > current)
        .collect())
}

/// The migrations a database has not recorded, in order, once what it did
/// record has been checked against the binary.
pub fn pending<'m>(
    migrations: &'m [Migration],
    recorded: &[(i64, String)],
) -> Result<Vec<&'m Migration>, StoreError> {
    if let Some(newest) = recorded.iter().map(|(v, _)| *v).max() {
        has_pending(migrations, newest)?;
    }
    verify_recorded(migrations, recorded).map_err(StoreError::Unavailable)?;
    Ok(migrations
        .iter()
        .filter(|m| !recorded.iter().any(|(v, _)| *v == m.version))
        .collect())
}

/// Every migration the binary knows, with when the database applied it.
pub fn states(migrations: &[Migration], applied: &[(i64, Instant)]) -> Vec<MigrationState> {
    migrations
        .iter()
        .map(|m| MigrationState {
            version: m.version,
            name: m.name.to_owned(),
            applied_at: applied
                .iter()
                .find(|(v, _)| *v == m.version)
                .map(|(_, at)| *at),
        })
        .collect()
}

/// Checks what the database recorded against what the binary carries.
pub fn verify_recorded(migrations: &[Migration], recorded: &[(i64, String)]) -> Result<(), String> {
    for (version, checksum) in recorded {
        match migrations.iter().find(|m| m.version == *version) {
            None => {
                return Err(format!(
                    "the database has migration {version}, which this milly does not know; it was written by a newer milly, upgrade milly to use it"
                ))
            }
            Some(m) if &m.checksum() != checksum => {
                return Err(format!(
                    "migration {version} ({}) was changed after it was applied (checksum {checksum}, expected {})",
                    m.name,
                    m.checksum()
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A history of three versions, for the planning functions.
    const THREE: &[Migration] = &[
        Migration {
            version: 1,
            name: "a",
            sql: "CREATE TABLE a (x INT)",
        },
        Migration {
            version: 2,
            name: "b",
            sql: "CREATE TABLE b (x INT)",
        },
        Migration {
            version: 3,
            name: "c",
            sql: "CREATE TABLE c (x INT)",
        },
    ];

    #[test]
    fn versions_are_contiguous_from_one() {
        let versions: Vec<i64> = VERSIONS.iter().map(|(v, _)| *v).collect();
        assert_eq!(versions, (1..=VERSIONS.len() as i64).collect::<Vec<_>>());
        assert_eq!(LATEST, VERSIONS.len() as i64);
    }

    #[test]
    fn plans_only_what_is_missing_and_refuses_newer() {
        assert!(has_pending(THREE, 0).unwrap());
        assert!(!has_pending(THREE, latest_version(THREE)).unwrap());
        assert!(has_pending(THREE, latest_version(THREE) + 1).is_err());
        let first = (1, THREE[0].checksum());
        let rest = pending(THREE, &[first]).unwrap();
        assert_eq!(rest.first().map(|m| m.version), Some(2));
        assert!(pending(THREE, &[(99, "x".into())]).is_err());
    }
    #[test]
    fn splits_statements_and_drops_comments() {
        let m = Migration {
            version: 1,
            name: "t",
            sql: "-- header\nCREATE TABLE a (x INT);\n\n-- b\nCREATE INDEX i ON a (x);\n",
        };
        let s: Vec<_> = m.statements().collect();
        assert_eq!(s, vec!["CREATE TABLE a (x INT)", "CREATE INDEX i ON a (x)"]);
    }

    #[test]
    fn detects_edited_and_unknown_migrations() {
        let m = [Migration {
            version: 1,
            name: "a",
            sql: "x",
        }];
        assert!(verify_recorded(&m, &[(1, m[0].checksum())]).is_ok());
        assert!(verify_recorded(&m, &[(1, "0".into())]).is_err());
        assert!(verify_recorded(&m, &[(2, "0".into())]).is_err());
    }
}
