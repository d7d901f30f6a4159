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
