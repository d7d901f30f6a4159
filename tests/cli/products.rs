//! Creating, listing, filtering and paging products.

use crate::harness::TestDb;
use crate::on_every_backend;

on_every_backend!(
    creating_a_product_writes_it_and_its_opening_stock_event,
    invalid_price_or_stock_is_rejected_and_writes_nothing,
    list_returns_every_product_with_its_current_stock,
    name_filter_is_a_case_insensitive_substring,
    name_filter_treats_percent_and_underscore_literally,
    pagination_of_25_by_10_gives_10_10_5_then_empty,
    names_are_trimmed_and_stored_verbatim,
);

fn creating_a_product_writes_it_and_its_opening_stock_event(db: &TestDb) {
    let created = db.json(&[
        "product",
        "create",
        "--name",
        "Mug",
        "--price",
        "10000.00",
        "--description",
        "A mug",
        "--stock",
        "100",
    ]);
    assert_eq!(created["name"], "Mug");
    assert_eq!(created["description"], "A mug");
    assert_eq!(created["price"].to_string(), "10000.0");
    assert_eq!(created["stock_count"], 100);
    assert!(created["id"].as_str().unwrap().starts_with("PROD"));
    assert_eq!(db.counts(), [1, 1, 0, 0]);

    let history = db.json(&["stock", "history", created["id"].as_str().unwrap()]);
    let events = history.as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["change"], 100);
    assert_eq!(events[0]["total_after_change"], 100);
    assert_eq!(events[0]["version"], 1);
}

fn invalid_price_or_stock_is_rejected_and_writes_nothing(db: &TestDb) {
    db.run(&["db", "migrate"]).expect(0);
    for (price, stock) in [
        ("-100", "1"),
        ("0", "1"),
        ("1.999", "1"),
        ("10", "-5"),
        ("10", "1.5"),
    ] {
        let run = db
            .run(&[
                "product", "create", "--name", "X", "--price", price, "--stock", stock,
            ])
            .expect(2);
        assert!(run.stderr.starts_with("error: invalid --"), "{run:?}");
        assert!(run.stdout.is_empty());
    }
    assert_eq!(db.counts(), [0, 0, 0, 0]);
}

fn list_returns_every_product_with_its_current_stock(db: &TestDb) {
    let a = db.product("Alpha", "10", "5");
    let b = db.product("Beta", "20", "7");
    db.run(&["stock", "adjust", &b, "--change", "+3"]).expect(0);
    let list = db.json(&["product", "list"]);
    let rows = list.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (
            rows[0]["id"].as_str().unwrap(),
            rows[0]["stock_count"].as_i64()
        ),
        (a.as_str(), Some(5))
    );
    assert_eq!(
        (
            rows[1]["id"].as_str().unwrap(),
            rows[1]["stock_count"].as_i64()
        ),
        (b.as_str(), Some(10))
    );
    assert_eq!(rows[1]["final_price"].to_string(), "20.0");
}

fn names(list: &serde_json::Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect()
}

fn name_filter_is_a_case_insensitive_substring(db: &TestDb) {
    for name in ["Green Tea", "Black tea", "Coffee", "TEAPOT", "Ça va"] {
        db.product(name, "1", "0");
    }
    assert_eq!(
        names(&db.json(&["product", "list", "--name", "tea"])),
        ["Green Tea", "Black tea", "TEAPOT"]
    );
    assert_eq!(
        names(&db.json(&["product", "list", "--name", "COF"])),
        ["Coffee"]
    );
    assert_eq!(
        names(&db.json(&["product", "list", "--name", "ça"])),
        ["Ça va"]
    );
    assert!(db
        .json(&["product", "list", "--name", "nothing"])
        .as_array()
        .unwrap()
        .is_empty());
}

fn name_filter_treats_percent_and_underscore_literally(db: &TestDb) {
    for name in ["50% off", "500 off", "a_b", "axb", "back\\slash", "it's"] {
        db.product(name, "1", "0");
    }
    assert_eq!(
        names(&db.json(&["product", "list", "--name", "%"])),
        ["50% off"]
    );
    assert_eq!(
        names(&db.json(&["product", "list", "--name", "_"])),
        ["a_b"]
    );
    assert_eq!(
        names(&db.json(&["product", "list", "--name", "\\"])),
        ["back\\slash"]
    );
    assert_eq!(
        names(&db.json(&["product", "list", "--name", "'"])),
        ["it's"]
    );
}

fn pagination_of_25_by_10_gives_10_10_5_then_empty(db: &TestDb) {
    for i in 0..25 {
        db.product(&format!("P{i:02}"), "1", "0");
    }
    let page = |n: &str| names(&db.json(&["product", "list", "--page-size", "10", "--page", n]));
    let (one, two, three) = (page("1"), page("2"), page("3"));
    assert_eq!((one.len(), two.len(), three.len()), (10, 10, 5));
    assert_eq!(one[0], "P00");
    assert_eq!(two[0], "P10");
    assert_eq!(three[4], "P24");
    assert!(page("4").is_empty());
    // The default page size is 30: everything on page 1.
    assert_eq!(names(&db.json(&["product", "list"])).len(), 25);
}

fn names_are_trimmed_and_stored_verbatim(db: &TestDb) {
    let id = db.product("  Crème brûlée; DROP TABLE products;--  ", "1", "0");
    let shown = db.json(&["product", "show", &id]);
    assert_eq!(shown["name"], "Crème brûlée; DROP TABLE products;--");
    assert_eq!(db.counts()[0], 1);
}
