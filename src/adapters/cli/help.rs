//! The command line as people read it: examples at the end of each
//! command's help, the tuning knobs only in `milly --help`, and man pages
//! generated from the same definition.

use clap::{Command, CommandFactory};

use super::args::Cli;

/// Global options that tune retries and locking. Every command accepts them,
/// but only `milly --help` lists them: in each command's help they would
/// bury the two or three options that command has.
const TUNING: &[&str] = &[
    "retry_attempts",
    "retry_base_delay_ms",
    "retry_max_delay_ms",
    "lock_timeout_ms",
];

/// Examples at the end of `milly --help`.
const ROOT_EXAMPLES: &str = "milly product create --name 'Green tea' --price 19.99 --stock 100\n\
     milly product list\n\
     milly product show PROD01J… --user 42 --at 2025-03-03 --explain";

fn examples(lines: &str) -> String {
    let indented: Vec<String> = lines.lines().map(|l| format!("  {l}")).collect();
    format!("Examples:\n{}", indented.join("\n"))
}

/// Examples shown at the end of a command's help, by command path; the
/// same commands as in the README.
const EXAMPLES: &[(&str, &str)] = &[
    (
        "product create",
        "milly product create --name 'Green tea' --price 19.99 --stock 100\n\
         milly -o json product create --name Mug --price 12 | jq -r .id",
    ),
    (
        "product list",
        "milly product list --name tea --page 2\n\
         milly product list --all -o csv > catalog.csv",
    ),
    (
        "product show",
        "milly product show PROD01J… --user 42\n\
         milly product show PROD01J… --user 42 --at 2025-03-03 --explain",
    ),
    (
        "product update",
        "milly product update PROD01J… --price 21.50\n\
         milly product update PROD01J… --name 'Green tea (100 g)' --description ''",
    ),
    ("product archive", "milly product archive PROD01J…"),
    ("product unarchive", "milly product unarchive PROD01J…"),
    (
        "product history",
        "milly product history PROD01J…\n\
         milly -o json product history PROD01J… | jq '.[] | select(.field == \"price\")'",
    ),
    (
        "stock adjust",
        "milly stock adjust PROD01J… --change +50 --reason 'delivery 1142'\n\
         milly stock adjust PROD01J… --change=-20 --expect-version 7",
    ),
    (
        "stock revert",
        "milly stock revert EVT01J… --reason 'delivery typed as 160, was 16'\n\
         milly --dry-run stock revert EVT01J…",
    ),
    (
        "stock history",
        "milly stock history PROD01J…\n\
         milly stock history --since 2025-03-01 -o ndjson",
    ),
    (
        "stock verify",
        "milly stock verify\n\
         milly stock verify PROD01J… -o json",
    ),
    (
        "discount set",
        "milly discount set PROD01J… --percent 20\n\
         milly discount set PROD01J… --percent 12.5 --from 2025-07-01 --until 2025-08-01",
    ),
    (
        "discount list",
        "milly discount list --active\n\
         milly discount list PROD01J…",
    ),
    ("discount clear", "milly discount clear PROD01J…"),
    (
        "coupon create",
        "milly coupon create --user 42 --percent 10 --valid-to 2025-12-31 --code WELCOME10",
    ),
    ("coupon deactivate", "milly coupon deactivate welcome10"),
    (
        "coupon list",
        "milly coupon list --user 42 --active\n\
         milly coupon list --user 42 --active --at 2025-03-03",
    ),
    ("coupon show", "milly coupon show welcome10"),
    (
        "import products",
        "milly import products catalog.ndjson\n\
         milly -o ndjson import products catalog.csv > created.ndjson",
    ),
    ("import coupons", "milly import coupons coupons.csv"),
    (
        "import stock",
        "milly --dry-run import stock delivery.csv && milly import stock delivery.csv",
    ),
    (
        "db migrate",
        "milly --database-url mysql://milly:secret@db:3306/shop db migrate",
    ),
    ("db status", "milly db status"),
    (
        "db prune-keys",
        "milly db prune-keys --older-than 90\n\
         milly --dry-run db prune-keys --older-than 30",
    ),
    (
        "completions",
        "milly completions bash > ~/.local/share/bash-completion/completions/milly",
    ),
    (
        "man",
        "milly man > milly.1\n\
         milly man product show | man -l -",
    ),
];

