//! The command-line adapter and composition root: parses arguments, opens
//! the store the URL names, runs one use case, renders the result, and maps
//! failures to exit codes.

mod args;
mod coupon;
mod db;
mod discount;
pub mod error;
mod import;
pub mod output;
mod parse;
mod product;
mod stock;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, Parser};

use crate::adapters::persistence::{self, DatabaseUrl, StoreSettings};
use crate::app::{AppError, Catalog, Clock, RetryPolicy};
use crate::domain::Instant;
pub use args::Cli;
use args::{Command, GlobalOpts};
use error::{exit, Failure};
use output::Output;

/// The real clock, unless `MILLY_NOW` fixes "now" (for tests and for
/// reproducing what a command did at a given moment).
struct SystemClock {
    fixed: Option<Instant>,
}

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        self.fixed
            .unwrap_or_else(|| Instant::from_datetime(chrono::Utc::now()))
    }
}

/// Entry point used by `main`: never panics on bad input, never calls
/// `process::exit`, returns the documented exit code.
pub fn main() -> ExitCode {
    // `milly --version` is how scripts probe for milly: answer it before
    // building the whole command-line parser.
    let mut args = std::env::args_os().skip(1);
    if let (Some(flag), None) = (args.next(), args.next()) {
        if flag == "--version" || flag == "-V" {
            println!("milly {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
    }
    quiet_panics();
    match std::panic::catch_unwind(parse_and_run) {
        Ok(code) => code,
        Err(_) => ExitCode::from(exit::INTERNAL),
    }
}

/// A panic is a bug: report where it happened, but never its message, which
/// could quote a value that holds a password (a database URL).
fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let place = info
            .location()
            .map_or_else(String::new, |l| format!(" at {}:{}", l.file(), l.line()));
        error::to_stderr(&format!(
            "error: internal error: milly crashed{place}; please report this bug\n"
        ));
    }));
}

fn parse_and_run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help and version to stdout (exit 0) and usage
            // errors to stderr (exit 2).
            let _ = e.print();
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    let format = cli.global.format();
    match run(cli) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(failure) => {
            error::report(&failure, format.is_json());
            ExitCode::from(failure.exit_code)
        }
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    let global = cli.global;
    let format = global.format();
    let output = match cli.command {
        Command::Completions { shell } => Output::Raw(completion_script(shell)),
        command => with_catalog(&global, command)?,
    };
    let text = output::render(&output, format).map_err(Failure::internal)?;
    output::write_stdout(&text)
        .map_err(|e| Failure::internal(format!("cannot write the output: {e}")))
}

fn with_catalog(global: &GlobalOpts, command: Command) -> Result<Output, Failure> {
    let url = database_url(global)?;
    let settings = StoreSettings {
        lock_timeout: Duration::from_millis(global.lock_timeout_ms),
    };
    let store = persistence::open(&url, &settings).map_err(AppError::from)?;
    let clock = SystemClock {
        fixed: fixed_now()?,
    };
    let retry = RetryPolicy {
        attempts: global.retry_attempts,
        base_delay: Duration::from_millis(global.retry_base_delay_ms),
        max_delay: Duration::from_millis(global.retry_max_delay_ms),
    };
    let catalog = Catalog::new(store.as_ref(), &clock, retry);
    let migrates = !matches!(&command, Command::Db(db) if !db.migrates_first());
    let applied = if migrates {
        catalog.migrate()?
    } else {
        Vec::new()
    };
    if global.verbose && !applied.is_empty() {
        error::to_stderr(&format!("milly: applied migrations {applied:?} to {url}\n"));
    }
    let output = match command {
        Command::Product(c) => product::run(c, &catalog, global.format())?,
        Command::Stock(c) => {
            let result = stock::run(c, &catalog)?;
            if let (true, Some(attempts)) = (global.verbose, result.attempts) {
                error::to_stderr(&format!("milly: stock adjusted in {attempts} attempt(s)\n"));
            }
            result.output
        }
        Command::Discount(c) => discount::run(c, &catalog)?,
        Command::Coupon(c) => coupon::run(c, &catalog)?,
        Command::Import(c) => import::run(c, &catalog)?,
        Command::Db(c) => db::run(c, &catalog, applied)?,
        Command::Completions { .. } => unreachable!("handled before opening a store"),
    };
    Ok(output)
}

/// The URL from `--database-url` / `MILLY_DATABASE_URL`, or the default file
/// in the platform data directory, created (0700) on first use.
fn database_url(global: &GlobalOpts) -> Result<DatabaseUrl, Failure> {
    if let Some(raw) = &global.database_url {
        return DatabaseUrl::parse(raw).map_err(Failure::usage);
    }
    let dirs = directories::ProjectDirs::from("", "", "milly").ok_or_else(|| Failure {
        code: "database_unavailable",
        exit_code: exit::UNAVAILABLE,
        message: "cannot find a home directory for the default database; set --database-url or MILLY_DATABASE_URL".into(),
    })?;
    let folder: PathBuf = dirs.data_dir().to_path_buf();
    create_private_dir(&folder).map_err(|e| Failure {
        code: "database_unavailable",
        exit_code: exit::UNAVAILABLE,
        message: format!("cannot create the data folder {}: {e}", folder.display()),
    })?;
    Ok(DatabaseUrl::Sqlite(folder.join("milly.db")))
}

fn create_private_dir(folder: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(folder)
}

fn fixed_now() -> Result<Option<Instant>, Failure> {
    match std::env::var("MILLY_NOW") {
        Ok(raw) => Instant::parse("MILLY_NOW", &raw)
            .map(Some)
            .map_err(|e| Failure::usage(e.to_string())),
        Err(_) => Ok(None),
    }
}

/// The completion script for `shell`, generated from the clap definition.
pub fn completion_script(shell: clap_complete::Shell) -> String {
    let mut buffer = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "milly", &mut buffer);
    String::from_utf8(buffer).expect("completion scripts are UTF-8")
}
