//! Bad input: every argument of every command, refused with exit 2, a message
//! naming the argument, and nothing written. Edge values that are allowed are
//! checked alongside, so the limits are pinned from both sides.

use std::ffi::OsString;
#[cfg(unix)]
use std::os::unix::ffi::OsStringExt;

use crate::harness::TestDb;
use crate::on_every_backend;

on_every_backend!(
    every_bad_argument_is_refused_with_exit_2_and_writes_nothing,
    values_at_the_limits_are_accepted
);

const PRICES: &[&str] = &[
    "",
    " ",
    "0",
    "0.00",
    "-1",
    "+1",
    "-0",
    "-0.00",
    " 1",
    "1 ",
    "1 000",
    "1,000",
    "1_000",
    "1e3",
    "1E3",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "Infinity",
    "1.999",
    "1.",
    ".5",
    "0x10",
    "１２",
    "1000000000000.00",
    "99999999999999999999999999",
];
const STOCKS: &[&str] = &[
    "",
    " ",
    "-1",
    "+1",
    "-0",
    "1.5",
    "1.0",
    "1e2",
    "NaN",
    "inf",
    "1 000",
    "1,000",
    " 1",
    "1000000000000000",
    "99999999999999999999",
];
const CHANGES: &[&str] = &[
    "",
    " ",
    "0",
    "-0",
    "+0",
    "00",
    "1.5",
    "+1.0",
    "1e2",
    "NaN",
    "inf",
    "-inf",
    " 1",
    "1 ",
    "1,000",
    "1 000",
    "--5",
    "+-5",
    "+",
    "-",
    "1000000000000000",
    "-99999999999999999999",
];
const PERCENTS: &[&str] = &[
    "", " ", "0", "0.00", "0.001", "100.01", "101", "-5", "+5", "-0", "5%", "1e1", "NaN", "inf",
    " 5", "5,5", "50.",
];
const TIMES: &[&str] = &[
    "",
    " ",
    " 2025-03-01",
    "2025-03-01 ",
    "2025-02-30",
    "2025-02-29",
    "2025-13-01",
    "2025-00-10",
    "2025-04-31",
    "1969-12-31",
    "0000-01-01",
    "10000-01-01",
    "2025-03-01T25:00:00Z",
    "2025-03-01T00:60:00Z",
    "2025-03-01T00:00:00+25:00",
    "2025-03-01T00:00:00+0900x",
    "2025-03-01T00:00:00",
    "2025-03-01 00:00:00",
    // Relative times have a sign, a whole number and a unit (now, today,
    // yesterday and tomorrow are words milly knows).
    "last week",
    "7d",
    "+7y",
    "-1.5d",
    "1740787200",
    "2025-3-1",
    "NaN",
    // Never rounded: more than six decimals, and leap seconds.
    "2026-11-24T12:00:00.9999999Z",
    "2026-11-24T12:00:00.1234567890+02:00",
    "2016-12-31T23:59:60Z",
    "2016-12-31T23:59:60.5Z",
];
const IDS: &[&str] = &[
    "",
    " ",
    "x",
    "PROD",
    "PROD01JD5Q3Z8X4N2M7K9P6R3T1V0",
    "PROD01JD5Q3Z8X4N2M7K9P6R3T1V0WX",
    "EVT01JD5Q3Z8X4N2M7K9P6R3T1V0W",
    "PROD01JD5Q3Z8X4N2M7K9P6R3T1V0U",
    "PROD01JD5Q3Z8X4N2M7K9P6R3T1V0W ",
    "PROD'; DROP TABLE products;--",
];
const CODES: &[&str] = &[
    "",
    " ",
    "ab",
    "with space",
    "ünï",
    "a;b",
    "a'b",
    "a%b",
    "ab\t",
    " abc",
];

fn over(n: usize) -> String {
    "x".repeat(n + 1)
}

