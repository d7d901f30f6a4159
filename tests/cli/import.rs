//! `milly import`: all or nothing, errors that name the line and the field,
//! both formats and how they are told apart, and one record per created row.

use std::io::Write;
use std::process::Stdio;

use serde_json::Value;

use crate::harness::{Run, TestDb};
use crate::on_every_backend;

on_every_backend!(
    a_bad_row_anywhere_imports_nothing,
    every_error_names_its_line_counting_the_csv_header_as_line_one,
    coupon_codes_repeated_in_the_file_or_taken_in_the_database_name_their_line,
    both_formats_accept_the_documented_forms,
    the_format_is_told_from_the_first_line,
    unknown_fields_are_refused_by_name,
    an_empty_file_imports_nothing,
    a_json_array_is_named_and_headers_match_without_case,
    a_hundred_thousand_rows_in_one_transaction,
    json_ndjson_and_csv_print_one_record_per_created_row,
);

/// Writes `content` to a file without an extension (the format must come
/// from the content or `--format`) and imports it.
fn import(db: &TestDb, args: &[&str], content: &str) -> Run {
    let file = db.home.path().join("input");
    std::fs::write(&file, content).unwrap();
    let file = file.to_str().unwrap().to_owned();
    let mut all: Vec<&str> = args.to_vec();
    all.push(&file);
    db.run(&all)
}

