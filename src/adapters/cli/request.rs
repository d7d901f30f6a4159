//! A write command as a request: its fingerprint under an idempotency key,
//! and what to tell the operator when its outcome is unknown.

use std::io::Write;

use clap::ArgMatches;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::args::Command;
use super::coupon::CouponCommand;
use super::discount::DiscountCommand;
use super::error::Failure;
use super::import::{ImportCommand, InputFormat};
use super::product::ProductCommand;
use super::stock::StockCommand;
use crate::app::AppError;
use crate::domain::Moment;

/// What a request is known by under an idempotency key.
pub struct Fingerprints {
    /// Recorded with a new key.
    pub current: String,
    /// What the first request format made of the same request: a key it
    /// recorded replays.
    pub earlier: Vec<String>,
}

/// Digests of everything that makes the request what it is: the command and
/// its resolved values (not the global options, which change how it runs or
/// prints, not what it does), and an import's input. Standard input is kept
/// to be read again. `given` is what clap matched, from which the first
/// format's digest is computed.
pub fn fingerprints(command: &mut Command, given: &ArgMatches) -> Result<Fingerprints, AppError> {
    let mut current = Sha256::new();
    current.update(b"milly request 2\n");
    current.update(request(command).to_string().as_bytes());
    let mut earlier = format_1(command, given).map(|text| {
        let mut digest = Sha256::new();
        digest.update(b"milly request 1\n");
        digest.update(text.as_bytes());
        digest
    });
    if let Command::Import(import) = command {
        current.update(b"\ninput\n");
        if let Some(digest) = &mut earlier {
            digest.update(b"\ninput\n");
        }
        import.digest_input(&mut Both(&mut current, earlier.as_mut()))?;
    }
    Ok(Fingerprints {
        current: hex(current),
        earlier: earlier.into_iter().map(hex).collect(),
    })
}

