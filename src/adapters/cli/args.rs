//! The command line's shape. The `///` comments are the help text.

use clap::{Args, Parser, Subcommand};

use super::output::Format;
use super::{coupon, db, discount, import, product, stock};

/// Run an e-commerce catalog from the command line: products, a stock
/// ledger, product discounts and customer coupons, on SQLite or MySQL.
#[derive(Debug, Parser)]
#[command(
    name = "milly",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalOpts {
    /// Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database
    /// [default: milly.db in the platform data directory]
    #[arg(
        long,
        env = "MILLY_DATABASE_URL",
        global = true,
        hide_env_values = true,
        value_name = "URL"
    )]
    pub database_url: Option<String>,

    /// Output format
    #[arg(
        short = 'o',
        long = "output",
        value_enum,
        global = true,
        default_value = "table"
    )]
    pub output: Format,

    /// Same as --output json
    #[arg(long, global = true)]
    pub json: bool,

    /// Attempts for a write that conflicts with other writers, first included
    #[arg(long, env = "MILLY_RETRY_ATTEMPTS", global = true, default_value_t = crate::app::RetryPolicy::DEFAULT_ATTEMPTS,
          value_parser = clap::value_parser!(u32).range(1..=1000), value_name = "N")]
    pub retry_attempts: u32,

    /// Cap of the first random wait after a conflict; it doubles per attempt
    #[arg(long, env = "MILLY_RETRY_BASE_DELAY_MS", global = true, default_value_t = crate::app::RetryPolicy::DEFAULT_BASE_DELAY_MS,
          value_parser = clap::value_parser!(u64).range(0..=60_000), value_name = "MS")]
    pub retry_base_delay_ms: u64,

    /// Longest single wait between attempts
    #[arg(long, env = "MILLY_RETRY_MAX_DELAY_MS", global = true, default_value_t = crate::app::RetryPolicy::DEFAULT_MAX_DELAY_MS,
          value_parser = clap::value_parser!(u64).range(0..=600_000), value_name = "MS")]
    pub retry_max_delay_ms: u64,

    /// How long to wait for another process's lock on the database
    #[arg(long, env = "MILLY_LOCK_TIMEOUT_MS", global = true, default_value_t = 5_000,
          value_parser = clap::value_parser!(u64).range(0..=600_000), value_name = "MS")]
    pub lock_timeout_ms: u64,

    /// Report retries and other details on stderr
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

impl GlobalOpts {
    pub fn format(&self) -> Format {
        if self.json {
            Format::Json
        } else {
            self.output
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, list and show products
    #[command(subcommand)]
    Product(product::ProductCommand),
    /// Change stock and read its ledger
    #[command(subcommand)]
    Stock(stock::StockCommand),
    /// Set a product's discount
    #[command(subcommand)]
    Discount(discount::DiscountCommand),
    /// Create and deactivate customer coupons
    #[command(subcommand)]
    Coupon(coupon::CouponCommand),
    /// Load products or coupons in bulk from NDJSON or CSV (all or nothing)
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Apply migrations and inspect the database
    #[command(subcommand)]
    Db(db::DbCommand),
    /// Print a shell completion script
    Completions {
        /// The shell to complete for
        shell: clap_complete::Shell,
    },
}
