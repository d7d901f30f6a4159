//! The command-line adapter: parses arguments, opens the store the URL
//! names (among the backends the composition root hands it), runs one use
//! case, renders the result, and maps failures to exit codes.

mod args;
mod coupon;
mod db;
mod discount;
pub mod error;
mod help;
mod import;
pub mod output;
mod parse;
mod product;
mod product_lifecycle;
mod progress;
mod record;
mod request;
mod stock;
mod stock_verify;
mod stored;
mod stream;
mod table;
mod views;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgMatches, CommandFactory, FromArgMatches};

use crate::adapters::persistence::{Backend, DatabaseUrl, StoreSettings};
use crate::app::usecases::{Keyed, Once};
use crate::app::{AppError, Catalog, Clock, RetryPolicy};
use crate::domain::{Actor, IdempotencyKey, Instant};
pub use args::Cli;
use args::{Command, GlobalOpts};
use error::{exit, Failure};
use output::Output;

/// The real clock, unless `MILLY_NOW` fixes "now" (for tests and for
/// reproducing what a command did at a given moment). On a database server
/// it is the server's clock, which every client shares: this machine's
/// clock, set off by how far it was from the server's when the session
/// started.
#[derive(Default)]
struct SystemClock {
    fixed: Option<Instant>,
    /// The database's clock minus this machine's.
    offset: chrono::Duration,
}

impl SystemClock {
    /// The clock for `store`: `fixed`, else the database's own, else this
    /// machine's.
    fn for_store(
        fixed: Option<Instant>,
        store: &dyn crate::app::CatalogStore,
    ) -> Result<Self, AppError> {
        if fixed.is_some() {
            return Ok(SystemClock {
                fixed,
                ..SystemClock::default()
            });
        }
        let offset = match store.database_time()? {
            Some(database) => database.as_datetime() - chrono::Utc::now(),
            None => chrono::Duration::zero(),
        };
        Ok(SystemClock {
            fixed: None,
            offset,
        })
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        self.fixed
            .unwrap_or_else(|| Instant::from_datetime(chrono::Utc::now() + self.offset))
    }
}

/// The databases the command line can open, as the composition root wires
/// them.
pub struct Backends {
    /// Asked in order which one a `--database-url` names.
    pub all: &'static [&'static dyn Backend],
    /// The URL of the default database file (no `--database-url`).
    pub default_file: fn(PathBuf) -> DatabaseUrl,
}

/// Entry point used by `main`: never panics on bad input, never calls
/// `process::exit`, returns the documented exit code.
pub fn main(backends: &Backends) -> ExitCode {
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
    // Nothing is used after a panic but the exit code.
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse_and_run(backends))) {
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

fn parse_and_run(backends: &Backends) -> ExitCode {
    // The plain definition parses as the polished one does, and costs less
    // to build on every start; help and errors come from the polished one,
    // which people read.
    // What was typed is kept: keys recorded by the first request format
    // are found again from it.
    let parsed = Cli::command()
        .try_get_matches()
        .or_else(|_| help::command().try_get_matches())
        .and_then(|matches| {
            Cli::from_arg_matches_mut(&mut matches.clone()).map(|cli| (cli, matches))
        });
    let (cli, given) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            // A value the domain refuses is reported as every invalid input
            // is, in the format asked for.
            if let Some(refused) = parse::refusal(&e) {
                let failure = Failure::from(AppError::Invalid(refused.clone()));
                error::report(&failure, asks_for_json());
                return ExitCode::from(failure.exit_code);
            }
            // clap prints help and version to stdout (exit 0) and usage
            // errors to stderr (exit 2).
            let _ = e.print();
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    let format = cli.global.format();
    match run(cli, &given, backends) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(failure) => {
            error::report(&failure, format.is_json());
            ExitCode::from(failure.exit_code)
        }
    }
}

/// Whether the command line asks for JSON output, when some of its values
/// are refused: read with every value taken as given.
fn asks_for_json() -> bool {
    let Ok(matches) = parse::lenient(Cli::command()).try_get_matches() else {
        return false;
    };
    // Global options are copied into every subcommand's matches.
    let mut leaf = &matches;
    while let Some((_, sub)) = leaf.subcommand() {
        leaf = sub;
    }
    let json = leaf.get_flag("json");
    let output = leaf.get_one::<output::Format>("output").copied();
    json || output.is_some_and(output::Format::is_json)
}

fn run(cli: Cli, given: &ArgMatches, backends: &Backends) -> Result<(), Failure> {
    let global = cli.global;
    let format = global.format();
    let output = match cli.command {
        Command::Completions { shell } => Output::Raw(completion_script(shell)),
        Command::Man { command } => Output::Raw(help::man_page(&command).map_err(Failure::usage)?),
        command => with_catalog(&global, command, given, backends)?,
    };
    let text = output::render(&output, format).map_err(Failure::internal)?;
    output::write_stdout(&text)
        .map_err(|e| Failure::internal(format!("cannot write the output: {e}")))
}

