//! Answers for a past moment (`--at T`) use only what was recorded by T,
//! and on a database server every row is stamped by the server's clock, so
//! a client whose clock is off changes neither.

use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::harness::{Run, TestDb, MILLY};
use crate::{on_every_backend, on_mysql};

on_every_backend!(
    a_backdated_discount_changes_no_earlier_answer,
    a_backdated_coupon_changes_no_earlier_answer,
    a_moment_before_the_product_was_recorded_is_exit_3_and_listings_skip_it,
    stock_at_a_past_moment_is_the_stock_recorded_by_then,
    the_readmes_worked_example_holds_after_a_backdated_discount,
);

on_mysql!(a_client_with_a_skewed_clock_records_by_the_server_clock);

fn a_backdated_discount_changes_no_earlier_answer(db: &TestDb) {
    let id = db.product_at("2025-01-01T00:00:00Z", "Kettle", "100", "1");
    let show = |now: &str, when: &str| {
        db.json_at(now, &["product", "show", &id, "--at", when])["final_price"].clone()
    };
    let june = "2025-06-01T00:00:00Z";
    assert_eq!(show(june, "2025-02-15"), json!(100.0));
    // Entered on 1 June with a window reaching back to February.
    db.json_at(
        june,
        &[
            "discount",
            "set",
            &id,
            "--percent",
            "50",
            "--from",
            "2025-02-01",
            "--until",
            "2025-12-01",
        ],
    );
    assert_eq!(
        show(june, "2025-02-15"),
        json!(100.0),
        "what was charged in February stays what it was"
    );
    assert_eq!(show("2025-07-01T00:00:00Z", "2025-02-15"), json!(100.0));
    let listed = &db.json_at(june, &["product", "list", "--at", "2025-02-15"])[0];
    assert_eq!(listed["final_price"], json!(100.0));
    assert_eq!(listed["discount_id"], Value::Null);
    // From its recording on, it applies.
    assert_eq!(show(june, "2025-06-01"), json!(50.0));
    assert_eq!(show("2025-07-01T00:00:00Z", "2025-06-15"), json!(50.0));
}

fn a_backdated_coupon_changes_no_earlier_answer(db: &TestDb) {
    let id = db.product_at("2019-01-01T00:00:00Z", "Lamp", "100", "1");
    let now = "2026-01-01T00:00:00Z";
    db.json_at(
        now,
        &[
            "coupon",
            "create",
            "--user",
            "42",
            "--percent",
            "20",
            "--valid-from",
            "2020-01-01",
            "--valid-to",
            "2027-01-01",
        ],
    );
    let final_price = |when: &str| {
        db.json_at(now, &["product", "show", &id, "--user", "42", "--at", when])["final_price"]
            .clone()
    };
    assert_eq!(
        final_price("2020-06-01"),
        json!(100.0),
        "not recorded in 2020"
    );
    assert_eq!(final_price("2026-01-01"), json!(80.0));
    // `coupon list --active --at` answers as of that moment too.
    let listed = db.json_at(now, &["coupon", "list", "--active", "--at", "2020-06-01"]);
    assert_eq!(listed, json!([]));
    let listed = db.json_at(now, &["coupon", "list", "--active", "--at", "2026-06-01"]);
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

fn a_moment_before_the_product_was_recorded_is_exit_3_and_listings_skip_it(db: &TestDb) {
    let old = db.product_at("2020-01-01T00:00:00Z", "Old", "10", "1");
    let new = db.product_at("2026-01-01T00:00:00Z", "New", "10", "1");
    let now = "2026-02-01T00:00:00Z";
    let run = db
        .run_at(now, &["product", "show", &new, "--at", "2020-01-01"])
        .expect(3);
    assert!(
        run.stderr.contains(&format!(
            "product {new} did not exist at 2020-01-01: it was"
        )),
        "{run:?}"
    );
    assert!(run.stderr.contains("recorded at 2026-01-01"), "{run:?}");
    // In JSON, the same code as a product that does not exist.
    let run = db
        .run_at(
            now,
            &["-o", "json", "product", "show", &new, "--at", "2020-01-01"],
        )
        .expect(3);
    assert!(run.stderr.contains("\"code\":\"not_found\""), "{run:?}");
    // At the very moment it was recorded, it exists.
    db.run_at(now, &["product", "show", &new, "--at", "2026-01-01"])
        .expect(0);
    let ids = |when: &str, all: bool| -> Vec<String> {
        let mut args = vec!["product", "list", "--at", when];
        if all {
            args.push("--all");
        }
        db.json_at(now, &args)
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_owned())
            .collect()
    };
    for all in [false, true] {
        assert_eq!(ids("2021-01-01", all), std::slice::from_ref(&old));
        assert_eq!(ids("2026-01-01", all), [old.clone(), new.clone()]);
        assert!(ids("2019-12-31", all).is_empty());
    }
}

