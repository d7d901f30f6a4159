//! The composition root: the one place that names the concrete adapters.
//! Adding a backend is one line in [`BACKENDS`] (and its folder under
//! `adapters/persistence`).

use std::process::ExitCode;

use crate::adapters::cli::{self, Backends};
use crate::adapters::persistence::{mysql, sqlite, Backend};

/// Every backend, asked in this order which one a `--database-url` names
/// (each takes only its own schemes; SQLite also any plain file path), and
/// listed in this order when none does.
pub static BACKENDS: &[&dyn Backend] = &[&sqlite::SqliteBackend, &mysql::MysqlBackend];

/// What `main` runs: the command line over the backends above, with an
/// SQLite file as the default database.
pub fn main() -> ExitCode {
    cli::main(&Backends {
        all: BACKENDS,
        default_file: sqlite::file,
    })
}
