//! The physical floor under each of milly's per-command workloads: a
//! process that connects, runs milly's best query for the workload once and
//! prints the rows, with nothing else (no clap, no schema check, no
//! domain types). The benchmark times milly against it; the ratio is how
//! much milly spends beyond what any correct program must.
//!
//! ```text
//! milly-floor DATABASE_URL show ID USER
//! milly-floor DATABASE_URL list OFFSET LIMIT
//! milly-floor DATABASE_URL name TERM LIMIT
//! milly-floor DATABASE_URL adjust ID CHANGE
//! ```
//!
//! Output is a JSON array of rows (`id`, `name`, `stock_count`,
//! `discount_id`, `final_cents`, `coupon_id` for show), or for adjust the
//! object `{"version": V, "total_after_change": T}`: enough for the harness
//! to compare with milly's JSON.

mod mysql_floor;
mod output;
mod search;
mod sqlite_floor;
mod workload;

use std::io::Write;
use std::process::ExitCode;

use workload::Workload;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (url, workload) = match parse(&args) {
        Ok(parsed) => parsed,
        Err(usage) => {
            eprintln!("milly-floor: {usage}");
            return ExitCode::from(2);
        }
    };
    let result = if let Some(path) = url.strip_prefix("sqlite:") {
        sqlite_floor::run(path, &workload)
    } else if url.starts_with("mysql://") {
        mysql_floor::run(url, &workload)
    } else {
        Err(format!("unsupported database URL {url}"))
    };
    match result.and_then(|text| {
        std::io::stdout()
            .lock()
            .write_all(text.as_bytes())
            .map_err(|e| e.to_string())
    }) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("milly-floor: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse(args: &[String]) -> Result<(&str, Workload), String> {
    let [url, rest @ ..] = args else {
        return Err("usage: milly-floor DATABASE_URL show|list|name|adjust ARGS...".into());
    };
    Ok((url, Workload::parse(rest)?))
}
