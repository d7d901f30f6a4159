//! The database's schema and what `db status` reports about it.

use super::StoreError;
use crate::domain::Instant;

/// One migration known to the binary, and whether the database has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationState {
    pub version: i64,
    pub name: String,
    pub applied_at: Option<Instant>,
}

/// What `db status` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreStatus {
    pub backend: &'static str,
    /// Where the store points, with any password masked.
    pub location: String,
    pub schema_version: i64,
    pub supported_version: i64,
    pub migrations: Vec<MigrationState>,
    pub products: i64,
    pub stock_events: i64,
    pub discounts: i64,
    pub coupons: i64,
}

/// Migrations and status.
pub trait SchemaStore {
    /// Applies pending migrations (safe when several processes do it at once)
    /// and returns the versions this call applied. Every backend has the same
    /// versions with the same names. MUST refuse with `Unavailable` a database
    /// whose schema is newer than this binary, changing nothing.
    fn migrate(&self) -> Result<Vec<i64>, StoreError>;

    /// What every command but `db migrate` and `db status` calls first: sets
    /// up an empty database like `migrate`, and upgrades an older schema
    /// where that is safe without asking (a local file). A store shared by
    /// other installations (a database server) MUST refuse an older schema
    /// with `SchemaOutdated` instead, changing nothing: upgrading it is the
    /// operator's decision (`db migrate`), since older binaries stop working.
    fn prepare(&self) -> Result<Vec<i64>, StoreError> {
        self.migrate()
    }

    /// Schema and row counts, without changing anything.
    fn status(&self) -> Result<StoreStatus, StoreError>;

    /// The TLS protocol version of the connection to the database server
    /// (`TLSv1.3`), `none` for a plaintext one, or `None` for a store that
    /// has no connection (a local file). Apart from `status` so that `db
    /// status` alone pays for asking.
    fn tls_version(&self) -> Result<Option<String>, StoreError> {
        Ok(None)
    }

    /// The database's own clock, now, for a store that clients on many
    /// machines share (a database server): every row they record is then
    /// stamped by one clock, so a client whose clock is off cannot reorder
    /// what was recorded or rewrite what an earlier moment looked like.
    /// `None` for a store on this machine (a local file), whose clock is
    /// the machine's.
    fn database_time(&self) -> Result<Option<Instant>, StoreError> {
        Ok(None)
    }
}
