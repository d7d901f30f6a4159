//! The store contract: one suite of stories written against the
//! `CatalogStore` port, run in-process on every adapter.
//!
//! Each story gets a fresh, empty database of one backend. SQLite runs
//! always; MySQL runs when `MILLY_TEST_MYSQL_URL` names a server (each story
//! then creates its own database and drops it afterwards), and is reported as
//! *ignored* otherwise, never as passed; a Galera cluster likewise when
//! `MILLY_TEST_GALERA_URLS` lists its nodes (the stories use the first).
//! Under `CI` an unset variable fails that backend's stories instead of
//! ignoring them (see `tests/common/ci.rs`). The in-memory store runs always
//! too, every story but those in [`NEEDS_SQL`]. Adding a backend means
//! implementing the ports and adding one line to [`backends`].

mod backends;
#[path = "../common/ci.rs"]
mod ci;
mod ledger_stories;
mod script_stories;
mod stories;
mod time_stories;

use libtest_mimic::{Arguments, Failed, Trial};

use backends::Backend;

/// Every backend the suite knows: a name, and how to open a fresh database
/// (or why it cannot run here).
fn backends() -> Vec<Backend> {
    vec![
        Backend::sqlite(),
        Backend::memory(),
        Backend::mysql("mysql", "MILLY_TEST_MYSQL_URL"),
        Backend::mysql("galera", "MILLY_TEST_GALERA_URLS"),
    ]
}

/// The stories that reach past the port with SQL (a raw client's reads and
/// writes, the dialect's own constraints and schema versions): they do not
/// apply to a backend without SQL, which is not given them at all.
const NEEDS_SQL: &[&str] = &[
    "name_searches_find_what_a_full_scan_finds",
    "migrating_twice_applies_nothing_and_status_counts_rows",
    "a_newer_schema_is_refused",
    "the_database_itself_refuses_deleting_products",
    "the_database_itself_limits_text",
    "the_database_itself_allows_active_discounts_one_per_schedule_version",
    "a_result_too_large_for_the_server_is_refused_before_writing",
    "an_older_schema_is_upgraded_by_migrate_and_by_prepare_only_on_a_file",
    "every_row_written_records_its_actor",
    "ledger_scans_hand_over_rows_as_stored",
    "a_stock_batch_commits_all_or_nothing",
    "a_dry_run_store_checks_every_write_and_keeps_nothing",
    "the_database_itself_refuses_changing_or_removing_ledger_rows",
];

fn main() {
    let args = Arguments::from_args();
    let in_ci = ci::in_ci();
    let mut trials = Vec::new();
    for backend in backends() {
        for &(name, story) in stories::ALL {
            if !backend.has_sql() && NEEDS_SQL.contains(&name) {
                continue;
            }
            let backend = backend.clone();
            // Under CI the story runs, and fails in `fresh` with the reason.
            let skip = backend.skip_reason().is_some() && !in_ci;
            trials.push(
                Trial::test(format!("{name}::{}", backend.name), move || {
                    let db = backend.fresh().map_err(Failed::from)?;
                    story(&db);
                    Ok(())
                })
                .with_ignored_flag(skip),
            );
        }
    }
    for backend in backends() {
        if let Some(reason) = backend.skip_reason() {
            if in_ci {
                eprintln!(
                    "store contract: failing every {} story: {reason}, and CI is set",
                    backend.name
                );
            } else {
                eprintln!(
                    "store contract: skipping every {} story: {reason}",
                    backend.name
                );
            }
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
