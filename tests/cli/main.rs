//! Integration tests: the built `milly` binary against real databases.
//! One test binary (faster to build), one module per area.

mod harness;

mod bad_input;
mod completions;
mod concurrency;
mod coupons_and_discounts;
mod exit_codes;
mod faults;
mod formats;
mod products;
mod security;
mod stock;
mod storage;
