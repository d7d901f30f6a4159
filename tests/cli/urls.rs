//! Database URLs: a malformed one is invalid input (exit 2) naming the wrong
//! part, before any connection is tried, and never shows the password.

use crate::harness::TestDb;

fn a_malformed_mysql_url_is_exit_2_naming_the_wrong_part() {
    let db = TestDb::sqlite();
    let cases = [
        (
            "mysql://u:s3cret@127.0.0.1:99999/shop",
            "the port is not a number from 1 to 65535",
        ),
        (
            "mysql://u:s3cret@127.0.0.1:port/shop",
            "the port is not a number from 1 to 65535",
        ),
        ("mysql://u:s3cret@127.0.0.1:3306", "names no database"),
        ("mysql://u:s3cret@127.0.0.1:3306/", "names no database"),
        (
            "mysql://u:s3cret@127.0.0.1/shop?compress=1",
            "unknown option \"compress\"; the options are ssl-mode, ssl-ca, socket",
        ),
        (
            "mysql://u:s3cret@127.0.0.1/shop?sslmode=required",
            "unknown option \"sslmode\"",
        ),
        (
            "mysql://u:s3cret@127.0.0.1/shop?ssl-mode=yes",
            "ssl-mode=yes is not one of disabled, preferred, required, verify_ca, verify_identity",
        ),
        (
            "mysql://u:s3cret@127.0.0.1/shop?ssl-mode=required&ssl-mode=disabled",
            "the option ssl-mode is given twice",
        ),
        (
            "mysql://u:s3cret@127.0.0.1/shop?ssl-mode=required&ssl-ca=/ca.pem",
            "ssl-ca is only used with ssl-mode=verify_ca or verify_identity",
        ),
        ("mysql://u:s3cret@/shop", "the host is missing"),
        (
            "mariadb://u:s3cret@127.0.0.1:70000/shop",
            "the port is not a number",
        ),
    ];
    for (url, says) in cases {
        for args in [
            vec!["--json", "product", "list"],
            vec!["--json", "product", "create", "--name", "X", "--price", "1"],
            vec!["--json", "db", "status"],
        ] {
            let run = db
                .command()
                .env("MILLY_DATABASE_URL", url)
                .args(&args)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&run.stderr);
            assert_eq!(run.status.code(), Some(2), "{url}: {stderr}");
            assert!(
                stderr.starts_with("error: invalid --database-url mysql://u:***@"),
                "{url}: {stderr}"
            );
            assert!(stderr.contains(says), "{url}: {stderr}");
            assert!(
                stderr.contains("\"code\":\"invalid_input\""),
                "{url}: {stderr}"
            );
            assert!(!stderr.contains("s3cret"), "{url}: {stderr}");
            // No Rust debug text.
            assert!(
                !stderr.contains("ParseError") && !stderr.contains(" { "),
                "{url}: {stderr}"
            );
            assert!(run.stdout.is_empty(), "{url}");
        }
    }
}

/// `--help` lists every URL option.
fn help_lists_every_mysql_url_option() {
    let db = TestDb::sqlite();
    let help = db.run(&["--help"]).expect(0).stdout;
    for option in [
        "ssl-mode=disabled|preferred|required|verify_ca|verify_identity",
        "ssl-ca=PATH",
        "socket=PATH",
        "--connect-timeout-ms",
    ] {
        assert!(help.contains(option), "{option} missing from:\n{help}");
    }
}

crate::plain_tests!(
    a_malformed_mysql_url_is_exit_2_naming_the_wrong_part,
    help_lists_every_mysql_url_option
);