/// Names and other one-line text: blank, control characters, too long.
fn one_line_text(max: usize) -> Vec<String> {
    let mut v: Vec<String> = [
        "",
        " ",
        "\t",
        "a\u{7}b",
        "a\nb",
        "a\rb",
        "\u{1b}[31mred",
        "a\u{7f}b",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push(over(max));
    v
}

struct Case {
    /// What the error message must name.
    label: &'static str,
    args: Vec<OsString>,
}

fn case(label: &'static str, args: &[&str]) -> Case {
    Case {
        label,
        args: args.iter().map(OsString::from).collect(),
    }
}

/// Every argument of every command, each with the values it must refuse.
/// Flags are passed as `--flag=value` so values starting with `-` are values.
fn cases(product: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut flag = |label: &'static str, template: &[&str], values: &[String]| {
        for value in values {
            let args: Vec<String> = template
                .iter()
                .map(|a| match *a {
                    "{P}" => product.to_owned(),
                    "{V}" => format!("{label}={value}"),
                    "{POS}" => value.clone(),
                    other => other.to_owned(),
                })
                .collect();
            cases.push(Case {
                label,
                args: args.into_iter().map(OsString::from).collect(),
            });
        }
    };
    let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let names = one_line_text(200);
    let mut description = vec![
        "\u{1b}[2J".to_owned(),
        "a\u{7}b".to_owned(),
        "a\u{7f}b".to_owned(),
    ];
    description.push(over(2000));
    let mut users = owned(&["", " ", "a b", " a", "a ", "a\tb", "a\u{7}"]);
    users.push(over(64));
    let mut codes = owned(CODES);
    codes.push(over(32));

    flag(
        "--name",
        &["product", "create", "{V}", "--price", "1"],
        &names,
    );
    flag(
        "--price",
        &["product", "create", "--name", "N", "{V}"],
        &owned(PRICES),
    );
    flag(
        "--description",
        &["product", "create", "--name", "N", "--price", "1", "{V}"],
        &description,
    );
    flag(
        "--stock",
        &["product", "create", "--name", "N", "--price", "1", "{V}"],
        &owned(STOCKS),
    );
    flag("--name", &["product", "list", "{V}"], &names);
    flag(
        "--page-size",
        &["product", "list", "{V}"],
        &owned(&["", "0", "-1", "x", "1.5", "10001", "1e2"]),
    );
    flag(
        "--page",
        &["product", "list", "{V}"],
        &owned(&["", "0", "-1", "x", "1000000001", "99999999999999999999"]),
    );
    flag("--at", &["product", "list", "{V}"], &owned(TIMES));
    flag("PRODUCT_ID", &["product", "show", "{POS}"], &owned(IDS));
    flag("--user", &["product", "show", "{P}", "{V}"], &users);
    flag("--at", &["product", "show", "{P}", "{V}"], &owned(TIMES));
    flag(
        "PRODUCT_ID",
        &["stock", "adjust", "{POS}", "--change", "+1"],
        &owned(IDS),
    );
    flag(
        "--change",
        &["stock", "adjust", "{P}", "{V}"],
        &owned(CHANGES),
    );
    flag(
        "--reason",
        &["stock", "adjust", "{P}", "--change", "+1", "{V}"],
        &one_line_text(200),
    );
    flag("PRODUCT_ID", &["stock", "history", "{POS}"], &owned(IDS));
    flag(
        "PRODUCT_ID",
        &["discount", "set", "{POS}", "--percent", "5"],
        &owned(IDS),
    );
    flag(
        "--percent",
        &["discount", "set", "{P}", "{V}"],
        &owned(PERCENTS),
    );
    flag(
        "--from",
        &["discount", "set", "{P}", "--percent", "5", "{V}"],
        &owned(TIMES),
    );
    flag(
        "--until",
        &["discount", "set", "{P}", "--percent", "5", "{V}"],
        &owned(TIMES),
    );
    let coupon = [
        "coupon",
        "create",
        "--user",
        "u1",
        "--percent",
        "5",
        "--valid-to",
        "2030-01-01",
    ];
    flag(
        "--user",
        &[
            "coupon",
            "create",
            "{V}",
            "--percent",
            "5",
            "--valid-to",
            "2030-01-01",
        ],
        &users,
    );
    flag(
        "--percent",
        &[
            "coupon",
            "create",
            "--user",
            "u1",
            "{V}",
            "--valid-to",
            "2030-01-01",
        ],
        &owned(PERCENTS),
    );
    flag(
        "--valid-to",
        &["coupon", "create", "--user", "u1", "--percent", "5", "{V}"],
        &owned(TIMES),
    );
    flag(
        "--valid-from",
        &[&coupon[..], &["{V}"]].concat(),
        &owned(TIMES),
    );
    flag("--code", &[&coupon[..], &["{V}"]].concat(), &codes);
    flag("CODE", &["coupon", "deactivate", "{POS}"], &codes);
    flag(
        "FILE",
        &["import", "products", "{POS}"],
        &owned(&["/nonexistent/products.ndjson"]),
    );
    flag(
        "--format",
        &["import", "products", "{V}"],
        &owned(&["", "xml"]),
    );
    flag(
        "--retry-attempts",
        &["{V}", "product", "list"],
        &owned(&["", "0", "-1", "x", "1001"]),
    );
    flag(
        "--lock-timeout-ms",
        &["{V}", "product", "list"],
        &owned(&["", "-1", "x", "600001"]),
    );
    flag(
        "--output",
        &["{V}", "product", "list"],
        &owned(&["", "xml", "JSON"]),
    );
    flag(
        "SHELL",
        &["completions", "{POS}"],
        &owned(&["", "cmd", "sh"]),
    );

    // A window that ends before it starts, for discounts and coupons.
    cases.push(case(
        "--until",
        &[
            "discount",
            "set",
            product,
            "--percent",
            "5",
            "--from",
            "2025-07-01",
            "--until",
            "2025-06-30",
        ],
    ));
    cases.push(case(
        "--until",
        &[
            "discount",
            "set",
            product,
            "--percent",
            "5",
            "--from",
            "2025-07-01",
            "--until",
            "2025-07-01",
        ],
    ));
    cases.push(case(
        "--valid-to",
        &[
            "coupon",
            "create",
            "--user",
            "u",
            "--percent",
            "5",
            "--valid-from",
            "2030-01-02",
            "--valid-to",
            "2030-01-01",
        ],
    ));
    // The default discount window starts now (MILLY_NOW = 2025-06-01T12:00Z).
    cases.push(case(
        "--until",
        &[
            "discount",
            "set",
            product,
            "--percent",
            "5",
            "--until",
            "2025-06-01",
        ],
    ));
    cases
}