fn hex(digest: Sha256) -> String {
    digest
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One input fed to both digests.
struct Both<'a>(&'a mut Sha256, Option<&'a mut Sha256>);

impl Write for Both<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        if let Some(other) = &mut self.1 {
            other.update(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Request format 2: the command and its values as the domain resolved
/// them, under names fixed here rather than taken from the code, as one JSON
/// object with its keys in sorted order. Two spellings of one value (`17.5`
/// and `17.50`, an id in lower case) are one request; a value left out is
/// `null`, not the default it would take when run.
fn request(command: &Command) -> Value {
    let time = |at: &Option<Moment>| at.as_ref().map(Moment::request_text);
    match command {
        Command::Product(ProductCommand::Create(a)) => json!({
            "command": "product create",
            "name": a.name.as_str(),
            "price_cents": a.price.cents(),
            "description": a.description.as_str(),
            "stock": a.stock.value(),
        }),
        Command::Product(ProductCommand::Update(a)) => json!({
            "command": "product update",
            "product_id": a.product_id.as_str(),
            "name": a.name.as_ref().map(|n| n.as_str()),
            "description": a.description.as_ref().map(|d| d.as_str()),
            "price_cents": a.price.map(|p| p.cents()),
        }),
        Command::Product(ProductCommand::Archive(a)) => json!({
            "command": "product archive",
            "product_id": a.product_id.as_str(),
        }),
        Command::Product(ProductCommand::Unarchive(a)) => json!({
            "command": "product unarchive",
            "product_id": a.product_id.as_str(),
        }),
        Command::Stock(StockCommand::Adjust(a)) => json!({
            "command": "stock adjust",
            "product_id": a.product_id.as_str(),
            "change": a.change.value(),
            "reason": a.reason.as_ref().map(|r| r.as_str()),
            "expect_version": a.expect_version,
        }),
        Command::Stock(StockCommand::Revert(a)) => json!({
            "command": "stock revert",
            "event_id": a.event_id.as_str(),
            "reason": a.reason.as_ref().map(|r| r.as_str()),
        }),
        Command::Discount(DiscountCommand::Set(a)) => json!({
            "command": "discount set",
            "product_id": a.product_id.as_str(),
            "percent_basis_points": a.percent.basis_points(),
            "from": time(&a.from),
            "until": time(&a.until),
        }),
        Command::Discount(DiscountCommand::Clear(a)) => json!({
            "command": "discount clear",
            "product_id": a.product_id.as_str(),
        }),
        Command::Coupon(CouponCommand::Create(a)) => json!({
            "command": "coupon create",
            "user": a.user.as_str(),
            "percent_basis_points": a.percent.basis_points(),
            "valid_to": a.valid_to.request_text(),
            "valid_from": time(&a.valid_from),
            "code": a.code.as_ref().map(|c| c.as_str()),
        }),
        Command::Coupon(CouponCommand::Deactivate(a)) => json!({
            "command": "coupon deactivate",
            "code": a.code.as_str(),
        }),
        Command::Import(import) => {
            let (what, args) = import.parts();
            json!({
                "command": format!("import {what}"),
                "file": args.file.to_string_lossy(),
                "format": args.format.map(|f| match f {
                    InputFormat::Csv => "csv",
                    InputFormat::Ndjson => "ndjson",
                }),
            })
        }
        Command::Product(_)
        | Command::Stock(_)
        | Command::Discount(_)
        | Command::Coupon(_)
        | Command::Db(_)
        | Command::Completions { .. }
        | Command::Man { .. } => unreachable!("only writes are keyed"),
    }
}

/// Request format 1, kept for the keys it recorded: the text of the
/// derived `Debug` of the arguments as they were declared then (every value
/// as typed, in a struct and field named as then), rebuilt from what clap
/// matched. `None` for a command format 1 never recorded.
fn format_1(command: &Command, given: &ArgMatches) -> Option<String> {
    use Old::{Given, Maybe, Text};
    let (path, shape, fields): ([&str; 2], &str, Vec<(&str, Old)>) = match command {
        Command::Product(ProductCommand::Create(_)) => (
            ["Product", "Create"],
            "CreateArgs",
            vec![
                ("name", Text),
                ("price", Text),
                ("description", Text),
                ("stock", Text),
            ],
        ),
        Command::Product(ProductCommand::Update(_)) => (
            ["Product", "Update"],
            "UpdateArgs",
            vec![
                ("product_id", Text),
                ("name", Maybe),
                ("description", Maybe),
                ("price", Maybe),
            ],
        ),
        Command::Product(ProductCommand::Archive(_)) => (
            ["Product", "Archive"],
            "ArchiveArgs",
            vec![("product_id", Text)],
        ),
        Command::Product(ProductCommand::Unarchive(_)) => (
            ["Product", "Unarchive"],
            "ArchiveArgs",
            vec![("product_id", Text)],
        ),
        Command::Stock(StockCommand::Adjust(a)) => (
            ["Stock", "Adjust"],
            "AdjustArgs",
            vec![
                ("product_id", Text),
                ("change", Text),
                ("reason", Maybe),
                ("expect_version", Given(format!("{:?}", a.expect_version))),
            ],
        ),
        Command::Discount(DiscountCommand::Set(_)) => (
            ["Discount", "Set"],
            "SetArgs",
            vec![
                ("product_id", Text),
                ("percent", Text),
                ("from", Maybe),
                ("until", Maybe),
            ],
        ),
        Command::Discount(DiscountCommand::Clear(_)) => (
            ["Discount", "Clear"],
            "ClearArgs",
            vec![("product_id", Text)],
        ),
        Command::Coupon(CouponCommand::Create(_)) => (
            ["Coupon", "Create"],
            "CreateArgs",
            vec![
                ("user", Text),
                ("percent", Text),
                ("valid_to", Text),
                ("valid_from", Maybe),
                ("code", Maybe),
            ],
        ),
        Command::Coupon(CouponCommand::Deactivate(_)) => (
            ["Coupon", "Deactivate"],
            "DeactivateArgs",
            vec![("code", Text)],
        ),
        Command::Import(import) => {
            let (_, args) = import.parts();
            let kind = match import {
                ImportCommand::Products(_) => "Products",
                ImportCommand::Coupons(_) => "Coupons",
                ImportCommand::Stock(_) => "Stock",
            };
            let format = match args.format {
                None => "None",
                Some(InputFormat::Csv) => "Some(Csv)",
                Some(InputFormat::Ndjson) => "Some(Ndjson)",
            };
            (
                ["Import", kind],
                "ImportArgs",
                vec![
                    // A `PathBuf` then and now.
                    ("file", Given(format!("{:?}", args.file))),
                    ("format", Given(format.into())),
                    ("spooled", Given("None".into())),
                ],
            )
        }
        _ => return None,
    };
    let leaf = given
        .subcommand_matches(&path[0].to_lowercase())?
        .subcommand_matches(&path[1].to_lowercase())?;
    let mut shown = Vec::with_capacity(fields.len());
    for (name, old) in fields {
        let value = match old {
            Text => format!("{:?}", typed(leaf, name)??),
            Maybe => format!("{:?}", typed(leaf, name)?),
            Given(text) => text,
        };
        shown.push(format!("{name}: {value}"));
    }
    Some(format!(
        "{}({}({shape} {{ {} }}))",
        path[0],
        path[1],
        shown.join(", ")
    ))
}

/// How format 1 showed a field.
enum Old {
    /// A required text argument, as typed.
    Text,
    /// An optional text argument, as typed.
    Maybe,
    /// Shown from the parsed value.
    Given(String),
}

/// The text typed for argument `id` (or its default), if it was given;
/// `None` if there is no such argument.
fn typed<'m>(matches: &'m ArgMatches, id: &str) -> Option<Option<&'m str>> {
    match matches.try_get_raw(id) {
        Ok(Some(mut values)) => Some(values.next().and_then(|v| v.to_str())),
        Ok(None) => Some(None),
        Err(_) => None,
    }
}

/// The failure of a write command; a lost connection after the write was
/// sent says how to find out whether it was applied, and how to rerun safely.
pub fn explain(e: AppError, command: &Command, keyed: bool) -> Failure {
    let AppError::OutcomeUnknown(message) = &e else {
        return e.into();
    };
    let check = match command {
        Command::Product(c) => c.how_to_check(),
        Command::Stock(c) => c.how_to_check(),
        Command::Discount(c) => c.how_to_check(),
        Command::Coupon(c) => c.how_to_check(),
        Command::Import(c) => c.how_to_check(),
        Command::Db(_) | Command::Completions { .. } | Command::Man { .. } => {
            "run `milly db status`".into()
        }
    };
    let rerun = if keyed {
        "rerunning it with the same --idempotency-key is safe: it applies the change only if it was not applied"
    } else {
        "a rerun with --idempotency-key KEY is always safe, so give scripts' writes a key"
    };
    let mut failure = Failure::from(AppError::OutcomeUnknown(String::new()));
    failure.message = format!("{message}: {check}; {rerun}");
    failure
}

#[cfg(test)]
pub(super) mod tests {
    use clap::{CommandFactory, FromArgMatches};

    use super::*;
    use crate::adapters::cli::args::Cli;

    /// Fingerprints computed by release 0.1.0 (`milly request 1`, the
    /// derived `Debug` of its arguments) for every kind of write command,
    /// with and without its optional arguments: keys recorded under them
    /// must still replay.
    pub(in crate::adapters::cli) const RELEASE_0_1_0: &[(&[&str], &str)] = &[
        (
            &["product", "create", "--name", "Mug", "--price", "12"],
            "2aa532b89aedbb45d373143cdcaeb48b6abffcd25ce069605185d2d51253ef6d",
        ),
        (
            &[
                "product",
                "create",
                "--name",
                "  Green \"tea\"\t",
                "--price",
                "17.5",
                "--description",
                "Loose leaf,\nfrom Japan ü",
                "--stock",
                "0100",
            ],
            "4547741f1849a84e15df14fa894ef1169d6044e099de103c8f078832a9b62154",
        ),
        (
            &[
                "product",
                "update",
                "prod01jd5q3z8x4n2m7k9p6r3t1v0w",
                "--price",
                "21.50",
            ],
            "3ae2a6ee1f4008893825545540603e13c6cf94b60a01e7b9fd1a7e51bc336433",
        ),
        (
            &[
                "product",
                "update",
                "PROD01JD5Q3Z8X4N2M7K9P6R3T1V0W",
                "--name",
                "Green tea (100 g)",
                "--description",
                "",
            ],
            "069243f4445a4f5291343e88ebc93329aee7788fab2bde9679d21e8bafa182bb",
        ),
        (
            &["product", "archive", "PROD01JD5Q3Z8X4N2M7K9P6R3T1V0W"],
            "d187ea51125ee123f4410b0fde93aabd2068dcef45ae06115886722b7731dc50",
        ),
        (
            &["product", "unarchive", "PROD01JD5Q3Z8X4N2M7K9P6R3T1V0W"],
            "5d8da05f326077589991b08db0eefdde173dda73c56ec0e0fc5201da8085e9c3",
        ),
        (
            &[
                "stock",
                "adjust",
                "PROD01JD5Q3Z8X4N2M7K9P6R3T1V0W",
                "--change",
                "+50",
            ],
            "1480bb4f87d7317c70b9fe080fda8d45ae6579343ac818f12f79aedd3b27916f",
        ),
        (
            &[
                "stock",
                "adjust",
                "PROD01JD5Q3Z8X4N2M7K9P6R3T1V0W",
                "--change=-20",
                "--reason",
                "delivery 1142",
                "--expect-version",
                "7",
            ],
            "9cd570b105215a1caa83ca7e6e18b109dee15a128a2da436b64ff55901987a15",
        ),
        (
            &[
                "discount",
                "set",
                "PROD01JD5Q3Z8X4N2M7K9P6R3T1V0W",
                "--percent",
                "20",
            ],
            "0975ec7f9318696aba55f52ba61d09e3067db92645a4955ef0e4dc6142d97b91",
        ),
        (
            &[
                "discount",
                "set",
                "PROD01JD5Q3Z8X4N2M7K9P6R3T1V0W",
                "--percent",
                "12.50",
                "--from",
                "2025-07-01",
                "--until",
                "2025-08-01T00:00:00+02:00",
            ],
            "08ceb544e41be51543f3bcec0e71d2519a2357888c4dedd6ce61475e4db16b1d",
        ),
        (
            &["discount", "clear", "PROD01JD5Q3Z8X4N2M7K9P6R3T1V0W"],
            "db44209c71460eb7e01ca7dbf0ecbffea621ae20266c80ba0b6c49dec9bc85b7",
        ),
        (
            &[
                "coupon",
                "create",
                "--user",
                "42",
                "--percent",
                "5",
                "--valid-to",
                "2026-01-01",
            ],
            "bce6fd2cb7ac5240dff7ef54403c59c3f657a209b762a30eb33ac486cd5aa557",
        ),
        (
            &[
                "coupon",
                "create",
                "--user",
                "customer-7",
                "--percent",
                "10",
                "--valid-to",
                "2030-01-01",
                "--valid-from",
                "2025-06-01T12:00:00.5Z",
                "--code",
                "welcome",
            ],
            "d94cc7d90ca14b0de80224aa728a92a594bc8e8baad6d36fbf407e719c02cc71",
        ),
        (
            &["coupon", "deactivate", "WELCOME"],
            "26d58deca72936fd6618bd7314121426940116bf386d4d0ac94fd8ccae63e523",
        ),
        (
            &["import", "products", "tests/fixtures/requests/products.csv"],
            "c10f0aced6a00cce3192f1b46699686bee0636d64eb762372fc84fda8545129e",
        ),
        (
            &[
                "import",
                "coupons",
                "tests/fixtures/requests/coupons.ndjson",
                "--format",
                "ndjson",
            ],
            "cc1556744b730ff14286f5a9024f29af249fc219231243bab4ca415d9deca2f7",
        ),
        (
            &[
                "import",
                "stock",
                "--format",
                "csv",
                "tests/fixtures/requests/stock.csv",
            ],
            "5541bcb39d0b0ed036e4f73a92acc55c8b871a70b46371658591cf085b78861f",
        ),
    ];

    fn parse(args: &[&str]) -> (Command, ArgMatches) {
        let given = Cli::command()
            .try_get_matches_from(std::iter::once(&"milly").chain(args.iter()))
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        let cli = Cli::from_arg_matches(&given).unwrap();
        (cli.command, given)
    }

    #[test]
    fn keys_recorded_by_release_0_1_0_still_match() {
        for (args, recorded) in RELEASE_0_1_0 {
            let (mut command, given) = parse(args);
            let fingerprints = fingerprints(&mut command, &given).unwrap();
            assert_eq!(fingerprints.earlier, [*recorded], "{args:?}");
            assert_ne!(fingerprints.current, *recorded, "{args:?}");
        }
    }

    #[test]
    fn format_2_is_the_resolved_request() {
        let current = |args: &[&str]| {
            let (mut command, given) = parse(args);
            fingerprints(&mut command, &given).unwrap().current
        };
        let id = "PROD01JD5Q3Z8X4N2M7K9P6R3T1V0W";
        let price = |p: &str| current(&["product", "update", id, "--price", p]);
        assert_eq!(price("17.5"), price("17.50"));
        assert_eq!(
            price("17.5"),
            current(&["product", "update", &id.to_lowercase(), "--price", "17.5"])
        );
        assert_ne!(price("17.5"), price("17.05"));
        let stock = |args: &[&str]| current(&[&["stock", "adjust", id][..], args].concat());
        assert_eq!(stock(&["--change", "+5"]), stock(&["--change", "5"]));
        assert_ne!(stock(&["--change", "+5"]), stock(&["--change", "-5"]));
        assert_ne!(
            stock(&["--change", "+5"]),
            stock(&["--change", "+5", "--expect-version", "1"])
        );
        let event = "EVT01JD5Q3Z8X4N2M7K9P6R3T1V0W";
        let revert = |args: &[&str]| current(&[&["stock", "revert"][..], args].concat());
        assert_eq!(revert(&[event]), revert(&[&event.to_lowercase()]));
        assert_ne!(revert(&[event]), revert(&[event, "--reason", "typo"]));
        assert_ne!(revert(&[event]), revert(&["EVT01JD5Q3Z8X4N2M7K9P6R3T1V0X"]));
        // A command newer than format 1 has no earlier fingerprint.
        let (mut command, given) = parse(&["stock", "revert", event]);
        assert!(fingerprints(&mut command, &given)
            .unwrap()
            .earlier
            .is_empty());
        let csv = |args: &[&str]| {
            current(
                &[
                    &["import", "products", "tests/fixtures/requests/products.csv"][..],
                    args,
                ]
                .concat(),
            )
        };
        assert_ne!(csv(&[]), csv(&["--format", "csv"]));
        assert_ne!(
            csv(&[]),
            current(&["import", "coupons", "tests/fixtures/requests/products.csv"])
        );
        assert_ne!(
            csv(&[]),
            current(&["import", "products", "tests/fixtures/requests/stock.csv"])
        );
    }

    #[test]
    fn format_2_is_an_explicit_object() {
        let (command, _) = parse(&[
            "discount",
            "set",
            "prod01jd5q3z8x4n2m7k9p6r3t1v0w",
            "--percent",
            "12.5",
            "--from",
            "2025-07-01T02:00:00+02:00",
        ]);
        assert_eq!(
            request(&command).to_string(),
            r#"{"command":"discount set","from":"2025-07-01T00:00:00.000000Z","percent_basis_points":1250,"product_id":"PROD01JD5Q3Z8X4N2M7K9P6R3T1V0W","until":null}"#
        );
    }
}
