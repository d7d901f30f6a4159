//! The catalog life-cycle from the command line: update, archive, history,
//! prices and discounts as they were at `--at`, discount and coupon
//! listings, the actor, `--explain`.

use serde_json::{json, Value};

use crate::harness::{Run, TestDb};
use crate::{on_every_backend, plain_tests};

on_every_backend!(
    an_update_changes_the_price_from_now_on_and_past_prices_stay,
    an_update_needs_a_field_and_the_create_rules,
    an_archived_product_is_hidden_and_read_only_until_unarchived,
    history_lists_every_change_with_when_and_who,
    a_replaced_discount_still_prices_the_days_it_ran,
    discount_clear_reports_what_it_switched_off,
    discount_list_pages_and_filters,
    coupon_list_and_show,
    the_actor_is_recorded_and_shown,
    explain_lists_the_pricing_steps,
    tables_show_the_scan_columns_and_wide_shows_all,
);

/// Runs with `-o json` under a given actor and returns the run.
fn as_actor(db: &TestDb, actor: &str, args: &[&str]) -> Run {
    let output = db
        .command()
        .env("MILLY_ACTOR", actor)
        .args(["-o", "json"])
        .args(args)
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The JSON error object printed on stderr with `-o json`.
fn error_code(run: &Run) -> String {
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no JSON error in {run:#?}"));
    serde_json::from_str::<Value>(line).unwrap()["code"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn price_at(db: &TestDb, id: &str, at: &str) -> String {
    db.json(&["product", "show", id, "--at", at])["price"].to_string()
}

fn an_update_changes_the_price_from_now_on_and_past_prices_stay(db: &TestDb) {
    let id = db.product("Green tea", "10000", "5");
    let updated = db.json_at(
        "2025-07-01T00:00:00Z",
        &["product", "update", &id, "--price", "12000.50"],
    );
    assert_eq!(updated["price"].to_string(), "12000.5");
    assert_eq!(updated["name"], "Green tea");
    assert_eq!(updated["updated_at"], "2025-07-01T00:00:00.000000Z");
    assert_eq!(updated["created_at"], "2025-06-01T12:00:00.000000Z");

    assert_eq!(price_at(db, &id, "2025-06-15"), "10000.0");
    assert_eq!(price_at(db, &id, "2025-06-30T23:59:59Z"), "10000.0");
    assert_eq!(price_at(db, &id, "2025-07-01"), "12000.5");
    // Before the product was recorded it did not exist (exit 3), and
    // listings of that moment leave it out.
    let before = db
        .run(&["product", "show", &id, "--at", "2025-01-01"])
        .expect(3);
    assert!(
        before.stderr.contains("did not exist at 2025-01-01"),
        "{before:?}"
    );
    assert_eq!(
        db.json(&["product", "list", "--at", "2025-01-01"]),
        serde_json::json!([])
    );
    let listed = &db.json(&["product", "list", "--at", "2025-06-15"])[0];
    assert_eq!(listed["price"].to_string(), "10000.0");
    assert_eq!(listed["final_price"].to_string(), "10000.0");
    let listed = &db.json(&["product", "list", "--at", "2025-07-02"])[0];
    assert_eq!(listed["final_price"].to_string(), "12000.5");

    // Name and description too; an unchanged value is not a change.
    let renamed = db.json(&[
        "product",
        "update",
        &id,
        "--name",
        "Sencha",
        "--description",
        "Steamed, 100 g",
        "--price",
        "12000.50",
    ]);
    assert_eq!(renamed["name"], "Sencha");
    assert_eq!(renamed["description"], "Steamed, 100 g");
    let found = db.json(&["product", "list", "--name", "sench"]);
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert!(db
        .json(&["product", "list", "--name", "green"])
        .as_array()
        .unwrap()
        .is_empty());
    let history = db.json(&["product", "history", &id]);
    let price_changes: Vec<_> = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["field"] == "price" && h["action"] == "updated")
        .collect();
    assert_eq!(price_changes.len(), 1, "{history}");
}

fn an_update_needs_a_field_and_the_create_rules(db: &TestDb) {
    let id = db.product("Mug", "10", "1");
    let none = db.run(&["product", "update", &id]).expect(2);
    assert!(none.stderr.contains("--price"), "{none:?}");
    db.run(&["product", "update", &id, "--price", "0"])
        .expect(2);
    db.run(&["product", "update", &id, "--price", "1.234"])
        .expect(2);
    db.run(&["product", "update", &id, "--name", "   "])
        .expect(2);
    // The message says tab and newline; a carriage return is refused.
    let cr = db
        .run(&["product", "update", &id, "--description", "a\r\nb"])
        .expect(2);
    assert!(cr.stderr.contains("tab and newline"), "{cr:?}");
    db.run(&[
        "product",
        "create",
        "--name",
        "x",
        "--price",
        "1",
        "--description",
        "a\u{202E}b",
    ])
    .expect(2);
    db.run(&[
        "product",
        "update",
        "PROD01JWNNSVG0AAAAAAAAAAAAAAAA",
        "--price",
        "1",
    ])
    .expect(3);
    assert_eq!(
        db.json(&["product", "show", &id])["price"].to_string(),
        "10.0"
    );
    // Only the creation in the history.
    assert_eq!(
        db.json(&["product", "history", &id])
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

fn an_archived_product_is_hidden_and_read_only_until_unarchived(db: &TestDb) {
    let kept = db.product("Kept", "10", "5");
    let id = db.product("Retired", "10", "5");
    let archived = db.json(&["product", "archive", &id]);
    assert_eq!(archived["is_archived"], true);
    assert_eq!(archived["changed"], true);
    // Twice: exit 0, nothing changes.
    let again = db.json(&["product", "archive", &id]);
    assert_eq!(again["changed"], false);
    assert_eq!(again["archived_at"], archived["archived_at"]);

    let names = |args: &[&str]| -> Vec<String> {
        db.json(args)
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&["product", "list"]), ["Kept"]);
    assert_eq!(
        names(&["product", "list", "--include-archived"]),
        ["Kept", "Retired"]
    );
    assert_eq!(names(&["product", "list", "--all"]), ["Kept"]);
    assert_eq!(
        names(&["product", "list", "--page-size", "1", "--page", "2"]),
        Vec::<String>::new()
    );
    let shown = db.json(&["product", "show", &id]);
    assert_eq!(shown["is_archived"], true);
    assert_eq!(db.json(&["product", "show", &kept])["is_archived"], false);

    let writes: [&[&str]; 5] = [
        &["stock", "adjust", &id, "--change", "+1"],
        &["discount", "set", &id, "--percent", "10"],
        &["discount", "clear", &id],
        &["product", "update", &id, "--price", "11"],
        &["product", "update", &id, "--name", "Back"],
    ];
    let before = db.counts();
    for args in writes {
        let mut all = vec!["-o", "json"];
        all.extend_from_slice(args);
        let run = db.run(&all).expect(4);
        assert_eq!(error_code(&run), "product_archived", "{args:?}");
        assert!(run.stderr.contains("unarchive"), "{run:?}");
    }
    assert_eq!(db.counts(), before, "nothing written");

    let back = db.json(&["product", "unarchive", &id]);
    assert_eq!(back["is_archived"], false);
    assert_eq!(back["changed"], true);
    assert_eq!(db.json(&["product", "unarchive", &id])["changed"], false);
    db.run(&["stock", "adjust", &id, "--change", "+1"])
        .expect(0);
    assert_eq!(names(&["product", "list"]), ["Kept", "Retired"]);
    db.run(&["product", "archive", "PROD01JWNNSVG0AAAAAAAAAAAAAAAA"])
        .expect(3);
}

fn history_lists_every_change_with_when_and_who(db: &TestDb) {
    let id = as_actor(
        db,
        "alice",
        &["product", "create", "--name", "Mug", "--price", "10"],
    )
    .expect(0)
    .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    as_actor(
        db,
        "bob",
        &[
            "product", "update", &id, "--price", "12", "--name", "Big mug",
        ],
    )
    .expect(0);
    as_actor(db, "carol", &["product", "archive", &id]).expect(0);
    as_actor(db, "dave", &["product", "unarchive", &id]).expect(0);
    let history = db.json(&["product", "history", &id]);
    let rows: Vec<Value> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            json!([
                h["actor"],
                h["action"],
                h["field"],
                h["old_value"],
                h["new_value"]
            ])
        })
        .collect();
    assert_eq!(
        rows,
        [
            json!(["alice", "created", "name", null, "Mug"]),
            json!(["alice", "created", "description", null, ""]),
            json!(["alice", "created", "price", null, 10.0]),
            json!(["bob", "updated", "name", "Mug", "Big mug"]),
            json!(["bob", "updated", "price", 10.0, 12.0]),
            json!(["carol", "archived", null, null, null]),
            json!(["dave", "unarchived", null, null, null]),
        ]
    );
    assert!(history
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["at"] == "2025-06-01T12:00:00.000000Z" && h["product_id"] == id.as_str()));
    db.run(&["product", "history", "PROD01JWNNSVG0AAAAAAAAAAAAAAAA"])
        .expect(3);
}

/// The case: a discount running last month, replaced (even by one
/// that starts only next month), still prices last month.
fn a_replaced_discount_still_prices_the_days_it_ran(db: &TestDb) {
    let id = db.product_at("2025-04-01T00:00:00Z", "Kettle", "100", "1");
    let first = db.json_at(
        "2025-05-01T00:00:00Z",
        &[
            "discount",
            "set",
            &id,
            "--percent",
            "10",
            "--until",
            "2025-12-01",
        ],
    );
    assert_eq!(first["replaced_discount_id"], Value::Null);
    let second = db.json(&[
        "discount",
        "set",
        &id,
        "--percent",
        "25",
        "--from",
        "2025-07-01",
        "--until",
        "2025-08-01",
    ]);
    assert_eq!(second["replaced_discount_id"], first["discount_id"]);
    assert_eq!(
        second["replaced_discount_ids"],
        json!([first["discount_id"]])
    );

    let final_at =
        |at: &str| db.json(&["product", "show", &id, "--at", at])["final_price"].to_string();
    assert_eq!(final_at("2025-05-15"), "90.0", "the first ran then");
    assert_eq!(final_at("2025-06-01T11:59:59Z"), "90.0");
    assert_eq!(
        final_at("2025-06-15"),
        "90.0",
        "cut where the next starts, so it runs until then"
    );
    assert_eq!(final_at("2025-07-15"), "75.0");
    assert_eq!(
        final_at("2025-08-15"),
        "100.0",
        "a cut discount does not resume"
    );
    let listed = &db.json(&["product", "list", "--at", "2025-05-15"])[0];
    assert_eq!(listed["discount_id"], first["discount_id"]);
    assert_eq!(listed["final_price"].to_string(), "90.0");
}

fn discount_clear_reports_what_it_switched_off(db: &TestDb) {
    let id = db.product("Kettle", "100", "1");
    let set = db.json(&["discount", "set", &id, "--percent", "10"]);
    let cleared = db.json(&["discount", "clear", &id]);
    assert_eq!(
        cleared,
        json!({
            "product_id": id,
            "deactivated_discount_id": set["discount_id"],
            "deactivated_discount_ids": [set["discount_id"]],
        })
    );
    // Nothing active: still exit 0, null.
    let again = db.json(&["discount", "clear", &id]);
    assert_eq!(
        again,
        json!({"product_id": id, "deactivated_discount_id": null, "deactivated_discount_ids": []})
    );
    assert_eq!(
        db.json(&["product", "show", &id])["final_price"].to_string(),
        "100.0"
    );
    // The row is kept, with when it stopped.
    let kept = db.json(&["discount", "list", &id]);
    assert_eq!(kept[0]["is_active"], false);
    assert_eq!(kept[0]["deactivated_at"], "2025-06-01T12:00:00.000000Z");
    db.run(&["discount", "clear", "PROD01JWNNSVG0AAAAAAAAAAAAAAAA"])
        .expect(3);
    db.run(&["discount", "clear", "not-an-id"]).expect(2);
}

fn discount_list_pages_and_filters(db: &TestDb) {
    let a = db.product("A", "100", "1");
    let b = db.product("B", "100", "1");
    let d1 = db.json(&["discount", "set", &a, "--percent", "10"])["discount_id"].clone();
    let d2 = db.json(&["discount", "set", &b, "--percent", "20"])["discount_id"].clone();
    let d3 = db.json(&[
        "discount",
        "set",
        &a,
        "--percent",
        "30",
        "--from",
        "2025-09-01",
        "--until",
        "2025-10-01",
    ])["discount_id"]
        .clone();
    let ids = |args: &[&str]| -> Vec<Value> {
        let mut all = vec!["discount", "list"];
        all.extend_from_slice(args);
        db.json(&all)
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["discount_id"].clone())
            .collect()
    };
    assert_eq!(ids(&[]), [d1.clone(), d2.clone(), d3.clone()]);
    assert_eq!(ids(&[&a]), [d1.clone(), d3.clone()]);
    // d3 starts after d1 ends: both stay, d1 running, d3 scheduled.
    assert_eq!(ids(&["--active"]), [d1.clone(), d2]);
    assert_eq!(
        ids(&["--page-size", "2", "--page", "2"]),
        std::slice::from_ref(&d3)
    );
    assert!(ids(&["--page", "9"]).is_empty());
    db.run(&["discount", "list", "PROD01JWNNSVG0AAAAAAAAAAAAAAAA"])
        .expect(3);
    db.run(&["discount", "list", "--page-size", "0"]).expect(2);
    let listed = db.json(&["discount", "list", &a]);
    assert_eq!(
        listed[0]["actor"], "unknown",
        "no USER in the test environment"
    );
    assert_eq!(listed[0]["deactivated_at"], Value::Null);
    assert_eq!(listed[0]["status"], "running");
    assert_eq!(listed[1]["status"], "scheduled");
    assert_eq!(listed[1]["is_active"], true);
    // One overlapping both cuts d1 and cancels d3.
    let d4 = db.json(&[
        "discount",
        "set",
        &a,
        "--percent",
        "40",
        "--from",
        "2025-06-15",
        "--until",
        "2025-12-01",
    ]);
    assert_eq!(d4["replaced_discount_id"], d1);
    assert_eq!(d4["replaced_discount_ids"], json!([d1, d3]));
    assert_eq!(d4["status"], "scheduled");
    let listed = db.json(&["discount", "list", &a]);
    assert_eq!(listed[0]["valid_to"], "2025-06-15T00:00:00.000000Z");
    assert_eq!(listed[0]["is_active"], true);
    assert_eq!(listed[0]["replaced_by"], d4["discount_id"]);
    assert_eq!(listed[1]["is_active"], false);
    assert_eq!(listed[1]["status"], "replaced");
    assert_eq!(listed[1]["deactivated_at"], "2025-06-01T12:00:00.000000Z");
}

