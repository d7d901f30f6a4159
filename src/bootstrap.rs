//! The composition root: the one place that names the concrete adapters.
//! Adding a backend is one line in [`BACKENDS`] (and its folder under
//! `adapters/persistence`).

use std::process::ExitCode;

use crate::adapters::cli::{self, Backends};
use crate::adapters::persistence::{mysql, sqlite, Backend};

/// Every backend, asked in this order which one a `--database-url` names;
/// SQLite last, since it takes any plain file path.
pub static BACKENDS: &[&dyn Backend] = &[&mysql::MysqlBackend, &sqlite::SqliteBackend];

/// What `main` runs: the command line over the backends above, with an
/// SQLite file as the default database.
pub fn main() -> ExitCode {
    cli::main(&Backends {
        all: BACKENDS,
        default_file: sqlite::file,
    })
}
