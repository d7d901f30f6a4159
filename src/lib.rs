//! milly: command-line administration of a small e-commerce catalog.
//!
//! Ports and adapters: [`domain`] holds the pure rules, [`app`] the use cases
//! and the ports they need, and [`adapters`] the command line and the SQLite
//! and MySQL stores. Dependencies point inward; [`bootstrap`] wires the
//! adapters together.

pub mod adapters;
pub mod app;
pub mod bootstrap;
pub mod domain;