fn coupon_list_and_show(db: &TestDb) {
    // Recorded before every moment asked about below.
    let create = |user: &str, code: &str, from: &str, to: &str| {
        db.json_at(
            "2024-12-01T00:00:00Z",
            &[
                "coupon",
                "create",
                "--user",
                user,
                "--percent",
                "10",
                "--valid-from",
                from,
                "--valid-to",
                to,
                "--code",
                code,
            ],
        )
    };
    create("42", "FIRST", "2025-01-01", "2026-01-01");
    create("7", "OTHER", "2025-01-01", "2026-01-01");
    create("42", "LATER", "2025-09-01", "2025-10-01");
    create("42", "GONE", "2025-01-01", "2026-01-01");
    db.run(&["coupon", "deactivate", "gone"]).expect(0);
    let codes = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["coupon", "list"];
        all.extend_from_slice(args);
        db.json(&all)
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["code"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(codes(&[]), ["FIRST", "OTHER", "LATER", "GONE"]);
    assert_eq!(codes(&["--user", "42"]), ["FIRST", "LATER", "GONE"]);
    assert_eq!(codes(&["--user", "42", "--active"]), ["FIRST"]);
    assert_eq!(
        codes(&["--user", "42", "--active", "--at", "2025-09-15"]),
        ["FIRST", "LATER"]
    );
    // Deactivated now, it was still on in May.
    assert_eq!(
        codes(&["--user", "42", "--active", "--at", "2025-05-01"]),
        ["FIRST", "GONE"]
    );
    assert_eq!(
        codes(&["--user", "42", "--page-size", "1", "--page", "3"]),
        ["GONE"]
    );
    assert!(codes(&["--user", "nobody"]).is_empty());
    // `status` is judged at now, or at --at with or without --active.
    let statuses = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["coupon", "list", "--user", "42"];
        all.extend_from_slice(args);
        db.json(&all)
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["status"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(statuses(&[]), ["valid", "scheduled", "deactivated"]);
    assert_eq!(
        statuses(&["--at", "2025-09-15"]),
        ["valid", "valid", "deactivated"]
    );
    assert_eq!(
        statuses(&["--at", "2025-05-01"]),
        ["valid", "scheduled", "valid"]
    );
    assert_eq!(
        statuses(&["--at", "2026-01-01"]),
        ["expired", "expired", "deactivated"]
    );

    let shown = db.json(&["coupon", "show", "first"]);
    assert_eq!(shown["code"], "FIRST");
    assert_eq!(shown["user_id"], "42");
    assert_eq!(shown["is_active"], true);
    assert_eq!(shown["status"], "valid");
    let gone = db.json(&["coupon", "show", "Gone"]);
    assert_eq!(gone["is_active"], false);
    assert_eq!(gone["status"], "deactivated");
    assert_eq!(gone["deactivated_at"], "2025-06-01T12:00:00.000000Z");
    db.run(&["coupon", "show", "NOPE"]).expect(3);
    db.run(&["coupon", "show", "a b"]).expect(2);
}

fn the_actor_is_recorded_and_shown(db: &TestDb) {
    let id = db
        .command()
        .env("USER", "os-user")
        .args([
            "-o", "json", "product", "create", "--name", "Mug", "--price", "1",
        ])
        .output()
        .unwrap();
    let id: Value = serde_json::from_slice(&id.stdout).unwrap();
    let id = id["id"].as_str().unwrap().to_owned();
    as_actor(db, "from env", &["stock", "adjust", &id, "--change", "+2"]).expect(0);
    db.run(&["--actor", "flag", "stock", "adjust", &id, "--change", "+3"])
        .expect(0);
    let history = db.json(&["stock", "history", &id]);
    let actors: Vec<&Value> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["actor"])
        .collect();
    assert_eq!(
        actors,
        [&json!("os-user"), &json!("from env"), &json!("flag")]
    );
    for bad in ["", " padded", "line\nbreak", &"x".repeat(65), "rtl\u{202E}"] {
        let run = db.run(&["--actor", bad, "stock", "adjust", &id, "--change", "+1"]);
        assert_eq!(run.code, 2, "{bad:?}: {run:?}");
    }
    assert_eq!(
        db.json(&["stock", "history", &id])
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

fn explain_lists_the_pricing_steps(db: &TestDb) {
    let id = db.product_at("2024-12-01T00:00:00Z", "Teapot", "20000", "1");
    let discount = db.json(&["discount", "set", &id, "--percent", "10"]);
    db.run(&[
        "coupon",
        "create",
        "--user",
        "42",
        "--percent",
        "10",
        "--valid-to",
        "2026-01-01",
        "--code",
        "SAVE10",
    ])
    .expect(0);
    let shown = db.json(&["product", "show", &id, "--user", "42", "--explain"]);
    let steps = shown["explain"].as_array().unwrap();
    let names: Vec<&str> = steps.iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["list_price", "product_discount", "coupon", "final_price"]
    );
    assert_eq!(steps[0]["amount"].to_string(), "20000.0");
    assert_eq!(steps[1]["discount_id"], discount["discount_id"]);
    assert_eq!(steps[1]["percentage"].to_string(), "10.0");
    assert_eq!(steps[1]["valid_from"], discount["valid_from"]);
    assert_eq!(steps[1]["amount"].to_string(), "2000.0");
    assert_eq!(steps[2]["coupon_code"], "SAVE10");
    assert_eq!(steps[2]["amount"].to_string(), "1800.0");
    assert_eq!(steps[3]["amount"].to_string(), "16200.0");
    // Without --explain, no such field.
    assert!(db.json(&["product", "show", &id]).get("explain").is_none());
    // In a table, one line per step.
    let table = db
        .run(&["product", "show", &id, "--user", "42", "--explain"])
        .expect(0)
        .stdout;
    for line in [
        "list price 20000.00",
        "product discount DISC",
        "coupon SAVE10",
        "final price 16200.00",
    ] {
        assert!(table.contains(line), "{line} in\n{table}");
    }
    let none = db.json(&["product", "show", &id, "--explain", "--at", "2025-01-01"]);
    assert_eq!(none["explain"][1]["discount_id"], Value::Null);
    assert_eq!(none["explain"][2]["coupon_code"], Value::Null);
}

fn tables_show_the_scan_columns_and_wide_shows_all(db: &TestDb) {
    let id = db.product("Tea", "10", "5");
    // A name an earlier milly accepted, with a right-to-left override.
    db.execute(&format!(
        "UPDATE products SET name = 'Tea\u{202E}reversed' WHERE id = '{id}'"
    ));
    db.run(&[
        "product",
        "update",
        &id,
        "--description",
        "two\nlines\tand a tab",
    ])
    .expect(0);
    let table = db.run(&["product", "list"]).expect(0).stdout;
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "id",
            "name",
            "price",
            "stock_count",
            "discount_percentage",
            "final_price"
        ]
    );
    // What the user typed cannot reorder the screen.
    assert!(!table.contains('\u{202E}'), "{table:?}");
    assert!(table.contains("Tea\\u{202e}reversed"), "{table}");
    let wide = db.run(&["-o", "wide", "product", "list"]).expect(0).stdout;
    let header: Vec<&str> = wide.lines().next().unwrap().split_whitespace().collect();
    assert!(
        header.contains(&"description") && header.contains(&"updated_at"),
        "{wide}"
    );
    assert!(wide.contains("two\\nlines\\tand a tab"), "{wide}");
    assert_eq!(wide.lines().count(), 2, "one line per row: {wide}");
    assert!(wide.contains("2025-06-01T12:00:00Z"), "{wide}");
    assert!(!wide.contains(".000000"), "{wide}");
    // Scripts keep every field, unchanged.
    let csv = db.run(&["-o", "csv", "product", "list"]).expect(0).stdout;
    assert!(
        csv.starts_with("id,name,description,price,stock_count,discount_id,"),
        "{csv}"
    );
    assert!(csv.contains("2025-06-01T12:00:00.000000Z"), "{csv}");
    let json = db.json(&["product", "list"]);
    assert_eq!(json[0]["description"], "two\nlines\tand a tab");
    // Contradictory output flags are a usage error.
    db.run(&["--json", "-o", "csv", "product", "list"])
        .expect(2);
    db.run(&["-o", "csv", "-o", "json", "product", "list"])
        .expect(2);
}

