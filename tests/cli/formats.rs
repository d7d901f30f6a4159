//! The output formats parse, and keep the same fields and values.

use crate::harness::TestDb;
use crate::on_every_backend;

on_every_backend!(json_ndjson_csv_and_table_agree);

fn json_ndjson_csv_and_table_agree(db: &TestDb) {
    let a = db.product("Plain", "17.49", "3");
    let b = db.product("Quote \"and\", comma", "10000", "0");
    db.json(&["discount", "set", &b, "--percent", "10"]);

    let json = db.json(&["product", "list"]);
    let rows = json.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["id"], a.as_str());
    assert_eq!(rows[0]["price"].to_string(), "17.49");
    assert_eq!(rows[1]["final_price"].to_string(), "9000.0");

    let ndjson = db
        .run(&["-o", "ndjson", "product", "list"])
        .expect(0)
        .stdout;
    let lines: Vec<serde_json::Value> = ndjson
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(&lines, rows);

    let csv_text = db.run(&["-o", "csv", "product", "list"]).expect(0).stdout;
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 2);
    let field = |row: usize, name: &str| {
        records[row][headers.iter().position(|h| h == name).unwrap()].to_owned()
    };
    assert_eq!(field(1, "name"), "Quote \"and\", comma");
    assert_eq!(field(1, "final_price"), "9000.00");
    assert_eq!(field(0, "stock_count"), "3");
    // The same columns, in the same order, as the JSON objects.
    let json_keys: Vec<&str> = rows[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut sorted_headers: Vec<&str> = headers.iter().collect();
    let mut sorted_keys = json_keys.clone();
    sorted_headers.sort();
    sorted_keys.sort();
    assert_eq!(sorted_headers, sorted_keys);

    // An empty list is an empty array, an empty NDJSON stream, a bare CSV header.
    let empty = ["product", "list", "--name", "no such product"];
    assert_eq!(db.json(&empty), serde_json::json!([]));
    assert_eq!(
        db.run(&[&["-o", "ndjson"][..], &empty].concat())
            .expect(0)
            .stdout,
        ""
    );
    assert_eq!(
        db.run(&[&["-o", "csv"][..], &empty].concat())
            .expect(0)
            .stdout
            .lines()
            .count(),
        1
    );

    // Tables for people; without a terminal, no colours and no borders.
    let table = db.run(&["product", "list"]).expect(0).stdout;
    assert!(table.lines().next().unwrap().contains("final_price"));
    assert!(table.contains("Plain"));
    assert!(!table.contains('\u{1b}'), "no ANSI escapes when piped");
    assert!(
        !table.contains('│') && !table.contains('|'),
        "no borders when piped"
    );

    // Single-object commands print one object in JSON and one line in NDJSON.
    let shown = db
        .run(&["-o", "ndjson", "product", "show", &a])
        .expect(0)
        .stdout;
    assert_eq!(shown.lines().count(), 1);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&shown).unwrap()["id"],
        a.as_str()
    );
    let csv_one = db
        .run(&["-o", "csv", "stock", "adjust", &a, "--change", "+1"])
        .expect(0)
        .stdout;
    assert!(
        csv_one.starts_with("product_id,event_id,change,new_stock_count,version"),
        "{csv_one}"
    );
}