/// Imports from standard input.
fn import_stdin(db: &TestDb, args: &[&str], content: &str) -> Run {
    let mut child = db
        .command()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(content.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The first stderr line, the human one.
fn error_line(run: &Run) -> &str {
    run.stderr.lines().next().unwrap_or("")
}

const PRODUCTS: &[&str] = &["import", "products"];
const COUPONS: &[&str] = &["import", "coupons"];

fn a_bad_row_anywhere_imports_nothing(db: &TestDb) {
    db.product("Existing", "1", "1");
    let before = db.counts();
    // Good rows, then one whose ledger would go below zero, in each format.
    let ndjson = "{\"name\":\"A\",\"price\":1}\n{\"name\":\"B\",\"price\":2,\"stock\":5,\"discount_percent\":10}\n{\"name\":\"C\",\"price\":3,\"stock\":1,\"stock_changes\":[-2]}\n";
    let run = import(db, PRODUCTS, ndjson).expect(2);
    assert!(
        error_line(&run).starts_with("error: line 3: insufficient stock"),
        "{run:?}"
    );
    let csv = "name,price,stock,stock_changes\nA,1,0,\nB,2,5,+1;-7\n";
    let run = import(db, PRODUCTS, csv).expect(2);
    assert!(
        error_line(&run).starts_with("error: line 3: insufficient stock"),
        "{run:?}"
    );
    // A bad row after the store has taken many good ones: still nothing.
    let mut many: String = (0..3000)
        .map(|i| format!("{{\"name\":\"P{i}\",\"price\":\"{i}.01\"}}\n"))
        .collect();
    many.push_str("{\"name\":\"Last\",\"price\":\"0\"}\n");
    let run = import(db, &["--json", "import", "products"], &many).expect(2);
    assert!(
        error_line(&run).starts_with("error: line 3001: invalid price \"0\""),
        "{run:?}"
    );
    assert!(run.stdout.is_empty(), "{run:?}");
    let coupons = "user,percent,valid_to\nu1,5,2030-01-01\nu2,5,2020-01-01\n";
    let run = import(db, COUPONS, coupons).expect(2);
    assert!(
        error_line(&run).starts_with("error: line 3: invalid valid_to"),
        "{run:?}"
    );
    assert_eq!(db.counts(), before);
}

fn every_error_names_its_line_counting_the_csv_header_as_line_one(db: &TestDb) {
    let cases: &[(&[&str], &str, &str)] = &[
        // CSV: the header is line 1, so the second row is line 3.
        (PRODUCTS, "name,price\nTea,1\nMug,-1\n", "line 3: invalid price \"-1\""),
        (PRODUCTS, "name,price\nTea,1\nMug\n", "line 3: expected 2 values, one per header field, found 1"),
        (PRODUCTS, "name,price\nTea,1\n,2\n", "line 3: invalid name \"\": expected a value (the field is required)"),
        // A quoted cell over two lines: the next row starts on line 4.
        (PRODUCTS, "name,description,price\nTea,\"two\nlines\",1\nMug,,x\n", "line 4: invalid price \"x\""),
        (PRODUCTS, "name,price,price\nTea,1,2\n", "line 1: in the header: duplicate field `price`"),
        (COUPONS, "user,percent,valid_to\nu1,5,2030-01-01\nu2,500,2030-01-01\n", "line 3: invalid percent \"500\""),
        // NDJSON: blank lines count.
        (PRODUCTS, "{\"name\":\"Tea\",\"price\":1}\n\n  \n{\"name\":\"Mug\",\"price\":true}\n", "line 4: field price: invalid type: boolean `true`, expected a string or a number"),
        (PRODUCTS, "{\"name\":\"Tea\",\"price\":1}\n{\"name\":\"Mug\"\n", "line 2: expected one JSON object (EOF while parsing an object"),
        (PRODUCTS, "{\"name\":\"Tea\",\"price\":1} {}\n", "line 1: expected one JSON object and nothing after it"),
        (PRODUCTS, "{\"name\":\"Tea\",\"price\":1}\n[\"Mug\",1]\n", "line 2: expected one JSON object, found \"[\\\"Mug\\\",1]\""),
        (PRODUCTS, "{\"name\":\"Tea\",\"price\":1,\"stock_changes\":[1,{}]}\n", "line 1: field stock_changes: invalid type: map"),
        (PRODUCTS, "\n\n{\"name\":\"Tea\",\"price\":1,\"discount_percent\":5,\"discount_from\":\"2025-01-01T00:00:00.1234567Z\"}\n", "line 3: invalid discount_from \"2025-01-01T00:00:00.1234567Z\": expected at most 6 decimals"),
        // A discount window already over, as `discount set` refuses it.
        (PRODUCTS, "name,price,discount_percent,discount_from,discount_until\nTea,1,5,2025-01-01,2025-02-01\n", "line 2: invalid discount_until \"2025-02-01\": expected a time after now"),
        (COUPONS, "{\"user\":\"u1\",\"percent\":5,\"valid_to\":\"2030-12-31T23:59:60Z\"}\n", "line 1: invalid valid_to \"2030-12-31T23:59:60Z\": expected a time without a leap second"),
        // Leading blank lines before a CSV header count too.
        (PRODUCTS, "\n\nname,price\nTea,x\n", "line 4: invalid price \"x\""),
    ];
    for (args, content, expected) in cases {
        let run = import(db, args, content).expect(2);
        assert!(
            error_line(&run).starts_with(&format!("error: {expected}")),
            "{content:?}: {run:?}"
        );
        let run = import(db, &[&["-o", "json"][..], args].concat(), content).expect(2);
        let object: Value = serde_json::from_str(run.stderr.lines().nth(1).unwrap()).unwrap();
        assert_eq!(object["code"], "invalid_input");
    }
    assert_eq!(db.counts(), [0, 0, 0, 0]);

    // A directory given as FILE is refused as input, naming the path.
    let folder = db.home.path().to_str().unwrap().to_owned();
    let run = db.run(&["import", "products", &folder]).expect(2);
    assert_eq!(
        error_line(&run),
        format!("error: invalid FILE {folder:?}: expected a readable file (it is a directory)")
    );
}

fn coupon_codes_repeated_in_the_file_or_taken_in_the_database_name_their_line(db: &TestDb) {
    db.json(&[
        "coupon",
        "create",
        "--user",
        "u0",
        "--percent",
        "5",
        "--valid-to",
        "2030-01-01",
        "--code",
        "TAKEN1",
    ]);
    let before = db.counts();
    let header = "user,percent,valid_to,code\n";
    let cases = [
        (
            format!("{header}u1,5,2030-01-01,NEW1\nu2,5,2030-01-01,OTHER\nu3,5,2030-01-01,new1\n"),
            "line 4: coupon code new1 repeats the code on line 2 (codes are unique regardless of case); nothing was imported",
        ),
        (
            format!("{header}u1,5,2030-01-01,NEW1\nu2,5,2030-01-01,\nu3,5,2030-01-01,taken1\n"),
            "line 4: coupon code taken1 already exists (codes are unique regardless of case); nothing was imported",
        ),
        (
            "{\"user\":\"u1\",\"percent\":5,\"valid_to\":\"2030-01-01\",\"code\":\"Taken1\"}\n".to_owned(),
            "line 1: coupon code Taken1 already exists (codes are unique regardless of case); nothing was imported",
        ),
    ];
    for (content, expected) in &cases {
        let run = import(db, &["--json", "import", "coupons"], content).expect(4);
        assert_eq!(error_line(&run), format!("error: {expected}"), "{run:?}");
        let object: Value = serde_json::from_str(run.stderr.lines().nth(1).unwrap()).unwrap();
        assert_eq!(object["code"], "duplicate_coupon_code");
        assert!(
            !run.stderr.contains("--code"),
            "import has no --code: {run:?}"
        );
    }
    assert_eq!(db.counts(), before);
}

fn both_formats_accept_the_documented_forms(db: &TestDb) {
    let ndjson = concat!(
        "{\"name\": \"Black tea\", \"price\": \"12.50\", \"stock\": 40, \"stock_changes\": [10, \"-3\"], \"discount_percent\": \"10\"}\n",
        "{\"name\": \"Teapot\", \"price\": 35, \"description\": \"Cast iron\", \"stock\": null}\n",
        "{\"name\": \"Exact\", \"price\": 17.49, \"stock\": \"2\", \"stock_changes\": \"+1\", \"discount_percent\": 12.5, \"discount_from\": \"2025-01-01\", \"discount_until\": \"2030-01-01T00:00:00+02:00\"}\n",
    );
    let created = import(db, &["--json", "import", "products"], ndjson)
        .expect(0)
        .json();
    let ids: Vec<&str> = created
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let tea = db.json(&["product", "show", ids[0]]);
    assert_eq!(tea["price"].to_string(), "12.5");
    assert_eq!(tea["stock_count"], 47);
    assert_eq!(tea["discount_percentage"].to_string(), "10.0");
    let teapot = db.json(&["product", "show", ids[1]]);
    assert_eq!(
        (
            teapot["description"].as_str(),
            teapot["stock_count"].as_i64()
        ),
        (Some("Cast iron"), Some(0))
    );
    let exact = db.json(&["product", "show", ids[2]]);
    assert_eq!(exact["price"].to_string(), "17.49");
    assert_eq!(exact["stock_count"], 3);
    assert_eq!(exact["discount_percentage"].to_string(), "12.5");
    let history = db.json(&["stock", "history", ids[0]]);
    let changes: Vec<i64> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["change"].as_i64().unwrap())
        .collect();
    assert_eq!(changes, [40, 10, -3]);

    // CSV: empty cells are absent fields; several changes in one cell.
    let csv = "name,price,description,stock,stock_changes,discount_percent\n\"Green, tea\",0.99,,5,+5;-2,\nCup,3,\"a \"\"cup\"\"\",,,\n";
    let created = import(db, &["--json", "import", "products"], csv)
        .expect(0)
        .json();
    let green = db.json(&["product", "show", created[0]["id"].as_str().unwrap()]);
    assert_eq!(green["name"], "Green, tea");
    assert_eq!(green["price"].to_string(), "0.99");
    assert_eq!(green["stock_count"], 8);
    assert_eq!(green["discount_id"], Value::Null);
    let cup = db.json(&["product", "show", created[1]["id"].as_str().unwrap()]);
    assert_eq!(cup["description"], "a \"cup\"");
    assert_eq!(cup["stock_count"], 0);

    // Coupons in both formats; the printf example of the README.
    let run = import_stdin(
        db,
        COUPONS,
        "user,percent,valid_to,code\n42,15,2026-12-31,VIP15\n",
    )
    .expect(0);
    assert!(run.stdout.contains("coupons"), "{run:?}");
    import(db, COUPONS, "{\"user\":\"43\",\"percent\":15.5,\"valid_to\":\"2026-12-31\",\"valid_from\":\"2025-01-01T00:00:00Z\"}\n").expect(0);
    let shown = db.json(&["product", "show", ids[1], "--user", "43"]);
    assert_eq!(shown["coupon_percentage"].to_string(), "15.5");
    assert_eq!(db.counts(), [5, 10, 2, 2]);
}

fn the_format_is_told_from_the_first_line(db: &TestDb) {
    // CSV on standard input without --format: once "expected one JSON object".
    import_stdin(db, PRODUCTS, "name,price\nTea,1\n").expect(0);
    // NDJSON after blank lines, from a file named .csv.
    let file = db.home.path().join("really.csv");
    std::fs::write(&file, "\n  \n{\"name\":\"Mug\",\"price\":2}\n").unwrap();
    db.run(&["import", "products", file.to_str().unwrap()])
        .expect(0);
    // A byte-order mark before a CSV header.
    import(db, PRODUCTS, "\u{feff}name,price\nBom,3\n").expect(0);
    let names: Vec<String> = db
        .json(&["product", "list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["Tea", "Mug", "Bom"]);

    // --format still decides when given.
    let run = import(
        db,
        &["import", "products", "--format", "ndjson"],
        "name,price\nTea,1\n",
    )
    .expect(2);
    assert!(
        error_line(&run).starts_with("error: line 1: expected one JSON object"),
        "{run:?}"
    );
    let run = import(
        db,
        &["import", "products", "--format", "csv"],
        "{\"name\":\"Tea\",\"price\":1}\n",
    )
    .expect(2);
    assert!(
        error_line(&run).starts_with("error: line 1: in the header: unknown field"),
        "{run:?}"
    );
    assert_eq!(db.counts()[0], 3);
}

fn unknown_fields_are_refused_by_name(db: &TestDb) {
    let run = import(db, PRODUCTS, "name,price,colour\nTea,1,red\n").expect(2);
    assert!(
        error_line(&run).starts_with(
            "error: line 1: in the header: unknown field `colour`, expected one of `name`, `price`"
        ),
        "{run:?}"
    );
    let run = import(
        db,
        PRODUCTS,
        "{\"name\":\"Tea\",\"price\":1}\n{\"name\":\"Mug\",\"price\":1,\"colour\":\"red\"}\n",
    )
    .expect(2);
    assert!(
        error_line(&run)
            .starts_with("error: line 2: unknown field `colour`, expected one of `name`"),
        "{run:?}"
    );
    // A product field is unknown to coupons, and the other way round.
    let run = import(
        db,
        COUPONS,
        "user,percent,valid_to,price\nu,5,2030-01-01,1\n",
    )
    .expect(2);
    assert!(
        error_line(&run).starts_with(
            "error: line 1: in the header: unknown field `price`, expected one of `user`"
        ),
        "{run:?}"
    );
    let run = import(
        db,
        PRODUCTS,
        "{\"name\":\"Tea\",\"price\":1,\"code\":\"X\"}\n",
    )
    .expect(2);
    assert!(
        error_line(&run).starts_with("error: line 1: unknown field `code`"),
        "{run:?}"
    );
    assert_eq!(db.counts(), [0, 0, 0, 0]);
}

/// An input with no rows is most often a failed download: refused (exit 2)
/// unless `--allow-empty` says nothing is expected.
fn an_empty_file_imports_nothing(db: &TestDb) {
    let cases: [(&str, &str, &str); 4] = [
        ("products", "", "line,id\n"),
        ("coupons", "\n\n  \n", "line,id,code\n"),
        ("products", "name,price\n", "line,id\n"),
        ("coupons", "user,percent,valid_to\n", "line,id,code\n"),
    ];
    for (kind, content, csv_header) in cases {
        let refused = import(db, &["import", kind], content).expect(2);
        assert!(
            refused.stderr.contains("no rows") && refused.stderr.contains("--allow-empty"),
            "{content:?}: {refused:?}"
        );
        let allowed = ["import", kind, "--allow-empty"];
        let run = import(db, &[&["-o", "json"][..], &allowed].concat(), content).expect(0);
        assert_eq!(run.json(), serde_json::json!([]), "{content:?}");
        let run = import(db, &allowed, content).expect(0);
        assert!(run.stdout.contains("products"), "{run:?}");
        let run = import(db, &[&["-o", "ndjson"][..], &allowed].concat(), content).expect(0);
        assert_eq!(run.stdout, "", "{content:?}");
        let run = import(db, &[&["-o", "csv"][..], &allowed].concat(), content).expect(0);
        assert_eq!(run.stdout, csv_header, "{content:?}");
    }
    assert_eq!(db.counts(), [0, 0, 0, 0]);
}

/// A JSON array (what `-o json` prints) is named as such, with the way to
/// turn it into NDJSON; CSV headers match without regard to case.
fn a_json_array_is_named_and_headers_match_without_case(db: &TestDb) {
    let array = "[{\"name\": \"Tea\", \"price\": \"1\"}]\n";
    let run = import(db, &["import", "products"], array).expect(2);
    assert!(run.stderr.contains("line 1"), "{run:?}");
    assert!(
        run.stderr.contains("JSON array") && run.stderr.contains("jq -c '.[]'"),
        "{run:?}"
    );
    assert_eq!(db.counts(), [0, 0, 0, 0]);
    let run = import(
        db,
        &["-o", "json", "import", "products"],
        "Name,PRICE,Stock\nTea,1.50,4\n",
    )
    .expect(0);
    assert_eq!(run.json().as_array().unwrap().len(), 1, "{run:?}");
    let listed = db.json(&["product", "list"]);
    assert_eq!(listed[0]["name"], "Tea");
    assert_eq!(listed[0]["stock_count"], 4);
}

fn a_hundred_thousand_rows_in_one_transaction(db: &TestDb) {
    const ROWS: usize = 100_000;
    let mut csv = String::from("name,price,stock\n");
    for i in 1..=ROWS {
        csv.push_str(&format!(
            "Item {i},{}.{:02},{}\n",
            i % 1000 + 1,
            i % 100,
            i % 7
        ));
    }
    let run = import(db, &["-o", "ndjson", "import", "products"], &csv).expect(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), ROWS);
    let last: Value = serde_json::from_str(lines[ROWS - 1]).unwrap();
    assert_eq!(last["line"], ROWS as u64 + 1);
    let shown = db.json(&["product", "show", last["id"].as_str().unwrap()]);
    assert_eq!(shown["name"], format!("Item {ROWS}"));
    assert_eq!(shown["price"].to_string(), "1.0");
    assert_eq!(db.counts(), [ROWS as i64, ROWS as i64, 0, 0]);

    // The same size with a bad last row: all of it rolled back.
    csv.push_str("Broken,1,-1\n");
    let run = import(db, PRODUCTS, &csv).expect(2);
    assert!(
        error_line(&run).starts_with(&format!("error: line {}: invalid stock", ROWS + 2)),
        "{run:?}"
    );
    assert_eq!(db.counts(), [ROWS as i64, ROWS as i64, 0, 0]);
}

fn json_ndjson_and_csv_print_one_record_per_created_row(db: &TestDb) {
    let products =
        "{\"name\":\"A\",\"price\":1}\n\n{\"name\":\"B\",\"price\":2,\"discount_percent\":5}\n";
    let json = import(db, &["-o", "json", "import", "products"], products)
        .expect(0)
        .json();
    let rows = json.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["line"], 1);
    assert_eq!(rows[1]["line"], 3);
    assert_eq!(
        rows[0].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["id", "line"]
    );
    assert_eq!(
        db.json(&["product", "show", rows[1]["id"].as_str().unwrap()])["name"],
        "B"
    );

    let coupons = "user,percent,valid_to,code\nu1,5,2030-01-01,GIVEN1\nu2,5,2030-01-01,\n";
    let run = import(db, &["-o", "ndjson", "import", "coupons"], coupons).expect(0);
    let records: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 2);
    assert_eq!(
        (records[0]["line"].as_u64(), records[0]["code"].as_str()),
        (Some(2), Some("GIVEN1"))
    );
    assert_eq!(records[1]["line"], 3);
    // The generated code is the one stored for that id.
    let generated = records[1]["code"].as_str().unwrap();
    let stored = db.query_strings(&format!(
        "SELECT code FROM coupons WHERE id = '{}'",
        records[1]["id"].as_str().unwrap()
    ));
    assert_eq!(stored, [generated]);

    // CSV prints the records too, with a header.
    let run = import(
        db,
        &["-o", "csv", "import", "coupons"],
        "user,percent,valid_to,code\nu3,5,2030-01-01,CSV1\n",
    )
    .expect(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{run:?}");
    assert_eq!(lines[0], "line,id,code");
    assert!(
        lines[1].starts_with("2,CPN") && lines[1].ends_with(",CSV1"),
        "{run:?}"
    );

    // A table keeps the counts.
    let run = import(db, PRODUCTS, products).expect(0);
    let counts: Vec<Vec<&str>> = run
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        counts,
        [
            vec!["field", "value"],
            vec!["products", "2"],
            vec!["stock_events", "2"],
            vec!["discounts", "1"],
            vec!["coupons", "0"]
        ]
    );
}
