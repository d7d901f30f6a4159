//! `milly db migrate|status`.

use clap::{Args, Subcommand};

use super::output::{Cell, Output, Record};
use crate::app::ports::StoreStatus;
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
        return Ok(Output::One(
            Record::new().field("pruned_keys", Cell::Int(pruned as i64)),
        ));
    }
    let status = catalog.database_status()?;
    let record = match command {
        DbCommand::Migrate => Record::new()
            .field("backend", Cell::text(status.backend))
            .field("location", Cell::text(status.location.clone()))
            .field(
                "applied",
                Cell::List(
                    applied_on_open
                        .iter()
                        .map(|v| Record::new().field("version", Cell::Int(*v)))
                        .collect(),
                ),
            )
            // After a dry run the schema is still the old one: say where a
            // real run would leave it.
            .field(
                "schema_version",
                Cell::Int(
                    applied_on_open
                        .iter()
                        .copied()
                        .fold(status.schema_version, i64::max),
                ),
            ),
        DbCommand::Status => status_record(&status, catalog.connection_tls()?),
        DbCommand::PruneKeys(_) => unreachable!("answered above"),
    };
    Ok(Output::One(record))
}

/// `tls` is the connection's TLS version or `none`; null (an empty cell) for
/// SQLite, which has no connection to protect.
fn status_record(s: &StoreStatus, tls: Option<String>) -> Record {
    Record::new()
        .field("backend", Cell::text(s.backend))
        .field("location", Cell::text(s.location.clone()))
        .field("tls", Cell::opt(tls, Cell::text))
        .field("schema_version", Cell::Int(s.schema_version))
        .field("supported_schema_version", Cell::Int(s.supported_version))
        .field("products", Cell::Int(s.products))
        .field("stock_events", Cell::Int(s.stock_events))
        .field("discounts", Cell::Int(s.discounts))
        .field("coupons", Cell::Int(s.coupons))
        .field(
            "pending",
            Cell::List(
                s.migrations
                    .iter()
                    .filter(|m| m.applied_at.is_none())
                    .map(|m| {
                        Record::new()
                            .field("version", Cell::Int(m.version))
                            .field("name", Cell::text(m.name.clone()))
                    })
                    .collect(),
            ),
        )
        .field(
            "migrations",
            Cell::List(
                s.migrations
                    .iter()
                    .map(|m| {
                        Record::new()
                            .field("version", Cell::Int(m.version))
                            .field("name", Cell::text(m.name.clone()))
                            .field("applied_at", Cell::opt(m.applied_at, Cell::Time))
                    })
                    .collect(),
            ),
        )
}
