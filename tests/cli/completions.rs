//! The committed completion scripts are what the binary generates.

use crate::harness::TestDb;
use crate::plain_tests;

plain_tests!(committed_completions_match_the_binary);

fn committed_completions_match_the_binary() {
    let db = TestDb::sqlite();
    for (shell, file) in [
        ("bash", "milly.bash"),
        ("zsh", "_milly"),
        ("fish", "milly.fish"),
        ("powershell", "_milly.ps1"),
        ("elvish", "milly.elv"),
    ] {
        let generated = db.run(&["completions", shell]).expect(0).stdout;
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("completions")
            .join(file);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            generated == committed,
            "completions/{file} is out of date: run `cargo run -q -- completions {shell} > completions/{file}`"
        );
    }
    // Generating completions needs no database.
    assert!(!db.sqlite_path().exists());
}
