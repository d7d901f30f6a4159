//! Security: hostile text stored verbatim, private files, passwords never shown.
//!
//! (The SQLite file's 0600 and the default folder's 0700 are in storage.rs.)

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;

use crate::faults::{
    closed_port, create_waiting_on_the_products_lock, database_name, mysql_server, mysql_url,
    run_against, wait_with_limit, MysqlUser, Proxy,
};
use crate::harness::{mysql_admin_url, Run, TestDb};
use crate::{on_every_backend, on_mysql};

on_every_backend!(
    hostile_text_in_every_field_is_stored_and_read_back_unchanged,
    hostile_customer_ids_and_coupon_codes_match_only_themselves,
);

on_mysql!(no_output_or_error_ever_shows_the_mysql_password);

/// Text that breaks naively built SQL, shell lines, HTML, LIKE patterns or
/// full-text queries, and text that breaks byte-oriented storage.
fn hostile_names() -> Vec<String> {
    let mut names: Vec<String> = [
        "Robert'); DROP TABLE products;--",
        "' OR '1'='1",
        "'; DELETE FROM stock_events WHERE '1'='1",
        "%_\\",
        "100%",
        "a_b",
        "\\'",
        "\\",
        "'",
        "\"",
        "\"quoted\"",
        "`backticks`",
        "NULL",
        "null",
        "$(rm -rf /)",
        "`rm -rf /`; echo pwned",
        "<script>alert('x')</script>",
        "名前",
        "🦀",
        "ÇA",
        "ça et là",
        "-1 OR 1=1",
        "* NEAR(a b) OR name:x AND ^c",
        "x\" OR \"y",
        "a \"\"doubled\"\" quote",
        "0x27",
        "%00",
        "Ⅻ ǅ ß ﬁ",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // Names at the maximum length: 200 characters, of 1, 3 and 4 bytes.
    names.push("'".repeat(200));
    names.push(format!("{}🦀", "名".repeat(199)));
    names.push("🦀".repeat(200));
    names
}

fn description_for(i: usize, name: &str) -> String {
    match i % 3 {
        0 => name.to_owned(),
        1 => format!("line 1: {name}\n\tindented\t'tab'\nline 3 \"%_\\\" 🦀\n\n-- end"),
        _ => format!("{}\n{}", "é\t".repeat(500), "x".repeat(499)),
    }
}

/// milly's case folding for `--name`: Unicode lowercase.
fn folded(s: &str) -> String {
    s.to_lowercase()
}

fn ids_of(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Every text field takes hostile strings and gives them back byte for
/// byte: product names and descriptions (single and bulk), stock reasons,
/// and the `--name` filter finds exactly the names that contain it.
fn hostile_text_in_every_field_is_stored_and_read_back_unchanged(db: &TestDb) {
    let names = hostile_names();
    let mut products: Vec<(String, String, String)> = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let description = description_for(i, name);
        let name_arg = format!("--name={name}");
        let description_arg = format!("--description={description}");
        let created = db.json(&[
            "product",
            "create",
            &name_arg,
            "--price",
            "10",
            &description_arg,
            "--stock",
            "5",
        ]);
        assert_eq!(created["name"], name.as_str());
        assert_eq!(created["description"], description.as_str());
        let id = created["id"].as_str().unwrap().to_owned();
        products.push((id, name.clone(), description));
    }
    // The bulk path, with its multi-row statements, takes the same text.
    let file = db.home.path().join("hostile.ndjson");
    let bulk: Vec<String> = names.iter().take(8).map(|n| format!("bulk {n}")).collect();
    let lines: String = bulk
        .iter()
        .enumerate()
        .map(|(i, n)| {
            serde_json::json!({"name": n, "price": "1", "description": description_for(i + 1, n), "stock": 1})
                .to_string()
                + "\n"
        })
        .collect();
    std::fs::write(&file, lines).unwrap();
    db.run(&["import", "products", file.to_str().unwrap()])
        .expect(0);

    // One over the limit is refused, not clipped.
    let too_long = format!("--name={}", "'".repeat(201));
    db.run(&["product", "create", &too_long, "--price", "1"])
        .expect(2);

    // Read back, one by one and as a list.
    for (id, name, description) in &products {
        let shown = db.json(&["product", "show", id]);
        assert_eq!(shown["name"], name.as_str(), "{id}");
        assert_eq!(shown["description"], description.as_str(), "{id}");
    }
    let all = db.json(&["product", "list", "--page-size", "1000"]);
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), names.len() + bulk.len());
    let listed: Vec<(&str, &str)> = all
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap(),
                p["description"].as_str().unwrap(),
            )
        })
        .collect();
    for (i, (_, name, description)) in products.iter().enumerate() {
        assert_eq!(listed[i], (name.as_str(), description.as_str()));
    }
    for (i, name) in bulk.iter().enumerate() {
        assert_eq!(
            listed[products.len() + i],
            (name.as_str(), description_for(i + 1, name).as_str())
        );
    }

    // The filter is a literal, case-insensitive substring, whatever it holds.
    let everything: Vec<(String, String)> = all
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_owned(),
                p["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut terms: Vec<String> = names.clone();
    terms.extend(
        [
            "ça", "ç", "%", "_", "\\", "'", "\"", "--", "🦀", "*", "or", "'1'='1", "名前", "ǆ",
            "SS", "x\"", "\"\"",
        ]
        .map(String::from),
    );
    for term in &terms {
        let arg = format!("--name={term}");
        let found = db.json(&["product", "list", &arg, "--page-size", "1000"]);
        let expected: Vec<String> = everything
            .iter()
            .filter(|(_, name)| folded(name).contains(&folded(term)))
            .map(|(id, _)| id.clone())
            .collect();
        assert!(
            !expected.is_empty() || term == "SS",
            "{term:?} finds something"
        );
        assert_eq!(ids_of(&found), expected, "--name {term:?}");
    }

    // Stock reasons.
    for (id, name, _) in products.iter().take(names.len()) {
        let reason = format!("--reason={name}");
        let adjusted = db.json(&["stock", "adjust", id, "--change", "+1", &reason]);
        assert_eq!(adjusted["reason"], name.as_str());
        let history = db.json(&["stock", "history", id]);
        assert_eq!(history[1]["reason"], name.as_str());
        assert_eq!(history[0]["reason"], Value::Null);
    }
    // A discount on a hostile-named product leaves it as it was.
    let (id, name, _) = &products[0];
    db.json(&["discount", "set", id, "--percent", "12.5"]);
    let shown = db.json(&["product", "show", id]);
    assert_eq!(shown["name"], name.as_str());
    assert_eq!(shown["discount_percentage"], 12.5);

    // Nothing was dropped, deleted or rewritten along the way.
    let n = (names.len() + bulk.len()) as i64;
    assert_eq!(db.counts(), [n, n + names.len() as i64, 1, 0]);
    assert_eq!(
        db.query_i64("SELECT count(*) FROM stock_events WHERE version = 1"),
        n
    );
}

