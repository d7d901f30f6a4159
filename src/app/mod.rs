//! Use cases, the pricing service, the retry loop and the ports.
//!
//! Depends on the domain only; adapters plug in through [`ports`].

pub mod error;
pub mod ports;
pub mod pricing;
pub mod retry;
pub mod usecases;

pub use error::{AppError, RowError};
pub use ports::{CatalogStore, Clock, StoreError, Stores};
pub use retry::RetryPolicy;
pub use usecases::Catalog;
