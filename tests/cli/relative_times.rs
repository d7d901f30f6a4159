//! Relative times wherever a time is accepted, typed as an operator would
//! (with a space: `--since -1d`), resolved against the clock of the run.

use crate::harness::TestDb;
use crate::on_every_backend;

on_every_backend!(
    discount_windows_and_coupon_validity_take_relative_times,
    since_takes_a_relative_time_after_a_space,
    at_takes_words_and_offsets,
    a_relative_window_end_before_its_start_is_refused_as_typed,
    import_rows_take_relative_times,
);

fn discount_windows_and_coupon_validity_take_relative_times(db: &TestDb) {
    let now = "2026-03-10T15:30:00.000000Z";
    let id = db.json_at(
        now,
        &["product", "create", "--name", "Mug", "--price", "100"],
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let set = db.json_at(
        now,
        &[
            "discount",
            "set",
            &id,
            "--percent",
            "10",
            "--from",
            "tomorrow",
            "--until",
            "+2w",
        ],
    );
    assert_eq!(set["valid_from"], "2026-03-11T00:00:00.000000Z", "{set}");
    assert_eq!(set["valid_to"], "2026-03-24T15:30:00.000000Z", "{set}");
    let coupon = db.json_at(
        now,
        &[
            "coupon",
            "create",
            "--user",
            "42",
            "--percent",
            "5",
            "--valid-from",
            "now",
            "--valid-to",
            "+30d",
        ],
    );
    assert_eq!(
        coupon["valid_from"], "2026-03-10T15:30:00.000000Z",
        "{coupon}"
    );
    assert_eq!(
        coupon["valid_to"], "2026-04-09T15:30:00.000000Z",
        "{coupon}"
    );
}

fn since_takes_a_relative_time_after_a_space(db: &TestDb) {
    let old = db.json_at(
        "2026-03-01T10:00:00.000000Z",
        &["product", "create", "--name", "Old", "--price", "1"],
    );
    let new = db.json_at(
        "2026-03-09T10:00:00.000000Z",
        &["product", "create", "--name", "New", "--price", "1"],
    );
    let ids = |since: &[&str]| -> Vec<String> {
        let mut args = vec!["-o", "ndjson", "stock", "history"];
        args.extend_from_slice(since);
        db.run_at("2026-03-10T09:00:00.000000Z", &args)
            .expect(0)
            .stdout
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["product_id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    // A day back from 2026-03-10T09:00 reaches 2026-03-09T09:00.
    assert_eq!(ids(&["--since", "-1d"]), [new["id"].as_str().unwrap()]);
    assert_eq!(ids(&["--since=-1d"]), [new["id"].as_str().unwrap()]);
    assert_eq!(ids(&["--since", "-2w"]).len(), 2);
    assert_eq!(ids(&["--since", "today"]), Vec::<String>::new());
    assert!(ids(&["--since", "yesterday"]).contains(&new["id"].as_str().unwrap().to_owned()));
    assert!(!ids(&["--since", "yesterday"]).contains(&old["id"].as_str().unwrap().to_owned()));
}

fn at_takes_words_and_offsets(db: &TestDb) {
    let id = db.json_at(
        "2026-03-01T00:00:00.000000Z",
        &["product", "create", "--name", "Lamp", "--price", "100"],
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    db.json_at(
        "2026-03-01T00:00:00.000000Z",
        &[
            "discount",
            "set",
            &id,
            "--percent",
            "50",
            "--from",
            "2026-03-05",
            "--until",
            "2026-03-06",
        ],
    );
    let price = |when: &str| {
        db.json_at(
            "2026-03-06T12:00:00.000000Z",
            &["product", "show", &id, "--at", when],
        )["final_price"]
            .clone()
    };
    // Yesterday (midnight UTC) is inside the discount; 12 hours ago is not.
    assert_eq!(price("yesterday"), serde_json::json!(50.0));
    assert_eq!(price("-12h"), serde_json::json!(100.0));
    assert_eq!(price("-1d"), serde_json::json!(50.0));
    assert_eq!(price("now"), serde_json::json!(100.0));
}

fn a_relative_window_end_before_its_start_is_refused_as_typed(db: &TestDb) {
    let now = "2026-03-10T15:30:00.000000Z";
    let id = db.json_at(
        now,
        &["product", "create", "--name", "Pen", "--price", "100"],
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let run = db
        .run_at(
            now,
            &[
                "discount",
                "set",
                &id,
                "--percent",
                "10",
                "--from",
                "+2d",
                "--until",
                "+1d",
            ],
        )
        .expect(2);
    assert!(run.stderr.contains("invalid --until \"+1d\""), "{run:?}");
    let run = db
        .run_at(
            now,
            &["discount", "set", &id, "--percent", "10", "--until", "+7"],
        )
        .expect(2);
    assert!(run.stderr.contains("invalid --until \"+7\""), "{run:?}");
    assert!(run.stderr.contains("-7d"), "the forms are listed: {run:?}");
    let run = db
        .run_at(
            now,
            &[
                "discount",
                "set",
                &id,
                "--percent",
                "10",
                "--until",
                "+10000000d",
            ],
        )
        .expect(2);
    assert!(run.stderr.contains("\"+10000000d\""), "{run:?}");
    assert_eq!(db.counts()[2], 0, "nothing written");
}

/// Import rows take relative times too, resolved against the run's clock,
/// and a bad one is refused with its line and the value as typed.
fn import_rows_take_relative_times(db: &TestDb) {
    let now = "2026-03-10T15:30:00.000000Z";
    let file = db.home.path().join("rows.csv");
    std::fs::write(
        &file,
        "name,price,discount_percent,discount_from,discount_until\nMug,100,10,tomorrow,+2w\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    db.run_at(now, &["import", "products", path]).expect(0);
    let listed = db.json_at(now, &["discount", "list"]);
    assert_eq!(listed[0]["valid_from"], "2026-03-11T00:00:00.000000Z");
    assert_eq!(listed[0]["valid_to"], "2026-03-24T15:30:00.000000Z");
    let file = db.home.path().join("coupons.csv");
    std::fs::write(&file, "user,percent,valid_to\n42,5,+30\n").unwrap();
    let run = db
        .run_at(now, &["import", "coupons", file.to_str().unwrap()])
        .expect(2);
    assert!(
        run.stderr.contains("line 2") && run.stderr.contains("\"+30\""),
        "{run:?}"
    );
}