/// Customer ids full of SQL, shell and Unicode: each customer gets their own
/// coupon and nobody else's, and coupon codes with `_` match only
/// themselves.
fn hostile_customer_ids_and_coupon_codes_match_only_themselves(db: &TestDb) {
    let product = db.product("Priced", "100", "1");
    let users: Vec<String> = [
        "Robert');DROP/**/TABLE/**/coupons;--",
        "'OR'1'='1",
        "%_\\",
        "%",
        "_",
        "\"quoted\"",
        "NULL",
        "$(rm${IFS}-rf${IFS}/)",
        "<script>alert(1)</script>",
        "名前🦀ÇA",
        "'",
        "\\'",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(["🦀".repeat(64), "'".repeat(64)])
    .collect();
    for (i, user) in users.iter().enumerate() {
        let user_arg = format!("--user={user}");
        let percent = (i + 1).to_string();
        let code = format!("HOST_{i}");
        let created = db.json(&[
            "coupon",
            "create",
            &user_arg,
            "--percent",
            &percent,
            "--valid-to",
            "2030-01-01",
            "--code",
            &code,
        ]);
        assert_eq!(created["user_id"], user.as_str());
    }
    // 65 characters is refused, not clipped.
    let too_long = format!("--user={}", "'".repeat(65));
    db.run(&[
        "coupon",
        "create",
        &too_long,
        "--percent",
        "5",
        "--valid-to",
        "2030-01-01",
    ])
    .expect(2);

    for (i, user) in users.iter().enumerate() {
        let user_arg = format!("--user={user}");
        let shown = db.json(&["product", "show", &product, &user_arg]);
        assert_eq!(shown["coupon_code"], format!("HOST_{i}"), "{user:?}");
        assert_eq!(shown["coupon_percentage"], (i + 1) as f64, "{user:?}");
    }
    // Strangers get nothing, however they spell themselves.
    for stranger in ["'OR''='", "%%", "__", "null", "名前", "\\\\", "*"] {
        let user_arg = format!("--user={stranger}");
        let shown = db.json(&["product", "show", &product, &user_arg]);
        assert_eq!(shown["coupon_code"], Value::Null, "{stranger:?}");
    }

    // `_` in a code is a character, not a wildcard; case does not matter.
    db.json(&[
        "coupon",
        "create",
        "--user",
        "u-x",
        "--percent",
        "50",
        "--valid-to",
        "2030-01-01",
        "--code",
        "HOSTX0",
    ]);
    let gone = db.json(&["coupon", "deactivate", "host_0"]);
    assert_eq!(gone["code"], "HOST_0");
    assert_eq!(gone["is_active"], false);
    let still = db.json(&["product", "show", &product, "--user", "u-x"]);
    assert_eq!(still["coupon_code"], "HOSTX0");
    let first = format!("--user={}", users[0]);
    assert_eq!(
        db.json(&["product", "show", &product, &first])["coupon_code"],
        Value::Null
    );
    // Codes that are not codes are refused before reaching the database.
    for code in ["HOST%", "HOST_' OR '1'='1", "x'--"] {
        db.run(&["coupon", "deactivate", code]).expect(2);
    }
    let imported = db.home.path().join("coupons.csv");
    let mut csv = String::from("user,percent,valid_to,code\n");
    for (i, user) in users.iter().take(6).enumerate() {
        csv += &format!("\"{}\",5,2030-01-01,BULK_{i}\n", user.replace('"', "\"\""));
    }
    std::fs::write(&imported, csv).unwrap();
    db.run(&["import", "coupons", imported.to_str().unwrap()])
        .expect(0);
    let owners =
        db.query_strings("SELECT user_id FROM coupons WHERE code LIKE 'BULK%' ORDER BY code");
    let expected: BTreeSet<&str> = users.iter().take(6).map(String::as_str).collect();
    assert_eq!(
        owners.iter().map(String::as_str).collect::<BTreeSet<_>>(),
        expected
    );
    assert_eq!(db.counts(), [1, 1, 0, users.len() as i64 + 1 + 6]);
}

// ---------------------------------------------------------------------------
// Passwords

/// Fails if any form of the user's password is in the run's output.
fn assert_no_password(what: &str, run: &Run, secrets: &[&str]) {
    for secret in secrets {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "{what}: the password {secret:?} is in the output: {run:#?}"
        );
    }
}

