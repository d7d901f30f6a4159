//! The store contract: one suite of stories written against the
//! `CatalogStore` port, run in-process on every adapter.
//!
//! Each story gets a fresh, empty database of one backend. SQLite runs
//! always; MySQL runs when `MILLY_TEST_MYSQL_URL` names a server (each story
//! then creates its own database and drops it afterwards), and is reported as
//! *ignored* otherwise, never as passed; a Galera cluster likewise when
//! `MILLY_TEST_GALERA_URLS` lists its nodes (the stories use the first).
//! Under `CI` an unset variable fails that backend's stories instead of
//! ignoring them (see `tests/common/ci.rs`). Adding a backend means
//! implementing the port and adding one line to [`backends`].

mod backends;
#[path = "../common/ci.rs"]
mod ci;
mod script_stories;
mod stories;

use libtest_mimic::{Arguments, Failed, Trial};

use backends::Backend;

/// Every backend the suite knows: a name, and how to open a fresh database
/// (or why it cannot run here).
fn backends() -> Vec<Backend> {
    vec![
        Backend::sqlite(),
        Backend::mysql("mysql", "MILLY_TEST_MYSQL_URL"),
        Backend::mysql("galera", "MILLY_TEST_GALERA_URLS"),
    ]
}

fn main() {
    let args = Arguments::from_args();
    let in_ci = ci::in_ci();
    let mut trials = Vec::new();
    for backend in backends() {
        for &(name, story) in stories::ALL {
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
