//! Snapshots of what every command prints: stdout, stderr and the exit code
//! of one run, together in one snapshot, for each command's main success and
//! its main failures, on a fresh SQLite database.
//!
//! The other tests check chosen fields; these pin everything a user or a
//! script sees, so a change to parsing or rendering that was meant to keep
//! behaviour shows up as a diff here, whatever it touched. A snapshot that
//! changes on purpose is accepted by rerunning with `INSTA_UPDATE=always`
//! (or with `cargo insta review`) and committing the `.snap` files. Under
//! `CI=true` a missing or different snapshot fails and nothing is written.
//!
//! Runs are made repeatable: the clock is fixed (`MILLY_NOW`), so is the
//! actor (`MILLY_ACTOR`); ids, which are random past their time part, become
//! `PROD<1>`, `EVT<2>`… numbered in the order a scenario first met them
//! (padded to the id's length, so tables keep their columns); the test's
//! temporary folder becomes `[HOME]`, and times that only the real clock
//! gives (when a migration was applied) are masked.

use std::cell::RefCell;
use std::process::{Command, Stdio};

use crate::harness::{Run, TestDb, MILLY};
use crate::plain_tests;

plain_tests!(products, stock, discounts, coupons, imports, db, usage, help);

/// What every id starts with, before its 26 characters of ULID.
const ID_PREFIXES: [&str; 4] = ["PROD", "EVT", "DISC", "CPN"];

/// The example id milly's own messages give: fixed text, kept as is. It is
/// also a well-formed id no scenario ever creates, so it serves as the
/// unknown product.
const EXAMPLE_ULID: &str = "01JD5Q3Z8X4N2M7K9P6R3T1V0W";
const UNKNOWN_PRODUCT: &str = "PROD01JD5Q3Z8X4N2M7K9P6R3T1V0W";

/// One scenario: a fresh database, and the ids met so far.
struct Scenario {
    db: TestDb,
    ids: RefCell<Vec<String>>,
}

impl Scenario {
    fn new() -> Scenario {
        Scenario {
            db: TestDb::sqlite(),
            ids: RefCell::new(Vec::new()),
        }
    }

    /// Runs milly with `args`, checks it exited with `code`, and snapshots
    /// the run as `name`. Returns the run as printed (ids unmasked), for the
    /// next steps.
    fn snap(&self, name: &str, code: i32, args: &[&str]) -> Run {
        let mut command = self.db.command();
        command.env("MILLY_ACTOR", "tester");
        self.snap_command(name, code, args, command)
    }

    /// [`Scenario::snap`] with none of milly's variables set, as help is
    /// read (clap shows a set variable's value next to its option).
    fn snap_bare(&self, name: &str, code: i32, args: &[&str]) -> Run {
        let mut command = Command::new(MILLY);
        command
            .env_clear()
            .env("HOME", self.db.home.path())
            .stdin(Stdio::null());
        self.snap_command(name, code, args, command)
    }

    fn snap_command(&self, name: &str, code: i32, args: &[&str], mut command: Command) -> Run {
        let run = Run::from_output(command.args(args).output().unwrap());
        let shown = self.mask(&self.describe(args, &run));
        assert_eq!(run.code, code, "{name}: expected exit {code}:\n{shown}");
        settings().bind(|| insta::assert_snapshot!(name, shown));
        run
    }

    /// Runs with `-o json`, snapshots, and returns the parsed stdout.
    fn snap_json(&self, name: &str, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["-o", "json"];
        all.extend_from_slice(args);
        self.snap(name, 0, &all).json()
    }

    fn describe(&self, args: &[&str], run: &Run) -> String {
        let line: String = args.iter().map(|a| format!(" {}", quoted(a))).collect();
        format!(
            "$ milly{}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
            line, run.code, run.stdout, run.stderr
        )
    }