/// The command definition with help as people read it. Parsing uses it too,
/// so what help says is what is accepted.
pub fn command() -> Command {
    let mut cmd = Cli::command().after_help(examples(ROOT_EXAMPLES));
    // clap copies a global option into a subcommand only if the subcommand
    // lacks it: a hidden copy given first keeps it working there, unlisted.
    let hidden: Vec<clap::Arg> = cmd
        .get_arguments()
        .filter(|a| TUNING.contains(&a.get_id().as_str()))
        .map(|a| a.clone().hide(true))
        .collect();
    let subcommands: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    for name in subcommands {
        cmd = cmd.mut_subcommand(name, |sub| polish(sub, "", &hidden));
    }
    cmd
}

/// Hides the tuning knobs and appends the examples, here and below.
fn polish(mut cmd: Command, parent: &str, hidden: &[clap::Arg]) -> Command {
    let path = if parent.is_empty() {
        cmd.get_name().to_owned()
    } else {
        format!("{parent} {}", cmd.get_name())
    };
    cmd = cmd.args(hidden.iter().cloned());
    if let Some((_, lines)) = EXAMPLES.iter().find(|(p, _)| *p == path) {
        cmd = cmd.after_help(examples(lines));
    }
    let subcommands: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .filter(|n| n != "help")
        .collect();
    for name in subcommands {
        cmd = cmd.mut_subcommand(name, |sub| polish(sub, &path, hidden));
    }
    cmd
}

/// The man page (roff) of milly, or of the command at `path`.
pub fn man_page(path: &[String]) -> Result<String, String> {
    let mut cmd = command();
    // Built, each command knows its full name (`milly-product-show`) and
    // the global options it takes.
    cmd.build();
    for (depth, name) in path.iter().enumerate() {
        cmd = cmd
            .find_subcommand(name)
            .filter(|s| s.get_name() != "help")
            .cloned()
            .ok_or_else(|| {
                format!(
                    "no command `milly {}`; `milly --help` lists them",
                    path[..=depth].join(" ")
                )
            })?;
    }
    let mut roff = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut roff)
        .map_err(|e| e.to_string())?;
    String::from_utf8(roff).map_err(|e| e.to_string())
}

/// Every command path, groups and leaves, for the tests.
#[cfg(test)]
fn all_paths(cmd: &Command, prefix: &[String], out: &mut Vec<Vec<String>>) {
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let mut path = prefix.to_vec();
        path.push(sub.get_name().to_owned());
        out.push(path.clone());
        all_paths(sub, &path, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn built() -> Command {
        let mut cmd = command();
        cmd.build();
        cmd
    }

    fn paths() -> Vec<Vec<String>> {
        let mut out = Vec::new();
        all_paths(&built(), &[], &mut out);
        out
    }

    #[test]
    fn every_command_has_a_man_page_naming_each_of_its_options() {
        let root = man_page(&[]).unwrap();
        assert!(root.starts_with(".ie") || root.contains(".TH"), "{root}");
        let all = paths();
        assert!(all.len() > 20, "{all:?}");
        for path in all {
            let page = man_page(&path).unwrap();
            let cmd = path
                .iter()
                .fold(built(), |c, n| c.find_subcommand(n).unwrap().clone());
            assert!(
                page.contains(&format!("milly\\-{}", path.join("-").replace('-', "\\-"))),
                "{path:?}:\n{page}"
            );
            for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
                if let Some(long) = arg.get_long() {
                    assert!(
                        page.contains(&format!("\\-\\-{}", long.replace('-', "\\-"))),
                        "{path:?} lacks --{long}"
                    );
                }
            }
            if cmd.get_subcommands().next().is_none() {
                assert!(
                    EXAMPLES.iter().any(|(p, _)| *p == path.join(" ")),
                    "no examples for {path:?}"
                );
                assert!(page.contains("Examples:"), "{path:?}");
            }
        }
        assert!(man_page(&["nosuch".into()]).is_err());
    }

    #[test]
    fn tuning_knobs_are_listed_only_at_the_top() {
        let mut cmd = built();
        let top = cmd.render_help().to_string();
        assert!(top.contains("--retry-attempts"), "{top}");
        assert!(top.contains("Global options"), "{top}");
        let mut show = cmd
            .find_subcommand_mut("product")
            .unwrap()
            .find_subcommand_mut("show")
            .unwrap()
            .clone();
        let help = show.render_long_help().to_string();
        assert!(!help.contains("--retry-attempts"), "{help}");
        assert!(!help.contains("--lock-timeout-ms"), "{help}");
        assert!(help.contains("--explain"), "{help}");
        assert!(help.contains("Examples:"), "{help}");
        assert!(!help.contains("MILLY_DATABASE_URL="), "{help}");
    }

    #[test]
    fn every_example_names_a_command_that_exists() {
        let all: Vec<String> = paths().iter().map(|p| p.join(" ")).collect();
        for (path, _) in EXAMPLES {
            assert!(all.contains(&path.to_string()), "{path}");
        }
    }
}