fn stock_at_a_past_moment_is_the_stock_recorded_by_then(db: &TestDb) {
    let id = db.product_at("2025-01-01T00:00:00Z", "Tea", "10", "10");
    db.run_at(
        "2025-02-01T00:00:00Z",
        &["stock", "adjust", &id, "--change", "+5"],
    )
    .expect(0);
    db.run_at(
        "2025-03-01T00:00:00Z",
        &["stock", "adjust", &id, "--change", "-3"],
    )
    .expect(0);
    let now = "2025-04-01T00:00:00Z";
    let stock = |when: &str| {
        let shown = db.json_at(now, &["product", "show", &id, "--at", when]);
        let listed = &db.json_at(now, &["product", "list", "--at", when])[0];
        assert_eq!(shown["stock_count"], listed["stock_count"], "{when}");
        let streamed = &db.json_at(now, &["product", "list", "--all", "--at", when])[0];
        assert_eq!(shown["stock_count"], streamed["stock_count"], "{when}");
        shown["stock_count"].clone()
    };
    assert_eq!(stock("2025-01-15"), json!(10));
    assert_eq!(stock("2025-01-31T23:59:59.999999Z"), json!(10));
    assert_eq!(stock("2025-02-01"), json!(15));
    assert_eq!(stock("2025-02-15"), json!(15));
    assert_eq!(stock("2025-03-15"), json!(12));
    assert_eq!(stock("2025-04-01"), json!(12));
}

/// milly as a client whose clock is 30 days behind (Debian's `faketime`),
/// with no `MILLY_NOW`: the clock of the run is the machine's.
fn skewed(db: &TestDb, args: &[&str]) -> Run {
    let mut command = Command::new("faketime");
    command
        .args(["-f", "-30d", MILLY])
        .env_clear()
        .env("HOME", db.home.path())
        .env("PATH", "/usr/bin:/bin")
        .env("MILLY_DATABASE_URL", &db.url)
        .args(["-o", "json"])
        .args(args)
        .stdin(Stdio::null());
    Run::from_output(
        command
            .output()
            .expect("faketime is installed (Debian's faketime)"),
    )
}

/// milly with the machine's own clock, and no `MILLY_NOW` either.
fn real(db: &TestDb, args: &[&str]) -> Run {
    let mut command = db.command();
    command
        .env_remove("MILLY_NOW")
        .args(["-o", "json"])
        .args(args);
    Run::from_output(command.output().unwrap())
}

fn created(run: Run) -> (String, String) {
    let json = run.expect(0).json();
    (
        json["id"].as_str().unwrap().to_owned(),
        json["created_at"].as_str().unwrap().to_owned(),
    )
}

fn a_client_with_a_skewed_clock_records_by_the_server_clock(db: &TestDb) {
    // The skew is real: the wrapped process believes it is 30 days ago.
    let skewed_date = Command::new("faketime")
        .args(["-f", "-30d", "date", "+%s"])
        .output()
        .expect("faketime is installed (Debian's faketime)");
    let skewed_secs: i64 = String::from_utf8_lossy(&skewed_date.stdout)
        .trim()
        .parse()
        .unwrap();
    let real_secs = chrono::Utc::now().timestamp();
    assert!(
        (real_secs - skewed_secs - 30 * 86_400).abs() < 600,
        "faketime does not skew the clock: {skewed_secs} vs {real_secs}"
    );

    fn create(name: &str) -> [&str; 6] {
        ["product", "create", "--name", name, "--price", "100"]
    }
    let (first, first_at) = created(real(db, &create("First")));
    let (second, second_at) = created(skewed(db, &create("Second")));
    let (third, third_at) = created(real(db, &create("Third")));
    // One clock: the server's. The skewed client's row sits between the
    // two others, not a month before them.
    assert!(
        first_at <= second_at && second_at <= third_at,
        "{first_at} {second_at} {third_at}"
    );
    let listed: Vec<String> = real(db, &["product", "list"])
        .expect(0)
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, [first.clone(), second.clone(), third.clone()]);

    // A price update from the skewed client is recorded now, so `--at`
    // just before it gives the old price and just after it the new one.
    let before_update = real(db, &["product", "show", &first]).expect(0).json()["price"].clone();
    assert_eq!(before_update, json!(100.0));
    let updated = skewed(db, &["product", "update", &first, "--price", "150"])
        .expect(0)
        .json();
    let updated_at = updated["updated_at"].as_str().unwrap().to_owned();
    assert!(
        updated_at >= third_at,
        "{updated_at} is the server's time, after {third_at}"
    );
    let price_at = |when: &str| {
        real(db, &["product", "show", &first, "--at", when])
            .expect(0)
            .json()["price"]
            .clone()
    };
    assert_eq!(price_at(&third_at), json!(100.0));
    assert_eq!(price_at(&updated_at), json!(150.0));
    let history = real(db, &["product", "history", &first]).expect(0).json();
    let times: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["at"].as_str().or(c["changed_at"].as_str()).unwrap_or(""))
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "history in time order: {history}");

    // A stock change from the skewed client is in "since a minute ago".
    skewed(db, &["stock", "adjust", &third, "--change", "+1"]).expect(0);
    let recent = Run::from_output(
        db.command()
            .env_remove("MILLY_NOW")
            .args(["-o", "ndjson", "stock", "history", "--since", "-1h"])
            .output()
            .unwrap(),
    )
    .expect(0);
    let products: Vec<Value> = recent
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["product_id"].clone())
        .collect();
    assert!(products.contains(&json!(second)), "{}", recent.stdout);
    assert_eq!(
        products.iter().filter(|p| **p == json!(third)).count(),
        2,
        "the opening row and the skewed client's change: {}",
        recent.stdout
    );
}