    /// The text with this scenario's folder and ids replaced (see the module
    /// documentation).
    fn mask(&self, text: &str) -> String {
        let home = self.db.home.path().to_str().unwrap();
        let text = text.replace(home, "[HOME]");
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        'scan: while !rest.is_empty() {
            let at_word_start = out
                .chars()
                .last()
                .is_none_or(|c| !c.is_ascii_alphanumeric());
            if at_word_start {
                for prefix in ID_PREFIXES {
                    let Some(ulid) = rest.strip_prefix(prefix) else {
                        continue;
                    };
                    let body: String = ulid.chars().take(26).collect();
                    let ends_there = ulid[body.len()..]
                        .chars()
                        .next()
                        .is_none_or(|c| !c.is_ascii_alphanumeric());
                    if body.len() == 26
                        && body
                            .chars()
                            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
                        && ends_there
                        && body != EXAMPLE_ULID
                    {
                        let id = &rest[..prefix.len() + 26];
                        out.push_str(&self.placeholder(prefix, id));
                        rest = &rest[id.len()..];
                        continue 'scan;
                    }
                }
            }
            let c = rest.chars().next().unwrap();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
        out
    }

    /// `PROD<2>.....` for the second product id met, as long as the id.
    fn placeholder(&self, prefix: &str, id: &str) -> String {
        let mut ids = self.ids.borrow_mut();
        if !ids.iter().any(|known| known == id) {
            ids.push(id.to_owned());
        }
        let number = ids
            .iter()
            .filter(|known| known.starts_with(prefix))
            .position(|known| known == id)
            .unwrap()
            + 1;
        let short = format!("{prefix}<{number}>");
        format!("{short:.<width$}", width = id.len())
    }

    /// Writes `content` to a file in the scenario's folder; returns its path.
    fn file(&self, name: &str, content: &str) -> String {
        let path = self.db.home.path().join(name);
        std::fs::write(&path, content).unwrap();
        path.to_str().unwrap().to_owned()
    }
}

/// Masks for what the real clock prints: the times migrations were applied
/// (`db status`), in JSON and in the table's one-line list.
fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.add_filter(
        r#""applied_at": "\d{4}-\d\d-\d\dT[0-9:.]+Z""#,
        r#""applied_at": "[APPLIED AT]""#,
    );
    settings.add_filter(
        r"(\d+ [a-z_]+) \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ",
        "$1 [APPLIED AT]",
    );
    // The package's version, which a release changes and nothing else does:
    // `--version`, and the manual page's title and VERSION section.
    settings.add_filter(r"milly \d+\.\d+\.\d+\S*", "milly [VERSION]");
    settings.add_filter(r#""(\S+) \d+\.\d+\.\d+\S*""#, r#""$1 [VERSION]""#);
    settings.add_filter(r"(?m)^v\d+\.\d+\.\d+\S*$", "v[VERSION]");
    settings
}

