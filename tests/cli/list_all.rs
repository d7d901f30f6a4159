//! `product list --all`: the whole catalog streamed page after page, in
//! every format, and a reader that stops early.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use serde_json::Value;

use crate::harness::TestDb;
use crate::on_every_backend;

on_every_backend!(
    every_format_streams_the_whole_catalog_across_pages,
    an_empty_catalog_is_an_empty_list_in_every_format,
    a_reader_that_closes_the_pipe_ends_every_format_with_exit_0,
);

/// More than two stream pages (1,000 products each), so that the framing
/// between pages is exercised.
const PRODUCTS: usize = 2_345;

fn fill(db: &TestDb, count: usize) {
    let file = db.home.path().join("catalog.ndjson");
    let rows: String = (1..=count)
        .map(|i| format!("{{\"name\":\"Item {i}\",\"price\":\"{i}.25\",\"stock\":{i},\"description\":\"{}\"}}\n", "d".repeat(100)))
        .collect();
    std::fs::write(&file, rows).unwrap();
    db.run(&["import", "products", file.to_str().unwrap()])
        .expect(0);
}

fn list_all(db: &TestDb, format: &str) -> String {
    db.run(&["-o", format, "product", "list", "--all"])
        .expect(0)
        .stdout
}

fn every_format_streams_the_whole_catalog_across_pages(db: &TestDb) {
    fill(db, PRODUCTS);
    let json: Value = serde_json::from_str(&list_all(db, "json")).expect("one valid JSON array");
    let rows = json.as_array().unwrap();
    assert_eq!(rows.len(), PRODUCTS);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["name"], format!("Item {}", i + 1), "creation order");
    }
    assert_eq!(
        rows[PRODUCTS - 1]["price"].to_string(),
        format!("{PRODUCTS}.25")
    );

    let ndjson = list_all(db, "ndjson");
    let lines: Vec<Value> = ndjson
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(&lines, rows, "the same objects, one per line");

    let csv = list_all(db, "csv");
    let header = csv.lines().next().unwrap();
    assert!(
        header.starts_with("id,name,description,price,stock_count"),
        "{header}"
    );
    assert_eq!(
        csv.lines().filter(|l| *l == header).count(),
        1,
        "one header"
    );
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), PRODUCTS);
    assert_eq!(&records[1000][0], rows[1000]["id"].as_str().unwrap());
    assert_eq!(&records[PRODUCTS - 1][3], format!("{PRODUCTS}.25"));

    // Tables are aligned per block of rows, each block with its heading.
    let table = list_all(db, "table");
    let headings = table
        .lines()
        .filter(|l| l.trim_start().starts_with("id "))
        .count();
    assert_eq!(headings, PRODUCTS.div_ceil(1000), "{}", &table[..200]);
    let data: Vec<&str> = table
        .lines()
        .filter(|l| l.trim_start().starts_with("PROD"))
        .collect();
    assert_eq!(data.len(), PRODUCTS);
    assert!(data[PRODUCTS - 1].contains(&format!("Item {PRODUCTS}")));

    // The filter applies to the stream too.
    let filtered = db.json(&["product", "list", "--all", "--name", "item 234"]);
    let names: Vec<&str> = filtered
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Item 234",
            "Item 2340",
            "Item 2341",
            "Item 2342",
            "Item 2343",
            "Item 2344",
            "Item 2345"
        ]
    );
}

fn an_empty_catalog_is_an_empty_list_in_every_format(db: &TestDb) {
    db.run(&["db", "migrate"]).expect(0);
    assert_eq!(list_all(db, "json"), "[]\n");
    assert_eq!(list_all(db, "ndjson"), "");
    let csv = list_all(db, "csv");
    assert_eq!(csv.lines().count(), 1);
    assert!(csv.starts_with("id,name,"), "{csv}");
    let table = list_all(db, "table");
    assert_eq!(table.lines().count(), 1, "{table}");
    assert!(table.trim_start().starts_with("id "), "{table}");
    // A filter that matches nothing, on a catalog that is not empty.
    fill(db, 3);
    assert_eq!(
        db.json(&["product", "list", "--all", "--name", "nothing"]),
        serde_json::json!([])
    );
}

/// `milly … | head -1`: the reader takes one line and goes away. Every
/// format, streamed or rendered at once, ends quietly with exit 0, so that
/// `set -o pipefail` scripts do not fail.
fn a_reader_that_closes_the_pipe_ends_every_format_with_exit_0(db: &TestDb) {
    fill(db, PRODUCTS);
    let commands: [&[&str]; 2] = [
        &["product", "list", "--all"],
        &["product", "list", "--page-size", "10000"],
    ];
    for format in ["table", "json", "ndjson", "csv"] {
        for command in commands {
            let mut child = db
                .command()
                .args(["-o", format])
                .args(command)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let mut first = String::new();
            BufReader::new(child.stdout.take().unwrap())
                .read_line(&mut first)
                .unwrap();
            // The reader is dropped here: the pipe is closed.
            assert!(!first.is_empty());
            let output = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(
                output.status.code(),
                Some(0),
                "{format} {command:?}: {stderr}"
            );
            assert_eq!(stderr, "", "{format} {command:?}");
        }
    }
}