fn with_catalog(
    global: &GlobalOpts,
    command: Command,
    given: &ArgMatches,
    backends: &Backends,
) -> Result<Output, Failure> {
    let key = global.idempotency_key.as_ref();
    let url = database_url(global, backends)?;
    let actor = actor(global);
    let settings = StoreSettings {
        lock_timeout: Duration::from_millis(global.lock_timeout_ms),
        // The default database just works, whatever the first command; a
        // dry run creates nothing.
        create_missing: !global.dry_run && (global.database_url.is_none() || !command.only_reads()),
        dry_run: global.dry_run,
        connect_timeout: Duration::from_millis(global.connect_timeout_ms),
    };
    let store = url.open(&settings).map_err(AppError::from)?;
    let clock = SystemClock::for_store(fixed_now()?, store.as_ref())?;
    let retry = RetryPolicy {
        attempts: global.retry_attempts,
        base_delay: Duration::from_millis(global.retry_base_delay_ms),
        max_delay: Duration::from_millis(global.retry_max_delay_ms),
        // Each attempt may itself wait up to the lock timeout; the budget
        // makes the lock timeout the total for the command.
        time_budget: Some(Duration::from_millis(global.lock_timeout_ms)),
    };
    let catalog = Catalog::new(store.as_ref(), &clock, retry).with_actor(actor);
    let applied = match &command {
        Command::Db(db::DbCommand::Migrate) => catalog.migrate()?,
        Command::Db(db::DbCommand::Status) => Vec::new(),
        _ => catalog.prepare()?,
    };
    // `db migrate` reports what it would apply and `db status` what is
    // pending; every other command needs the schema it was written for.
    let reports_schema = matches!(
        &command,
        Command::Db(db::DbCommand::Migrate | db::DbCommand::Status)
    );
    if global.dry_run && !applied.is_empty() && !reports_schema {
        return Err(dry_run_needs_migrating(&applied));
    }
    if global.verbose && !applied.is_empty() {
        let verb = if global.dry_run {
            "would apply"
        } else {
            "applied"
        };
        error::to_stderr(&format!("milly: {verb} migrations {applied:?} to {url}\n"));
    }
    match command {
        Command::Db(c) => Ok(db::run(c, &catalog, applied)?),
        command if command.only_reads() => Ok(dispatch(command, &catalog, global)?),
        command => write_once(command, given, &catalog, global, key),
    }
}

/// Runs a write command, under its idempotency key if it has one. Every
/// write command comes through here, so each is idempotent by construction:
/// the request is the command with its arguments (and an import's input),
/// the recorded result is the output it prints. `given` is what was typed.
fn write_once(
    mut command: Command,
    given: &ArgMatches,
    catalog: &Catalog<'_>,
    global: &GlobalOpts,
    key: Option<&IdempotencyKey>,
) -> Result<Output, Failure> {
    let (keyed, earlier) = match key {
        Some(key) => {
            let fingerprints = request::fingerprints(&mut command, given)?;
            let keyed = Keyed {
                key,
                fingerprint: fingerprints.current,
            };
            (Some(keyed), fingerprints.earlier)
        }
        None => (None, Vec::new()),
    };
    let hint = key.is_some();
    let outcome = catalog
        .once_since(
            keyed,
            &earlier,
            |catalog| dispatch(command.clone(), catalog, global),
            |output| stored::encode(output).map_err(AppError::Internal),
        )
        .map_err(|e| request::explain(e, &command, hint))?;
    match outcome {
        Once::Done(output) => Ok(output),
        Once::Replayed(text) => {
            if global.verbose {
                error::to_stderr("milly: already done under this idempotency key; printing the recorded result\n");
            }
            stored::decode(&text).map_err(|e| {
                Failure::internal(format!(
                    "cannot read the result recorded under the key: {e}"
                ))
            })
        }
    }
}

/// Runs one catalog command (not `db`).
fn dispatch(
    command: Command,
    catalog: &Catalog<'_>,
    global: &GlobalOpts,
) -> Result<Output, AppError> {
    Ok(match command {
        Command::Product(c) => product::run(c, catalog, global.format())?,
        Command::Stock(c) => {
            let result = stock::run(c, catalog, global.format())?;
            if let (true, Some(attempts)) = (global.verbose, result.attempts) {
                error::to_stderr(&format!("milly: stock adjusted in {attempts} attempt(s)\n"));
            }
            result.output
        }
        Command::Discount(c) => discount::run(c, catalog)?,
        Command::Coupon(c) => coupon::run(c, catalog)?,
        Command::Import(c) => import::run(c, catalog, global.format())?,
        Command::Db(_) | Command::Completions { .. } | Command::Man { .. } => {
            unreachable!("handled before dispatching")
        }
    })
}

