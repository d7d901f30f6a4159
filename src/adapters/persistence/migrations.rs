//! Migrations embedded in the binary, shared bookkeeping for both backends.
//!
//! Each backend has its own folder under `migrations/` because the dialects
//! differ. A migration is recorded with a checksum of its text: one that was
//! edited after being applied, or one that the database has and the binary
//! does not, is an error rather than a silent skip.

use crate::app::ports::MigrationState;
use crate::domain::Instant;

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

/// The newest schema version in a list of migrations.
pub fn latest_version(migrations: &[Migration]) -> i64 {
    migrations.iter().map(|m| m.version).max().unwrap_or(0)
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