/// A MySQL user with a distinctive password: neither stdout nor stderr ever
/// shows it, on success (`db status`, verbose notes), in help and usage
/// errors with the URL in the environment or on the command line, or on any
/// failing path: wrong password, unknown database, unreachable server, a
/// server gone before or in the middle of a command, a lock timeout, a
/// conflict.
fn no_output_or_error_ever_shows_the_mysql_password(db: &TestDb) {
    use mysql::prelude::Queryable;
    let admin = mysql_admin_url().unwrap();
    let server = mysql_server(&admin);
    let database = database_name(db).to_owned();
    let user = MysqlUser::create(db);
    let url = user.url(&server, &database);
    let masked = format!("mysql://{}:***@{server}/{database}", user.name);
    let wrong_marker = format!("{:016x}", rand::random::<u64>());
    let wrong = format!("Wr%40ng{wrong_marker}");
    let secrets = [
        user.marker.as_str(),
        user.password.as_str(),
        user.password_in_url.as_str(),
        wrong_marker.as_str(),
    ];
    let mut checked = 0;
    let mut check = |what: &str, run: Run, code: i32| -> Run {
        assert_no_password(what, &run, &secrets);
        checked += 1;
        assert_eq!(run.code, code, "{what}: {run:#?}");
        run
    };
    let at = |url: &str, args: &[&str]| run_against(db, url, args).0;

    // Success: migrations applied, verbose notes, status in every format.
    let run = check(
        "-v db migrate",
        at(&url, &["-v", "--json", "db", "migrate"]),
        0,
    );
    assert!(run.stderr.contains("milly: applied migrations"), "{run:?}");
    assert!(run.stderr.contains(&format!(" to {masked}")), "{run:?}");
    assert_eq!(run.json()["location"], masked.as_str());
    let run = check("db status", at(&url, &["--json", "db", "status"]), 0);
    assert_eq!(run.json()["location"], masked.as_str());
    for format in ["table", "csv", "ndjson"] {
        let run = check(
            "db status",
            at(&url, &["-v", "-o", format, "db", "status"]),
            0,
        );
        assert!(run.stdout.contains(&masked), "{run:?}");
    }
    let run = check(
        "-v product create",
        at(
            &url,
            &[
                "-v", "--json", "product", "create", "--name", "P", "--price", "1", "--stock", "5",
            ],
        ),
        0,
    );
    let id = run.json()["id"].as_str().unwrap().to_owned();
    let run = check(
        "-v stock adjust",
        at(&url, &["-v", "stock", "adjust", &id, "--change", "+1"]),
        0,
    );
    assert!(run.stderr.contains("stock adjusted in"), "{run:?}");
    for args in [
        vec!["-v", "product", "list"],
        vec!["-v", "product", "show", &id],
        vec!["-v", "stock", "history", &id],
    ] {
        check("-v read", at(&url, &args), 0);
    }

    // Help and usage errors, with the URL in the environment and as a flag.
    for args in [
        vec!["--help"],
        vec!["help"],
        vec!["product", "--help"],
        vec!["product", "create", "--help"],
        vec!["db", "status", "--help"],
        vec!["stock", "adjust", "-h"],
    ] {
        let run = check("--help", at(&url, &args), 0);
        assert!(run.stdout.contains("[env: MILLY_DATABASE_URL]"), "{run:?}");
        let mut with_flag = vec!["--database-url", url.as_str()];
        with_flag.extend(&args);
        check("--help with --database-url", at(&url, &with_flag), 0);
    }
    for args in [
        vec!["frobnicate"],
        vec!["product", "create"],
        vec!["product", "list", "--page-size", "0"],
        vec![
            "--database-url",
            url.as_str(),
            "product",
            "create",
            "--price",
            "x",
        ],
        vec![
            "--database-url",
            url.as_str(),
            "--json",
            "product",
            "create",
            "--name",
            " ",
            "--price",
            "1",
        ],
        vec![
            "--database-url",
            url.as_str(),
            "--json",
            "stock",
            "adjust",
            &id,
            "--change",
            "0",
        ],
    ] {
        check("usage error", at(&url, &args), 2);
    }
    // Refusals by the current state, with the JSON error object.
    check(
        "not found",
        at(
            &url,
            &[
                "--json",
                "product",
                "show",
                "PROD01JD5Q3Z8X4N2M7K9P6R3T1V0W",
            ],
        ),
        3,
    );
    check(
        "insufficient stock",
        at(
            &url,
            &["--json", "stock", "adjust", &id, "--change", "-100"],
        ),
        4,
    );

    // Every failing connection.
    let wrong_url = mysql_url(&user.name, Some(&wrong), &server, &database);
    let elsewhere = format!("127.0.0.1:{}", closed_port());
    let failing = [
        ("wrong password", wrong_url, "Access denied"),
        (
            "unknown database",
            user.url(&server, "milly_no_such_database"),
            "denied",
        ),
        (
            "unreachable server",
            user.url(&elsewhere, &database),
            "cannot connect",
        ),
    ];
    for (what, url, says) in &failing {
        for args in [
            vec!["-v", "--json", "product", "list"],
            vec![
                "-v", "--json", "product", "create", "--name", "X", "--price", "1",
            ],
            vec!["-v", "--json", "stock", "adjust", &id, "--change", "+1"],
            vec!["-v", "db", "status"],
        ] {
            let run = check(what, at(url, &args), 6);
            assert!(run.stderr.contains(says), "{what}: {run:?}");
        }
    }
    // Malformed URLs: invalid input, refused before connecting.
    let malformed = [
        (
            "no database in the URL",
            format!("mysql://{}:{}@{server}", user.name, user.password_in_url),
            "names no database",
        ),
        (
            "bad port",
            format!(
                "mysql://{}:{}@127.0.0.1:99999/{database}",
                user.name, user.password_in_url
            ),
            "the port is not a number",
        ),
    ];
    for (what, url, says) in &malformed {
        for args in [
            vec!["-v", "--json", "product", "list"],
            vec!["-v", "db", "status"],
        ] {
            let run = check(what, at(url, &args), 2);
            assert!(run.stderr.contains(says), "{what}: {run:?}");
        }
    }

    // The server gone before a command, and in the middle of one.
    let mut proxy = Proxy::start(&server);
    let proxied = user.url(&proxy.server(), &database);
    check("through the proxy", at(&proxied, &["db", "status"]), 0);
    proxy.stop();
    check(
        "server gone",
        at(&proxied, &["-v", "--json", "product", "list"]),
        6,
    );
    proxy.restart();
    let (mut holder, child) = create_waiting_on_the_products_lock(db, &proxied, &database);
    proxy.stop();
    let (run, _) = wait_with_limit(child, Duration::from_secs(15));
    check("server gone mid-command", run, 6);

    // Lock timeouts while the lock is still held: "locked" and "conflict".
    check(
        "lock timeout",
        at(
            &url,
            &[
                "-v",
                "--json",
                "--lock-timeout-ms",
                "1000",
                "product",
                "create",
                "--name",
                "L",
                "--price",
                "1",
            ],
        ),
        6,
    );
    holder
        .exec_drop(
            "SELECT id FROM products WHERE id = ? FOR UPDATE",
            (id.as_str(),),
        )
        .unwrap();
    check(
        "conflict",
        at(
            &url,
            &[
                "-v",
                "--json",
                "--lock-timeout-ms",
                "1000",
                "--retry-attempts",
                "1",
                "stock",
                "adjust",
                &id,
                "--change",
                "+1",
            ],
        ),
        5,
    );
    holder.query_drop("ROLLBACK").unwrap();
    println!("password checked absent from {checked} runs");
}