/// An argument as a shell would need it, for the snapshot's command line.
fn quoted(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/=+,@%[]<>".contains(c))
    {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

fn id_of(value: &serde_json::Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

fn products() {
    let s = Scenario::new();
    let tea = id_of(&s.snap_json(
        "product_create",
        &[
            "product",
            "create",
            "--name",
            "Green tea",
            "--price",
            "19.99",
            "--description",
            "Loose leaf, 100 g",
            "--stock",
            "100",
        ],
    ));
    s.snap(
        "product_create_table",
        0,
        &["product", "create", "--name", "Mug", "--price", "7.5"],
    );
    s.snap(
        "product_create_bad_price",
        2,
        &["product", "create", "--name", "Bad", "--price", "abc"],
    );
    s.snap(
        "product_create_negative_stock",
        2,
        &[
            "product", "create", "--name", "Bad", "--price", "1", "--stock", "-1",
        ],
    );
    s.snap(
        "product_create_without_name",
        2,
        &["product", "create", "--price", "1"],
    );

    s.snap("product_list_table", 0, &["product", "list"]);
    s.snap_json("product_list_json", &["product", "list"]);
    s.snap("product_list_csv", 0, &["-o", "csv", "product", "list"]);
    s.snap(
        "product_list_bad_page_size",
        2,
        &["product", "list", "--page-size", "0"],
    );

    s.snap("product_show_table", 0, &["product", "show", &tea]);
    s.snap_json("product_show_json", &["product", "show", &tea]);
    s.snap(
        "product_show_unknown",
        3,
        &["product", "show", UNKNOWN_PRODUCT],
    );
    s.snap("product_show_bad_id", 2, &["product", "show", "not-an-id"]);
    s.snap(
        "product_show_unknown_json",
        3,
        &["-o", "json", "product", "show", UNKNOWN_PRODUCT],
    );

    s.snap_json(
        "product_update",
        &[
            "product", "update", &tea, "--price", "17.49", "--name", "Sencha",
        ],
    );
    s.snap("product_update_nothing", 2, &["product", "update", &tea]);
    s.snap(
        "product_update_unknown",
        3,
        &["product", "update", UNKNOWN_PRODUCT, "--price", "1"],
    );

    s.snap_json("product_archive", &["product", "archive", &tea]);
    s.snap_json("product_archive_again", &["product", "archive", &tea]);
    s.snap(
        "product_update_archived",
        4,
        &["product", "update", &tea, "--price", "1"],
    );
    s.snap("product_list_after_archive_table", 0, &["product", "list"]);
    s.snap(
        "product_list_including_archived_table",
        0,
        &["product", "list", "--include-archived"],
    );
    s.snap_json("product_unarchive", &["product", "unarchive", &tea]);
    s.snap(
        "product_unarchive_unknown",
        3,
        &["product", "unarchive", UNKNOWN_PRODUCT],
    );

    s.snap("product_history_table", 0, &["product", "history", &tea]);
    s.snap_json("product_history_json", &["product", "history", &tea]);
    s.snap(
        "product_history_unknown",
        3,
        &["product", "history", UNKNOWN_PRODUCT],
    );
}

fn stock() {
    let s = Scenario::new();
    let tea = s.db.product("Green tea", "19.99", "10");
    let mug = s.db.product("Mug", "7.50", "3");
    s.snap_json(
        "stock_adjust",
        &[
            "stock", "adjust", &tea, "--change", "+5", "--reason", "delivery",
        ],
    );
    s.snap(
        "stock_adjust_table",
        0,
        &["stock", "adjust", &tea, "--change=-2"],
    );
    s.snap(
        "stock_adjust_insufficient",
        4,
        &["stock", "adjust", &mug, "--change", "-4"],
    );
    s.snap(
        "stock_adjust_bad_change",
        2,
        &["stock", "adjust", &mug, "--change", "lots"],
    );
    s.snap(
        "stock_adjust_unknown",
        3,
        &["stock", "adjust", UNKNOWN_PRODUCT, "--change", "+1"],
    );
    s.snap(
        "stock_adjust_version_mismatch",
        4,
        &[
            "stock",
            "adjust",
            &tea,
            "--change",
            "+1",
            "--expect-version",
            "1",
        ],
    );

    s.snap("stock_history_table", 0, &["stock", "history", &tea]);
    s.snap_json("stock_history_json", &["stock", "history", &tea]);
    s.snap("stock_history_all_table", 0, &["stock", "history"]);
    s.snap(
        "stock_history_unknown",
        3,
        &["stock", "history", UNKNOWN_PRODUCT],
    );

    s.snap("stock_verify_table", 0, &["stock", "verify"]);
    s.snap_json("stock_verify_json", &["stock", "verify"]);
    s.db.execute(&format!(
        "PRAGMA ignore_check_constraints = ON; DROP TRIGGER stock_events_no_update; \
         UPDATE stock_events SET total_after_change = 99 WHERE product_id = '{mug}' AND version = 1"
    ));
    s.snap(
        "stock_verify_inconsistent",
        4,
        &["-o", "json", "stock", "verify"],
    );
    s.snap("stock_verify_inconsistent_table", 4, &["stock", "verify"]);
    // Corrections, on products of their own so that the snapshots above
    // stay as they were.
    let lamp = s.db.product("Lamp", "12.00", "3");
    let delivery = s.snap_json(
        "stock_adjust_mistyped",
        &["stock", "adjust", &lamp, "--change", "+160"],
    )["event_id"]
        .as_str()
        .unwrap()
        .to_owned();
    s.snap_json(
        "stock_revert",
        &[
            "stock",
            "revert",
            &delivery,
            "--reason",
            "typed 160, was 16",
        ],
    );
    s.snap("stock_revert_twice", 4, &["stock", "revert", &delivery]);
    let kettle = s.db.product("Kettle", "30.00", "0");
    let event = |name: &str, change: &str| {
        s.snap_json(name, &["stock", "adjust", &kettle, "--change", change])["event_id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let delivered = event("stock_adjust_delivery", "+5");
    let sold = event("stock_adjust_sale", "-5");
    // Undoing the delivery after it was sold would go below zero; undoing
    // the sale puts the kettles back.
    s.snap(
        "stock_revert_below_zero",
        4,
        &["stock", "revert", &delivered],
    );
    s.snap("stock_revert_table", 0, &["stock", "revert", &sold]);
    s.snap(
        "stock_revert_unknown",
        3,
        &["stock", "revert", "EVT01JD5Q3Z8X4N2M7K9P6R3T1V0W"],
    );
    s.snap(
        "stock_revert_bad_id",
        2,
        &["stock", "revert", "PROD01JD5Q3Z8X4N2M7K9P6R3T1V0W"],
    );
    s.snap(
        "stock_history_tail_until",
        0,
        &[
            "stock",
            "history",
            &kettle,
            "--tail",
            "2",
            "--until",
            "2100-01-01",
        ],
    );
}

fn discounts() {
    let s = Scenario::new();
    let tea = s.db.product("Green tea", "20.00", "10");
    s.db.product("Mug", "7.50", "3");
    s.snap_json(
        "discount_set",
        &[
            "discount",
            "set",
            &tea,
            "--percent",
            "10",
            "--until",
            "2025-07-01",
        ],
    );
    s.snap(
        "discount_set_bad_percent",
        2,
        &["discount", "set", &tea, "--percent", "150"],
    );
    s.snap(
        "discount_set_unknown",
        3,
        &["discount", "set", UNKNOWN_PRODUCT, "--percent", "5"],
    );
    // A window already over changes nothing but the record of the past:
    // refused, quoting the end as typed.
    s.snap(
        "discount_set_window_already_over",
        2,
        &[
            "discount",
            "set",
            &tea,
            "--percent",
            "5",
            "--from",
            "2025-01-01",
            "--until",
            "2025-02-01",
        ],
    );
    s.snap_json(
        "discount_replace",
        &["discount", "set", &tea, "--percent", "25"],
    );
    s.snap("discount_list_table", 0, &["discount", "list"]);
    s.snap_json("discount_list_json", &["discount", "list"]);
    s.snap_json("product_show_discounted", &["product", "show", &tea]);
    s.snap_json("discount_clear", &["discount", "clear", &tea]);
    s.snap_json(
        "discount_clear_nothing_active",
        &["discount", "clear", &tea],
    );
    s.snap(
        "discount_clear_unknown",
        3,
        &["discount", "clear", UNKNOWN_PRODUCT],
    );
}

fn coupons() {
    let s = Scenario::new();
    let tea = s.db.product("Green tea", "20.00", "10");
    s.snap_json(
        "coupon_create",
        &[
            "coupon",
            "create",
            "--user",
            "42",
            "--percent",
            "15",
            "--valid-to",
            "2025-12-31",
            "--code",
            "SUMMER15",
        ],
    );
    s.snap(
        "coupon_create_table",
        0,
        &[
            "coupon",
            "create",
            "--user",
            "7",
            "--percent",
            "5",
            "--valid-from",
            "2025-05-01",
            "--valid-to",
            "2025-09-01",
            "--code",
            "WELCOME5",
        ],
    );
    s.snap(
        "coupon_create_duplicate_code",
        4,
        &[
            "coupon",
            "create",
            "--user",
            "9",
            "--percent",
            "20",
            "--valid-to",
            "2025-12-31",
            "--code",
            "summer15",
        ],
    );
    s.snap(
        "coupon_create_bad_percent",
        2,
        &[
            "coupon",
            "create",
            "--user",
            "9",
            "--percent",
            "0",
            "--valid-to",
            "2025-12-31",
        ],
    );
    s.snap(
        "coupon_create_already_expired",
        2,
        &[
            "coupon",
            "create",
            "--user",
            "9",
            "--percent",
            "10",
            "--valid-to",
            "2025-01-01",
        ],
    );
    s.snap("coupon_list_table", 0, &["coupon", "list"]);
    s.snap_json("coupon_list_json", &["coupon", "list"]);
    s.snap_json("coupon_show", &["coupon", "show", "SUMMER15"]);
    s.snap("coupon_show_table", 0, &["coupon", "show", "summer15"]);
    s.snap("coupon_show_unknown", 3, &["coupon", "show", "NOSUCH1"]);
    s.snap_json(
        "product_show_with_coupon",
        &["product", "show", &tea, "--user", "42"],
    );
    s.snap_json("coupon_deactivate", &["coupon", "deactivate", "SUMMER15"]);
    s.snap_json(
        "coupon_deactivate_again",
        &["coupon", "deactivate", "SUMMER15"],
    );
    s.snap(
        "coupon_deactivate_unknown",
        3,
        &["coupon", "deactivate", "NOSUCH1"],
    );
}

fn imports() {
    let s = Scenario::new();
    let products = s.file(
        "products.ndjson",
        concat!(
            r#"{"name": "Green tea", "price": "19.99", "stock": 10, "stock_changes": [5, -2]}"#,
            "\n",
            r#"{"name": "Mug", "price": 7.5, "description": "Stoneware", "discount_percent": "10"}"#,
            "\n",
        ),
    );
    let imported = s.snap_json("import_products", &["import", "products", &products]);
    let csv = s.file(
        "products.csv",
        "name,price,stock,stock_changes\nTeapot,35.00,4,+5;-2\n",
    );
    s.snap(
        "import_products_csv_table",
        0,
        &["import", "products", "--format", "csv", &csv],
    );
    let bad = s.file(
        "bad.ndjson",
        concat!(
            r#"{"name": "Fine", "price": "1.00"}"#,
            "\n",
            r#"{"name": "Broken", "price": "free"}"#,
            "\n",
        ),
    );
    s.snap("import_products_bad_row", 2, &["import", "products", &bad]);
    // No rows: a failed download, refused unless `--allow-empty`.
    let empty = s.file("empty.ndjson", "");
    s.snap("import_products_empty", 2, &["import", "products", &empty]);
    s.snap(
        "import_products_empty_allowed",
        0,
        &["import", "products", "--allow-empty", &empty],
    );

    s.snap_json("product_list_after_import", &["product", "list"]);
    let ids: Vec<String> =
        s.db.json(&["product", "list"])
            .as_array()
            .unwrap()
            .iter()
            .map(id_of)
            .collect();
    assert_eq!(ids.len(), 3, "{imported}");
    let (tea, mug) = (&ids[0], &ids[1]);
    let stock = s.file(
        "stock.csv",
        &format!(
            "product_id,change,reason\n{tea},+50,delivery\n{mug},+2,found in the back\n{tea},-3,\n"
        ),
    );
    s.snap_json(
        "import_stock",
        &["import", "stock", "--format", "csv", &stock],
    );
    let short = s.file(
        "short.csv",
        &format!("product_id,change,reason\n{mug},+1,\n{mug},-100,too many\n"),
    );
    s.snap(
        "import_stock_insufficient",
        4,
        &["import", "stock", "--format", "csv", &short],
    );
    let unknown = s.file(
        "unknown.csv",
        &format!("product_id,change,reason\n{UNKNOWN_PRODUCT},+1,\n"),
    );
    s.snap(
        "import_stock_unknown_product",
        3,
        &["import", "stock", "--format", "csv", &unknown],
    );

    let coupons = s.file(
        "coupons.ndjson",
        concat!(
            r#"{"user": "42", "percent": "10", "valid_to": "2025-12-31", "code": "TEN42"}"#,
            "\n",
            r#"{"user": "43", "percent": 20, "valid_from": "2025-06-01", "valid_to": "2025-08-01", "code": "TWENTY43"}"#,
            "\n",
        ),
    );
    s.snap_json("import_coupons", &["import", "coupons", &coupons]);
    let again = s.file(
        "again.ndjson",
        concat!(
            r#"{"user": "44", "percent": "10", "valid_to": "2025-12-31", "code": "ten42"}"#,
            "\n",
        ),
    );
    s.snap(
        "import_coupons_duplicate_code",
        4,
        &["import", "coupons", &again],
    );
}

fn db() {
    let s = Scenario::new();
    s.snap_json("db_migrate", &["db", "migrate"]);
    s.snap("db_migrate_nothing_pending_table", 0, &["db", "migrate"]);
    s.db.product("Green tea", "19.99", "10");
    s.snap_json("db_status", &["db", "status"]);
    s.snap("db_status_table", 0, &["db", "status"]);
    s.snap_json("db_prune_keys", &["db", "prune-keys", "--older-than", "30"]);
    let missing = format!("sqlite:{}/nothing-here.db", s.db.home.path().display());
    s.snap(
        "read_of_a_missing_database",
        6,
        &["--database-url", &missing, "product", "list"],
    );
    s.snap(
        "db_status_bad_url",
        2,
        &["--database-url", "postgres://somewhere/db", "db", "status"],
    );
    s.db.execute("PRAGMA user_version = 999");
    s.snap("db_status_schema_too_new_table", 0, &["db", "status"]);
    s.snap("product_list_schema_too_new", 6, &["product", "list"]);
}

fn usage() {
    let s = Scenario::new();
    s.snap("no_command", 2, &[]);
    s.snap("unknown_command", 2, &["products"]);
    s.snap("version", 0, &["--version"]);
    s.snap(
        "json_and_output_together",
        2,
        &["--json", "-o", "csv", "product", "list"],
    );
}

/// Every command's help, and the manual page of one: what parsing accepts
/// and how it is described, pinned for changes to the argument parser.
fn help() {
    let s = Scenario::new();
    s.snap_bare("help", 0, &["--help"]);
    for (group, commands) in [
        (
            "product",
            &[
                "create",
                "list",
                "show",
                "update",
                "archive",
                "unarchive",
                "history",
            ][..],
        ),
        ("stock", &["adjust", "history", "verify"][..]),
        ("discount", &["set", "list", "clear"][..]),
        ("coupon", &["create", "deactivate", "list", "show"][..]),
        ("import", &["products", "coupons", "stock"][..]),
        ("db", &["migrate", "status", "prune-keys"][..]),
    ] {
        s.snap_bare(&format!("help_{group}"), 0, &[group, "--help"]);
        for command in commands {
            let name = format!("help_{group}_{}", command.replace('-', "_"));
            s.snap_bare(&name, 0, &[group, command, "--help"]);
        }
    }
    s.snap_bare("help_short_product_create", 0, &["product", "create", "-h"]);
    s.snap_bare("help_completions", 0, &["completions", "--help"]);
    s.snap_bare("help_man", 0, &["man", "--help"]);
    s.snap_bare("man_product_create", 0, &["man", "product", "create"]);
    s.snap_bare("man_unknown_command", 2, &["man", "nosuch"]);
    s.snap_bare("completions_unknown_shell", 2, &["completions", "nosh"]);
}
