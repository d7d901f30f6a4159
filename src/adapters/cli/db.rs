//! `milly db migrate|status`.

use clap::{Args, Subcommand};

use super::output::Output;
use super::record::Record;
use super::views;
use crate::app::{AppError, Catalog};

#[derive(Debug, Clone, Subcommand)]
#[command(defer = true)]
pub enum DbCommand {
    /// Apply pending migrations (the only way to upgrade a MySQL schema; other
    /// commands set up an empty database, and upgrade an SQLite file, on their own)
    Migrate,
    /// Show the backend, where it points, the schema version, pending migrations and row counts
    Status,
    /// Forget idempotency keys recorded more than DAYS days ago (their writes stay)
    PruneKeys(PruneKeysArgs),
}

#[derive(Debug, Clone, Args)]
pub struct PruneKeysArgs {
    /// Keep the keys of the last DAYS days
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    older_than: u32,
}

pub fn run(
    command: DbCommand,
    catalog: &Catalog<'_>,
    applied_on_open: Vec<i64>,
) -> Result<Output, AppError> {
    if let DbCommand::PruneKeys(args) = &command {
        let pruned = catalog.prune_keys(args.older_than)?;
        return Ok(Output::One(Record::of(&views::KeysPruned::of(pruned))));
    }
    let status = catalog.database_status()?;
    let record = match command {
        DbCommand::Migrate => {
            // After a dry run the schema is still the old one: say where a
            // real run would leave it.
            let version = (applied_on_open.iter().copied()).fold(status.schema_version, i64::max);
            Record::of(&views::Migrated::of(&status, &applied_on_open, version))
        }
        DbCommand::Status => Record::of(&views::DatabaseStatus::of(
            &status,
            catalog.connection_tls()?,
        )),
        DbCommand::PruneKeys(_) => unreachable!("answered above"),
    };
    Ok(Output::One(record))
}