/// Arguments that are not valid UTF-8 are refused by the parser itself
/// (built from raw bytes, which only Unix arguments are).
#[cfg(unix)]
fn non_utf8_cases(product: &str) -> Vec<Case> {
    let bad = || OsString::from_vec(vec![b'f', 0xff, b'o']);
    let os = |parts: &[&str]| parts.iter().map(OsString::from).collect::<Vec<_>>();
    let with = |mut args: Vec<OsString>, at: usize| {
        args.insert(at, bad());
        args
    };
    vec![
        Case {
            label: "UTF-8",
            args: with(os(&["product", "create", "--price", "1", "--name"]), 5),
        },
        Case {
            label: "UTF-8",
            args: with(os(&["product", "create", "--name", "N", "--price"]), 5),
        },
        Case {
            label: "UTF-8",
            args: with(os(&["product", "show"]), 2),
        },
        Case {
            label: "UTF-8",
            args: with(os(&["product", "show", product, "--user"]), 4),
        },
        Case {
            label: "UTF-8",
            args: with(
                os(&["stock", "adjust", product, "--change", "+1", "--reason"]),
                6,
            ),
        },
        Case {
            label: "UTF-8",
            args: with(
                os(&[
                    "coupon",
                    "create",
                    "--user",
                    "u",
                    "--percent",
                    "5",
                    "--valid-to",
                    "2030-01-01",
                    "--code",
                ]),
                9,
            ),
        },
    ]
}

