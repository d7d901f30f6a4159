//! The stores: one adapter per database, each a plug-in ([`Backend`])
//! that knows its own URLs, chosen by the database URL.

pub mod backend;
mod decode;
mod import;
pub mod memory;
pub mod migrations;
pub mod mysql;
mod paging;
mod refusals;
mod sql;
pub mod sqlite;
mod unit;

use std::time::Duration;

pub use backend::{Backend, DatabaseUrl};

/// Connection settings that apply whatever the backend.
#[derive(Debug, Clone, Copy)]
pub struct StoreSettings {
    /// How long to wait for another writer's lock before giving up.
    pub lock_timeout: Duration,
    /// Whether an SQLite file that does not exist yet may be created. A
    /// read of a mistyped path must fail rather than look like an empty
    /// catalog, so only writes (and the default database) create one.
    pub create_missing: bool,
    /// How long connecting to a database server may take, handshake
    /// included (SQLite files ignore it).
    pub connect_timeout: Duration,
    /// `--dry-run`: every write runs, with every check the database makes,
    /// and then rolls back at the adapter's one commit point instead of
    /// committing; pending migrations are listed, not applied.
    pub dry_run: bool,
}
