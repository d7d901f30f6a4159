//! `milly db migrate|status`.

use clap::Subcommand;

use super::output::{Cell, Output, Record};
use crate::app::ports::StoreStatus;
use crate::app::{AppError, Catalog};

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Apply pending migrations (other commands also do this on their own)
    Migrate,
    /// Show the backend, where it points, the schema version and row counts
    Status,
}

impl DbCommand {
    /// `db status` looks without touching; everything else brings the
    /// schema up to date first.
    pub fn migrates_first(&self) -> bool {
        matches!(self, DbCommand::Migrate)
    }
}

pub fn run(
    command: DbCommand,
    catalog: &Catalog<'_>,
    applied_on_open: Vec<i64>,
) -> Result<Output, AppError> {
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
            .field("schema_version", Cell::Int(status.schema_version)),
        DbCommand::Status => status_record(&status),
    };
    Ok(Output::One(record))
}

fn status_record(s: &StoreStatus) -> Record {
    Record::new()
        .field("backend", Cell::text(s.backend))
        .field("location", Cell::text(s.location.clone()))
        .field("schema_version", Cell::Int(s.schema_version))
        .field("supported_schema_version", Cell::Int(s.supported_version))
        .field("products", Cell::Int(s.products))
        .field("stock_events", Cell::Int(s.stock_events))
        .field("discounts", Cell::Int(s.discounts))
        .field("coupons", Cell::Int(s.coupons))
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
