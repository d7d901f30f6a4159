//! The outside world: the command line and the databases.

pub mod cli;
pub mod persistence;
