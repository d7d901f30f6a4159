//! Arguments become domain values while clap parses them, so a command
//! receives only values the domain accepts, and a refusal names the argument
//! as it is spelt on the command line.

use std::ffi::OsStr;

use clap::builder::{TypedValueParser, ValueParser};
use clap::error::ErrorKind;
use clap::{Arg, Command};

use crate::domain::{DomainError, Moment};

/// A value parser from a domain parse function. The domain function is told
/// no name: the refusal is named after the argument it came from (`--price`,
/// `PRODUCT_ID`), which is what the user typed.
#[derive(Clone, Copy)]
pub struct Domain<T>(fn(&'static str, &str) -> Result<T, DomainError>);

pub fn domain<T>(parse: fn(&'static str, &str) -> Result<T, DomainError>) -> Domain<T> {
    Domain(parse)
}

impl<T: Clone + Send + Sync + 'static> TypedValueParser for Domain<T> {
    type Value = T;

    fn parse_ref(&self, cmd: &Command, arg: Option<&Arg>, value: &OsStr) -> Result<T, clap::Error> {
        let parse = self.0;
        let name = arg.map_or_else(|| "value".to_owned(), name_of);
        // clap's own parser for text refuses text that is not UTF-8, as it
        // did before the value reached milly, and keeps the domain's error
        // as the source, where `refusal` finds it.
        let text = move |raw: &str| parse("value", raw).map_err(|e| e.named(name.clone()));
        text.parse_ref(cmd, arg, value)
    }
}

/// How an argument is named in messages: `--flag`, or a positional's
/// value name (`PRODUCT_ID`).
fn name_of(arg: &Arg) -> String {
    if let Some(long) = arg.get_long() {
        return format!("--{long}");
    }
    arg.get_value_names()
        .and_then(|names| names.first())
        .map_or_else(|| arg.get_id().as_str().to_uppercase(), |n| n.to_string())
}

/// The domain's refusal inside a clap error, if that is what it is: it is
/// reported as every other invalid value is, not in clap's words.
pub fn refusal(e: &clap::Error) -> Option<&DomainError> {
    if e.kind() != ErrorKind::ValueValidation {
        return None;
    }
    std::error::Error::source(e)?.downcast_ref::<DomainError>()
}

/// A copy of the definition that takes every value as given, but for
/// `--output`: it reads the output format from a command line whose other
/// values are refused, so that the refusal is printed in that format.
pub fn lenient(mut cmd: Command) -> Command {
    // Subcommands are deferred: building adds their arguments, and the
    // copies of the global ones, so that all of them can be changed.
    cmd.build();
    relax(cmd)
}

fn relax(cmd: Command) -> Command {
    cmd.mut_args(|arg| {
        if arg.get_id() != "output" && arg.get_action().takes_values() {
            arg.value_parser(ValueParser::os_string())
        } else {
            arg
        }
    })
    .mut_subcommands(relax)
}

/// A time as typed, absolute or relative (`-7d`), named after its argument
/// so that resolving it later (against the clock) can still name it.
pub fn moment() -> MomentParser {
    MomentParser
}

#[derive(Clone, Copy)]
pub struct MomentParser;

impl TypedValueParser for MomentParser {
    type Value = Moment;

    fn parse_ref(
        &self,
        cmd: &Command,
        arg: Option<&Arg>,
        value: &OsStr,
    ) -> Result<Moment, clap::Error> {
        let name = arg.map_or_else(|| "value".to_owned(), name_of);
        domain(Moment::parse)
            .parse_ref(cmd, arg, value)
            .map(|moment| moment.named(name))
    }
}
