//! Many real `milly` processes at once against one product or one new database.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Instant;

use crate::harness::{Backend, TestDb};
use crate::on_every_backend;

const PROCESSES: usize = 8;
const ADJUSTMENTS: usize = 25;

on_every_backend!(
    eight_processes_adjusting_one_product_lose_no_update,
    eight_processes_opening_an_empty_database_all_succeed,
);

/// 8 workers, each running 25 `stock adjust` processes back to back, all on
/// one product: every update lands, versions stay contiguous, and every total
/// is the previous total plus the change. The workers start together, so
/// writers do reach the product at once: on MySQL they take the same version
/// and the test checks that conflicts happened and were retried (or it would
/// prove nothing about them); on SQLite they queue on the write lock and
/// every one succeeds at its first attempt.
fn eight_processes_adjusting_one_product_lose_no_update(db: &TestDb) {
    let id = db.product("Contended", "1", "1000");
    let db = Arc::new(db);
    let start = Arc::new(Barrier::new(PROCESSES));
    let started = Instant::now();
    let attempts: Vec<u32> = thread::scope(|scope| {
        let workers: Vec<_> = (0..PROCESSES)
            .map(|worker| {
                let db = Arc::clone(&db);
                let id = id.clone();
                let start = Arc::clone(&start);
                scope.spawn(move || {
                    start.wait();
                    (0..ADJUSTMENTS)
                        .map(|i| {
                            // Mix additions and removals; the sum is known.
                            let change = if (worker + i) % 3 == 0 { "-1" } else { "+2" };
                            let run = db
                                .run(&["-v", "stock", "adjust", &id, "--change", change])
                                .expect(0);
                            parse_attempts(&run.stderr)
                        })
                        .collect::<Vec<u32>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let wall = started.elapsed();

    let history = db.json(&["stock", "history", &id]);
    let events = history.as_array().unwrap();
    assert_eq!(events.len(), 1 + PROCESSES * ADJUSTMENTS);
    let mut total = 0;
    for (index, event) in events.iter().enumerate() {
        assert_eq!(
            event["version"].as_i64().unwrap(),
            index as i64 + 1,
            "versions are contiguous"
        );
        total += event["change"].as_i64().unwrap();
        assert_eq!(
            event["total_after_change"].as_i64().unwrap(),
            total,
            "each total follows from the last"
        );
    }
    let expected: i64 = 1000
        + (0..PROCESSES)
            .flat_map(|w| (0..ADJUSTMENTS).map(move |i| if (w + i) % 3 == 0 { -1 } else { 2 }))
            .sum::<i64>();
    assert_eq!(total, expected);
    let retries: u32 = attempts.iter().map(|a| a - 1).sum();
    let max_attempts = attempts.iter().max().unwrap();
    match db.backend {
        // Each attempt holds SQLite's write lock from its read to its
        // append: writers wait in line, so none loses a race.
        Backend::Sqlite => assert_eq!(
            retries, 0,
            "every adjustment succeeds on its first attempt: {attempts:?}"
        ),
        // milly retries only conflicts, so a retry is a conflict that was
        // met: MySQL's reads do not wait for writers.
        Backend::Mysql => assert!(
            retries > 0,
            "{} concurrent adjustments met no conflict: the retry path went untested",
            attempts.len()
        ),
    }
    println!(
        "{:?}: {PROCESSES} processes x {ADJUSTMENTS} adjustments: all {} succeeded, {retries} retries (max {max_attempts} attempts for one), wall {:.2?}",
        db.backend,
        attempts.len(),
        wall
    );
}

fn parse_attempts(stderr: &str) -> u32 {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("milly: stock adjusted in "))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no attempt count in {stderr:?}"))
}

/// Processes that all find the database empty race to migrate it; each must
/// succeed and each migration must be recorded exactly once.
fn eight_processes_opening_an_empty_database_all_succeed(db: &TestDb) {
    let runs: Vec<i32> = thread::scope(|scope| {
        let workers: Vec<_> = (0..PROCESSES)
            .map(|i| {
                scope.spawn(move || {
                    // Writes: a read would refuse an SQLite file that
                    // does not exist yet instead of creating it.
                    let args: &[&str] = if i % 2 == 0 {
                        &["product", "create", "--name", "Racer", "--price", "1"]
                    } else {
                        &["db", "migrate"]
                    };
                    let run = db.run(args);
                    assert_eq!(run.code, 0, "{run:?}");
                    run.code
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    assert_eq!(runs, vec![0; PROCESSES]);
    let status = db.json(&["db", "status"]);
    let known = status["migrations"].as_array().unwrap().len() as i64;
    assert_eq!(status["schema_version"], status["supported_schema_version"]);
    assert_eq!(db.query_i64("SELECT count(*) FROM milly_migrations"), known);
    assert_eq!(
        db.query_i64("SELECT count(DISTINCT version) FROM milly_migrations"),
        known
    );
    match db.backend {
        Backend::Sqlite => assert_eq!(db.query_strings("PRAGMA journal_mode"), ["wal"]),
        Backend::Mysql => {}
    }
}

crate::on_mysql!(a_migration_lease_is_waited_for_and_taken_over_once_it_expires);

/// Migrating processes take turns through a lease row that every node of a
/// cluster sees. One held by a live process is waited for up to the lock
/// timeout (then exit 6); one whose holder died is taken over once it has
/// expired.
fn a_migration_lease_is_waited_for_and_taken_over_once_it_expires(db: &TestDb) {
    db.run(&["db", "migrate"]).expect(0);
    // A schema one version behind, and a lease as a live migrator holds it.
    db.execute("DROP TABLE product_name_trigrams");
    db.execute("DROP TRIGGER stock_events_no_delete");
    db.execute("DROP TRIGGER stock_events_no_update");
    db.execute("ALTER TABLE stock_events DROP FOREIGN KEY stock_events_reverted_event");
    db.execute("ALTER TABLE stock_events DROP INDEX stock_events_reverts, DROP COLUMN reverts");
    db.execute("DROP TRIGGER stock_events_latest_version");
    db.execute("ALTER TABLE products DROP COLUMN stock_version");
    db.execute("DELETE FROM milly_migrations WHERE version >= 14");
    db.execute(
        "INSERT INTO milly_migration_lease (name, holder, expires_at)
         VALUES ('migrate', 'elsewhere', UTC_TIMESTAMP(6) + INTERVAL 1 HOUR)",
    );
    let held = db
        .run(&["--json", "--lock-timeout-ms", "700", "db", "migrate"])
        .expect(6);
    assert!(
        held.stderr
            .starts_with("error: another process has been migrating database"),
        "{held:?}"
    );
    assert_eq!(
        db.query_i64("SELECT MAX(version) FROM milly_migrations"),
        13
    );

    // Its holder died: once the lease has expired it is taken over.
    db.execute(
        "UPDATE milly_migration_lease SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND",
    );
    let migrated = db.json(&["db", "migrate"]);
    assert_eq!(
        migrated["applied"],
        serde_json::json!([
            {"version": 14},
            {"version": 15},
            {"version": 16},
            {"version": 17},
            {"version": 18},
            {"version": 19},
            {"version": 20},
            {"version": 21}
        ])
    );
    assert_eq!(
        db.query_i64("SELECT COUNT(*) FROM milly_migration_lease"),
        0
    );
}
