//! The command line's shape. The `///` comments are the help text.

use clap::{Args, Parser, Subcommand};

use crate::domain::{Actor, IdempotencyKey};

use super::output::Format;
use super::parse::domain;
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

/// Options every command takes, listed under their own heading so that a
/// command's own options stand out.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalOpts {
    /// Database: sqlite:PATH, a file path, or mysql://user:password@host:port/database
    /// [default: milly.db in the platform data directory]
    ///
    /// A MySQL URL may end in ?OPTION=VALUE&... with the options ssl-mode=disabled|preferred|required|verify_ca|verify_identity
    /// (default preferred: TLS when the server offers it; required and stronger never
    /// fall back to plaintext); ssl-ca=PATH (PEM file of the CA certificates to trust;
    /// without ssl-mode it means verify_ca); socket=PATH (a Unix socket instead of TCP,
    /// never encrypted). mariadb:// is the same as mysql://.
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

    /// Same as --output json (together with another --output, a usage error)
    #[arg(long, global = true, conflicts_with = "output")]
    pub json: bool,

    /// Attempts for a write that conflicts with other writers, first included
    #[arg(long, env = "MILLY_RETRY_ATTEMPTS", global = true, hide_env_values = true, default_value_t = crate::app::RetryPolicy::DEFAULT_ATTEMPTS,
          value_parser = clap::value_parser!(u32).range(1..=1000), value_name = "N")]
    pub retry_attempts: u32,

    /// Cap of the first random wait after a conflict; it doubles per attempt
    #[arg(long, env = "MILLY_RETRY_BASE_DELAY_MS", global = true, hide_env_values = true, default_value_t = crate::app::RetryPolicy::DEFAULT_BASE_DELAY_MS,
          value_parser = clap::value_parser!(u64).range(0..=60_000), value_name = "MS")]
    pub retry_base_delay_ms: u64,

    /// Longest single wait between attempts
    #[arg(long, env = "MILLY_RETRY_MAX_DELAY_MS", global = true, hide_env_values = true, default_value_t = crate::app::RetryPolicy::DEFAULT_MAX_DELAY_MS,
          value_parser = clap::value_parser!(u64).range(0..=600_000), value_name = "MS")]
    pub retry_max_delay_ms: u64,

    /// Longest time one command waits for other processes' locks, retries included
    #[arg(long, env = "MILLY_LOCK_TIMEOUT_MS", global = true, hide_env_values = true, default_value_t = 5_000,
          value_parser = clap::value_parser!(u64).range(0..=600_000), value_name = "MS")]
    pub lock_timeout_ms: u64,

    /// Longest time connecting to a MySQL server may take, TLS and login included
    #[arg(long, env = "MILLY_CONNECT_TIMEOUT_MS", global = true, hide_env_values = true, default_value_t = 5_000,
          value_parser = clap::value_parser!(u64).range(1..=600_000), value_name = "MS")]
    pub connect_timeout_ms: u64,
    /// Check and compute a write as for real, print what it would print
    /// and exit as it would, but keep nothing (every write transaction is
    /// rolled back; a missing database is not created, nor migrated)
    #[arg(long, global = true)]
    pub dry_run: bool,

    /// Who is making the change, recorded on every row written and shown in
    /// histories (1 to 64 printable characters) [default: the OS user name]
    #[arg(
        long,
        env = "MILLY_ACTOR",
        global = true,
        hide_env_values = true,
        value_name = "NAME",
        value_parser = domain(Actor::parse)
    )]
    pub actor: Option<Actor>,

    /// Run a write at most once: a rerun with the same key and the same request
    /// prints the first run's result and writes nothing; the same key with
    /// another request is refused (exit 4). 1 to 128 characters of A-Z a-z 0-9
    /// . _ : - (ignored by commands that only read)
    #[arg(long, global = true, value_name = "KEY", value_parser = domain(IdempotencyKey::parse))]
    pub idempotency_key: Option<IdempotencyKey>,

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

impl Command {
    /// Whether the command only reads. A read never creates a missing SQLite
    /// file named by `--database-url`: a mistyped path must fail, not look
    /// like an empty catalog. The match is exhaustive so that every new
    /// command has to choose.
    pub fn only_reads(&self) -> bool {
        use coupon::CouponCommand as C;
        use db::DbCommand as D;
        use product::ProductCommand as P;
        use stock::StockCommand as S;
        match self {
            Command::Product(P::List(_) | P::Show(_) | P::History(_))
            | Command::Discount(discount::DiscountCommand::List(_))
            | Command::Coupon(C::List(_) | C::Show(_))
            | Command::Stock(S::History(_) | S::Verify(_))
            | Command::Db(D::Status)
            | Command::Completions { .. }
            | Command::Man { .. } => true,
            Command::Product(P::Create(_) | P::Update(_) | P::Archive(_) | P::Unarchive(_))
            | Command::Stock(S::Adjust(_) | S::Revert(_))
            | Command::Discount(
                discount::DiscountCommand::Set(_) | discount::DiscountCommand::Clear(_),
            )
            | Command::Coupon(C::Create(_) | C::Deactivate(_))
            | Command::Import(_)
            | Command::Db(D::Migrate | D::PruneKeys(_)) => false,
        }
    }
}

#[derive(Debug, Clone, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Create, change, archive, list and show products
    #[command(subcommand)]
    Product(product::ProductCommand),
    /// Change stock and read its ledger
    #[command(subcommand)]
    Stock(stock::StockCommand),
    /// Set, list and clear product discounts
    #[command(subcommand)]
    Discount(discount::DiscountCommand),
    /// Create, list, show and deactivate customer coupons
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
    /// Print the manual page (roff) of milly or of one command
    Man {
        /// The command, e.g. `product show`; none for milly itself
        command: Vec<String>,
    },
}