fn every_bad_argument_is_refused_with_exit_2_and_writes_nothing(db: &TestDb) {
    let product = db.product("Mug", "10", "10");
    db.json(&[
        "coupon",
        "create",
        "--user",
        "u1",
        "--percent",
        "5",
        "--valid-to",
        "2030-01-01",
        "--code",
        "KEEP",
    ]);
    let before = db.counts();
    let history_before = db.json(&["stock", "history", &product]);

    #[cfg_attr(not(unix), allow(unused_mut))]
    let mut all: Vec<Case> = cases(&product);
    #[cfg(unix)]
    all.extend(non_utf8_cases(&product));
    let mut failures = Vec::new();
    for case in &all {
        let out = db.command().args(&case.args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let named = stderr.contains(case.label)
            || (case.label.starts_with("--") && stderr.contains(&format!("'{}", case.label)));
        let one_clear_line = stderr.starts_with("error: ") && out.stdout.is_empty();
        if out.status.code() != Some(2) || !named || !one_clear_line {
            failures.push(format!(
                "{:?} → exit {:?}, stderr {stderr:?}",
                case.args,
                out.status.code()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases misbehaved:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
    println!(
        "{:?}: {} bad-input cases refused with exit 2",
        db.backend,
        all.len()
    );

    assert_eq!(db.counts(), before, "nothing was written");
    assert_eq!(db.json(&["stock", "history", &product]), history_before);
}

fn values_at_the_limits_are_accepted(db: &TestDb) {
    let max_name = "é".repeat(200);
    let created = db.json(&[
        "product",
        "create",
        "--name",
        &format!("  {max_name}\t"),
        "--price",
        "999999999999.99",
        "--stock",
        "999999999999999",
        "--description",
        &"d".repeat(2000),
    ]);
    assert_eq!(
        created["name"],
        max_name.as_str(),
        "names are trimmed, and 200 characters fit"
    );
    assert_eq!(created["price"].to_string(), "999999999999.99");
    let id = created["id"].as_str().unwrap().to_owned();
    // Already at the maximum: one more is a state rejection, not bad input.
    db.run(&["stock", "adjust", &id, "--change", "+1"])
        .expect(4);
    assert_eq!(
        db.json(&["stock", "adjust", &id, "--change", "-999999999999999"])["new_stock_count"],
        0
    );

    let cheap = db.product("Penny", "0.01", "0");
    db.json(&["discount", "set", &cheap, "--percent", "100"]);
    let shown = db.json(&["product", "show", &cheap.to_lowercase()]);
    assert_eq!(
        shown["final_price"].to_string(),
        "0.0",
        "ids are accepted in any case; 100% is allowed"
    );
    db.json(&["discount", "set", &cheap, "--percent", "0.01"]);

    // Offsets are converted to UTC; leap days exist in leap years.
    let d = db.json(&[
        "discount",
        "set",
        &cheap,
        "--percent",
        "5",
        "--from",
        "2025-06-02T09:00:00+09:00",
        "--until",
        "2028-02-29",
    ]);
    assert_eq!(d["valid_from"], "2025-06-02T00:00:00.000000Z");
    assert_eq!(d["valid_to"], "2028-02-29T00:00:00.000000Z");
    let c = db.json(&[
        "coupon",
        "create",
        "--user",
        &"u".repeat(64),
        "--percent",
        "100",
        "--valid-to",
        "9999-12-31T23:59:59.999999Z",
        "--code",
        &"C".repeat(32),
    ]);
    assert_eq!(c["valid_to"], "9999-12-31T23:59:59.999999Z");
    db.json(&[
        "coupon",
        "create",
        "--user",
        "x",
        "--percent",
        "0.01",
        "--valid-to",
        "2030-01-01",
        "--code",
        "abc",
    ]);
    db.json(&[
        "stock",
        "adjust",
        &cheap,
        "--change",
        "+1",
        "--reason",
        &"r".repeat(200),
    ]);
}