/// A dry run against a schema this binary would first upgrade: the upgrade
/// cannot be rolled back on every backend, so the dry run does not start.
fn dry_run_needs_migrating(pending: &[i64]) -> Failure {
    Failure {
        code: "schema_outdated",
        exit_code: exit::UNAVAILABLE,
        message: format!(
            "the database schema lacks migrations {pending:?}, and a dry run does not migrate; run `milly db migrate` first (`milly --dry-run db migrate` lists them)"
        ),
    }
}

/// The URL from `--database-url` / `MILLY_DATABASE_URL`, or the default file
/// in the platform data directory, created (0700) on first use.
fn database_url(global: &GlobalOpts, backends: &Backends) -> Result<DatabaseUrl, Failure> {
    if let Some(raw) = &global.database_url {
        return DatabaseUrl::parse(raw, backends.all).map_err(Failure::usage);
    }
    let dirs = directories::ProjectDirs::from("", "", "milly").ok_or_else(|| Failure {
        code: "database_unavailable",
        exit_code: exit::UNAVAILABLE,
        message: "cannot find a home directory for the default database; set --database-url or MILLY_DATABASE_URL".into(),
    })?;
    let folder: PathBuf = dirs.data_dir().to_path_buf();
    if global.dry_run {
        // Creates nothing: a missing folder means a missing database, which
        // opening then reports.
        return Ok((backends.default_file)(folder.join("milly.db")));
    }
    create_private_dir(&folder).map_err(|e| Failure {
        code: "database_unavailable",
        exit_code: exit::UNAVAILABLE,
        message: format!("cannot create the data folder {}: {e}", folder.display()),
    })?;
    Ok((backends.default_file)(folder.join("milly.db")))
}

fn create_private_dir(folder: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    // Elsewhere the folder inherits the access rules of its parent.
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(folder)
}

/// `--actor` / `MILLY_ACTOR`, or the OS user name (`USER`, `USERNAME` on
/// Windows), or `unknown` when none is set (a cron job's bare environment):
/// every row records someone.
fn actor(global: &GlobalOpts) -> Actor {
    if let Some(actor) = &global.actor {
        return actor.clone();
    }
    let os_user = ["USER", "USERNAME"]
        .iter()
        .filter_map(|var| std::env::var(var).ok())
        .find_map(|name| Actor::parse("USER", name.trim()).ok());
    os_user.unwrap_or_else(|| Actor::parse("actor", "unknown").expect("a valid name"))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::usecases::ListProducts;
    use record::{Cell, Record};

    /// A key recorded by milly 0.1.0 for `product create --name Mug
    /// --price 12` replays its recorded result, and refuses another request.
    #[test]
    fn a_key_recorded_under_request_format_1_replays() {
        let (args, recorded) = request::tests::RELEASE_0_1_0[0];
        assert_eq!(
            args,
            ["product", "create", "--name", "Mug", "--price", "12"]
        );
        let dir = tempfile::tempdir().unwrap();
        let settings = StoreSettings {
            lock_timeout: Duration::from_secs(5),
            create_missing: true,
            dry_run: false,
            connect_timeout: Duration::from_secs(5),
        };
        let store = crate::adapters::persistence::sqlite::file(dir.path().join("m.db"))
            .open(&settings)
            .unwrap();
        let clock = SystemClock::default();
        let catalog = Catalog::new(store.as_ref(), &clock, RetryPolicy::default());
        catalog.prepare().unwrap();
        let key = IdempotencyKey::parse("key", "k").unwrap();
        let first = Output::One(Record::from_cells(vec![(
            "id",
            Cell::Text("PROD01JD5Q3Z8X4N2M7K9P6R3T1V0W".into()),
        )]));
        let as_recorded = Keyed {
            key: &key,
            fingerprint: recorded.into(),
        };
        catalog
            .once(
                Some(as_recorded),
                |_| Ok(()),
                |()| stored::encode(&first).map_err(AppError::Internal),
            )
            .unwrap();
        let run = |args: &[&str]| {
            let given = Cli::command()
                .try_get_matches_from(["milly"].iter().chain(args))
                .unwrap();
            let cli = Cli::from_arg_matches(&given).unwrap();
            write_once(cli.command, &given, &catalog, &cli.global, Some(&key))
        };
        let replayed = run(args).unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!(
            output::render(&replayed, output::Format::Json),
            output::render(&first, output::Format::Json)
        );
        let listed = catalog
            .list_products(ListProducts {
                name_contains: None,
                page: 1,
                page_size: 10,
                at: None,
                include_archived: true,
            })
            .unwrap();
        assert!(listed.is_empty(), "the replay wrote nothing");
        let other = run(&["product", "create", "--name", "Mug", "--price", "12.50"]);
        assert_eq!(other.err().map(|f| f.code), Some("idempotency_key_reused"));
    }
}
