//! `stock adjust --expect-version`: compare-and-set on the ledger version.

use std::sync::Barrier;
use std::thread;

use crate::harness::TestDb;
use crate::on_every_backend;

const RACERS: usize = 8;

on_every_backend!(
    the_current_version_applies_and_a_stale_one_is_refused_naming_the_current,
    racing_processes_expecting_one_version_let_exactly_one_win,
    an_expected_version_must_be_a_positive_whole_number,
    an_unknown_product_is_not_found_whatever_the_version,
);

fn the_current_version_applies_and_a_stale_one_is_refused_naming_the_current(db: &TestDb) {
    let id = db.product("Mug", "10", "100");
    let adjusted = db.json(&[
        "stock",
        "adjust",
        &id,
        "--change",
        "-10",
        "--expect-version",
        "1",
    ]);
    assert_eq!(
        (
            adjusted["version"].as_i64(),
            adjusted["new_stock_count"].as_i64()
        ),
        (Some(2), Some(90))
    );
    let run = db
        .run(&[
            "-o",
            "json",
            "stock",
            "adjust",
            &id,
            "--change",
            "-10",
            "--expect-version",
            "1",
        ])
        .expect(4);
    assert!(run.stdout.is_empty(), "{run:?}");
    assert!(
        run.stderr.contains("\"code\":\"version_mismatch\""),
        "{run:?}"
    );
    assert!(run.stderr.contains("at version 2"), "{run:?}");
    assert_eq!(db.json(&["product", "show", &id])["stock_count"], 90);
    // An expected version ahead of the ledger is refused the same way.
    let run = db
        .run(&[
            "stock",
            "adjust",
            &id,
            "--change",
            "+1",
            "--expect-version",
            "9",
        ])
        .expect(4);
    assert!(run.stderr.contains("at version 2"), "{run:?}");
    assert_eq!(db.query_i64("SELECT count(*) FROM stock_events"), 2);
}

/// N processes read version 1 and race to write version 2: one wins, every
/// other one exits 4 naming version 2, and none applies its change on top.
fn racing_processes_expecting_one_version_let_exactly_one_win(db: &TestDb) {
    let id = db.product("Contended", "1", "1000");
    let start = Barrier::new(RACERS);
    let runs: Vec<_> = thread::scope(|scope| {
        let workers: Vec<_> = (0..RACERS)
            .map(|_| {
                scope.spawn(|| {
                    start.wait();
                    db.run(&[
                        "-o",
                        "json",
                        "stock",
                        "adjust",
                        &id,
                        "--change",
                        "-1",
                        "--expect-version",
                        "1",
                    ])
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let winners: Vec<_> = runs.iter().filter(|r| r.code == 0).collect();
    assert_eq!(winners.len(), 1, "exactly one winner: {runs:#?}");
    for run in runs.iter().filter(|r| r.code != 0) {
        assert_eq!(run.code, 4, "{run:#?}");
        assert!(
            run.stderr.contains("\"code\":\"version_mismatch\"")
                && run.stderr.contains("at version 2"),
            "{run:#?}"
        );
    }
    let history = db.json(&["stock", "history", &id]);
    let versions: Vec<(i64, i64)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["version"].as_i64().unwrap(),
                e["total_after_change"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(versions, [(1, 1000), (2, 999)]);
}

fn an_expected_version_must_be_a_positive_whole_number(db: &TestDb) {
    let id = db.product("Mug", "10", "100");
    for bad in ["0", "-1", "1.5", "two", ""] {
        let run = db.run(&[
            "stock",
            "adjust",
            &id,
            "--change",
            "+1",
            &format!("--expect-version={bad}"),
        ]);
        assert_eq!(run.code, 2, "{bad:?}: {run:?}");
    }
    assert_eq!(db.query_i64("SELECT count(*) FROM stock_events"), 1);
}

fn an_unknown_product_is_not_found_whatever_the_version(db: &TestDb) {
    db.product("Mug", "10", "100");
    let run = db.run(&[
        "stock",
        "adjust",
        "PROD01JD5Q3Z8X4N2M7K9P6R3T1V0W",
        "--change",
        "+1",
        "--expect-version",
        "1",
    ]);
    assert_eq!(run.code, 3, "{run:?}");
}
