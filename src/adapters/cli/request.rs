//! A write command as a request: its fingerprint under an idempotency key,
//! and what to tell the operator when its outcome is unknown.

use sha2::{Digest, Sha256};

use super::args::Command;
use super::error::Failure;
use crate::app::AppError;

/// A digest of everything that makes the request what it is: the command and
/// its arguments (not the global options, which change how it runs or prints,
/// not what it does), and an import's input. Standard input is kept to be
/// read again.
pub fn fingerprint(command: &mut Command) -> Result<String, AppError> {
    let mut digest = Sha256::new();
    digest.update(b"milly request 1\n");
    digest.update(format!("{command:?}").as_bytes());
    if let Command::Import(import) = command {
        digest.update(b"\ninput\n");
        import.digest_input(&mut digest)?;
    }
    Ok(digest
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
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
mod tests {
    use clap::Parser;

    use super::*;
    use crate::adapters::cli::args::Cli;

    /// Fingerprints computed by release 0.1.0 (`milly request 1`, the
    /// derived `Debug` of its arguments) for every kind of write command,
    /// with and without its optional arguments: keys recorded under them
    /// must still replay.
    const RELEASE_0_1_0: &[(&[&str], &str)] = &[
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

    #[test]
    fn keys_recorded_by_release_0_1_0_still_match() {
        for (args, recorded) in RELEASE_0_1_0 {
            let cli = Cli::try_parse_from(std::iter::once(&"milly").chain(args.iter()))
                .unwrap_or_else(|e| panic!("{args:?}: {e}"));
            let mut command = cli.command;
            let fp = fingerprint(&mut command).unwrap();
            assert_eq!(fp, *recorded, "{args:?}");
        }
    }
}
