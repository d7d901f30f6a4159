//! Integration tests: the built `milly` binary against real databases.
//! One test binary (faster to build), one module per area. How tests are
//! declared and why this binary has its own `main`: see `harness.rs`.

#[path = "../common/ci.rs"]
mod ci;
mod harness;

mod as_of;
mod bad_input;
mod completions;
mod concurrency;
mod coupons_and_discounts;
mod dry_run;
mod exit_codes;
mod expect_version;
mod faults;
mod formats;
mod galera;
mod history;
mod idempotency;
mod import;
mod import_stock;
mod lifecycle;
mod list_all;
mod products;
mod relative_times;
mod revert;
mod security;
mod snapshots;
mod stock;
mod storage;
mod tls;
mod upgrade;
mod urls;
mod verify;
mod waits;

fn main() -> std::process::ExitCode {
    let args = libtest_mimic::Arguments::from_args();
    libtest_mimic::run(&args, harness::trials()).exit_code()
}