/// The README's worked example: what did customer 42 pay for a product on
/// 3 March, and why — asked after the catalog moved on, including a
/// discount entered later with a window reaching back over 3 March.
fn the_readmes_worked_example_holds_after_a_backdated_discount(db: &TestDb) {
    let id = db.product_at("2025-01-10T00:00:00Z", "Green tea", "20000", "10");
    let ten = db.json_at(
        "2025-01-20T00:00:00Z",
        &[
            "discount",
            "set",
            &id,
            "--percent",
            "10",
            "--from",
            "2025-02-01T08:00:00Z",
            "--until",
            "2025-06-01",
        ],
    );
    db.json_at(
        "2025-01-20T00:00:00Z",
        &[
            "coupon",
            "create",
            "--user",
            "42",
            "--percent",
            "10",
            "--valid-from",
            "2025-02-01",
            "--valid-to",
            "2025-12-31",
            "--code",
            "WELCOME10",
        ],
    );
    let answer = |now: &str| {
        let shown = db.json_at(
            now,
            &[
                "product",
                "show",
                &id,
                "--user",
                "42",
                "--at",
                "2025-03-03",
                "--explain",
            ],
        );
        (
            shown["price"].clone(),
            shown["discount_percentage"].clone(),
            shown["coupon_code"].clone(),
            shown["final_price"].clone(),
        )
    };
    let then = (
        json!(20000.0),
        json!(10.0),
        json!("WELCOME10"),
        json!(16200.0),
    );
    assert_eq!(answer("2025-03-03T12:00:00Z"), then);
    // The catalog moves on: a new price on 10 March, a 25% discount from
    // April set on 20 March, and on 25 March a 50% discount entered with a
    // window reaching back to February.
    db.run_at(
        "2025-03-10T00:00:00Z",
        &["product", "update", &id, "--price", "22000"],
    )
    .expect(0);
    let april = db.json_at(
        "2025-03-20T00:00:00Z",
        &[
            "discount",
            "set",
            &id,
            "--percent",
            "25",
            "--from",
            "2025-04-01",
            "--until",
            "2025-05-01",
        ],
    );
    // The promotion cut the 10% discount at its own start, as the README
    // shows it: replaced, ending on 1 April.
    assert_eq!(april["replaced_discount_id"], ten["discount_id"]);
    let on_21_march = "2025-03-21T00:00:00Z";
    assert_eq!(answer(on_21_march), then);
    let explained = db.json_at(
        on_21_march,
        &["product", "show", &id, "--at", "2025-03-03", "--explain"],
    );
    assert_eq!(
        explained["explain"][1]["valid_to"],
        "2025-04-01T00:00:00.000000Z"
    );
    let listed = db.json_at(on_21_march, &["discount", "list", &id]);
    assert_eq!(listed[0]["status"], "running", "until the cut");
    let after_cut = db.json_at("2025-04-02T00:00:00Z", &["discount", "list", &id]);
    assert_eq!(after_cut[0]["status"], "replaced");
    assert_eq!(listed[0]["replaced_by"], april["discount_id"]);
    assert_eq!(listed[0]["deactivated_at"], Value::Null);
    // Inside the promotion: 25% off the new price.
    let april_15 = db.json_at(on_21_march, &["product", "show", &id, "--at", "2025-04-15"]);
    assert_eq!(april_15["final_price"], json!(16500.0));
    db.run_at(
        "2025-03-25T00:00:00Z",
        &[
            "discount",
            "set",
            &id,
            "--percent",
            "50",
            "--from",
            "2025-02-01",
            "--until",
            "2025-12-01",
        ],
    )
    .expect(0);
    assert_eq!(
        answer("2025-03-26T00:00:00Z"),
        then,
        "3 March is answered as it was"
    );
    let coupons = db.json_at(
        "2025-03-26T00:00:00Z",
        &[
            "coupon",
            "list",
            "--user",
            "42",
            "--active",
            "--at",
            "2025-03-03",
        ],
    );
    assert_eq!(coupons[0]["code"], "WELCOME10");
}