plain_tests!(
    man_pages_come_from_the_command_line_definition,
    help_lists_tuning_only_at_the_top_and_ends_with_examples,
);

on_every_backend!(
    #[cfg(target_os = "linux")]
    an_import_shows_progress_only_on_a_terminal
);

fn milly(args: &[&str]) -> Run {
    let output = std::process::Command::new(crate::harness::MILLY)
        .env_clear()
        .args(args)
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn man_pages_come_from_the_command_line_definition() {
    let root = milly(&["man"]).expect(0).stdout;
    assert!(root.contains(".TH milly 1"), "{root}");
    assert!(root.contains("product"), "{root}");
    let show = milly(&["man", "product", "show"]).expect(0).stdout;
    assert!(show.contains(".TH milly-product-show 1"), "{show}");
    assert!(show.contains("\\-\\-explain"), "{show}");
    assert!(show.contains("Examples:"), "{show}");
    let unknown = milly(&["man", "product", "nosuch"]).expect(2);
    assert!(
        unknown.stderr.contains("milly product nosuch"),
        "{unknown:?}"
    );
}

fn help_lists_tuning_only_at_the_top_and_ends_with_examples() {
    let top = milly(&["--help"]).expect(0).stdout;
    assert!(top.contains("Global options:"), "{top}");
    assert!(top.contains("--retry-attempts"), "{top}");
    assert!(top.contains("[env: MILLY_RETRY_ATTEMPTS]"), "{top}");
    assert!(!top.contains("MILLY_RETRY_ATTEMPTS="), "{top}");
    for args in [["product", "show", "--help"], ["product", "show", "-h"]] {
        let help = milly(&args).expect(0).stdout;
        assert!(!help.contains("--retry-attempts"), "{help}");
        assert!(!help.contains("--lock-timeout-ms"), "{help}");
        assert!(help.contains("Global options:"), "{help}");
        assert!(help.trim_end().rsplit_once("Examples:").is_some(), "{help}");
        assert!(help.contains("--explain"), "{help}");
    }
    // Still accepted wherever they are written.
    let run = milly(&["product", "show", "--retry-attempts", "0", "X"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("retry-attempts"), "{run:?}");
}

/// `script` gives milly a terminal for stderr: the progress line shows
/// there; with stderr a pipe, nothing extra is printed.
fn an_import_shows_progress_only_on_a_terminal(db: &TestDb) {
    let file = db.home.path().join("p.ndjson");
    std::fs::write(
        &file,
        "{\"name\":\"A\",\"price\":1}\n{\"name\":\"B\",\"price\":2}\n",
    )
    .unwrap();
    let piped = db
        .run(&["import", "products", file.to_str().unwrap()])
        .expect(0);
    assert_eq!(piped.stderr, "");
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        panic!("this test needs `script` (util-linux) to give milly a terminal");
    }
    let line = format!(
        "{} import products {}",
        crate::harness::MILLY,
        file.to_str().unwrap()
    );
    let on_terminal = std::process::Command::new("script")
        .env("MILLY_DATABASE_URL", &db.url)
        .env("MILLY_NOW", crate::harness::NOW)
        .env("HOME", db.home.path())
        .args(["-qec", &line, "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&on_terminal.stdout);
    assert!(on_terminal.status.success(), "{text}");
    assert!(text.contains("importing products:"), "{text}");
    assert_eq!(db.counts()[0], 4);
}
