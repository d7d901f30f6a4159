//! The ports: what the use cases need from the outside world, as traits.
//!
//! Storage is split by concern, one narrow trait each ([`ProductStore`],
//! [`LedgerStore`], [`DiscountStore`], [`CouponStore`], [`ImportStore`],
//! [`SchemaStore`], [`RequestLog`], [`UnitOfWork`]), so that a use case
//! names the ports it uses and a test double implements only those. Each
//! persistence adapter implements all of them, which makes it a
//! [`CatalogStore`], and must honour every contract written here:
//! `tests/store_contract` holds every adapter to it, one suite of stories
//! run in-process on each.
//!
//! Every method is atomic: it either does all of what it says or nothing.
//! Every write is one transaction that ends at its adapter's one commit
//! point, which a store opened for a dry run turns into a rollback: the
//! write still runs, with every check the database makes, and returns what
//! it would have returned, but nothing is kept. Inside a unit of work
//! ([`UnitOfWork::unit`]) every method joins the unit's transaction
//! instead.

mod coupons;
mod discounts;
mod import;
mod ledger;
mod products;
mod requests;
mod schema;
mod unit;

use thiserror::Error;

use crate::domain::Instant;

pub use coupons::{CouponQuery, CouponStore};
pub use discounts::{DiscountQuery, DiscountStore};
pub use import::{ImportAborted, ImportCounts, ImportItem, ImportStore};
pub use ledger::{LedgerScan, LedgerStore, LogQuery, LoggedEvent, RecordedEvent, StockBatch};
pub use products::{PageStart, ProductDetails, ProductListing, ProductQuery, ProductStore};
pub use requests::{RecordedRequest, RequestLog};
pub use schema::{MigrationState, SchemaStore, StoreStatus};
pub use unit::{in_unit, UnitEnd, UnitOfWork};

/// Where "now" comes from, so every pricing rule can be evaluated at a chosen
/// instant and tests can fix the time.
pub trait Clock {
    fn now(&self) -> Instant;
}

/// Failures a store may report. Adapters translate their driver's codes into
/// these right where they happen: nothing above an adapter ever sees
/// `SQLITE_BUSY` or MySQL error 1062.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum StoreError {
    /// Another writer got there first (a taken version, a busy or deadlocked
    /// database). Nothing was written; trying again may succeed.
    #[error("concurrent write conflict: {0}")]
    Conflict(String),

    /// A product id that the write refers to does not exist.
    #[error("product {0} not found")]
    ProductNotFound(String),

    /// The product is archived: it refuses every write but unarchiving.
    /// Nothing was written.
    #[error("product {0} is archived")]
    ProductArchived(String),

    /// A coupon with the same code, compared without case, already exists.
    #[error("coupon code {0} already exists")]
    DuplicateCouponCode(String),

    /// The database cannot be opened, reached or used (including a schema
    /// newer than this binary). The message never contains a password.
    #[error("{0}")]
    Unavailable(String),

    /// The connection was lost after a write was sent: the change may or
    /// may not have been applied.
    #[error("{0}")]
    OutcomeUnknown(String),

    /// The database's schema is older than this binary's and upgrading it
    /// is left to `db migrate` (a shared server other installations use).
    #[error("{0}")]
    SchemaOutdated(String),

    /// Anything else: a bug, or data this binary cannot read.
    #[error("{0}")]
    Internal(String),
}

/// Declares the whole store as every port at once, listed once.
macro_rules! whole_store {
    ($($port:ident),+) => {
        /// A whole store: every port at once, as a database adapter provides
        /// them. Implemented for anything that implements each port.
        pub trait CatalogStore: $($port +)+ {}

        impl<T: ?Sized + $($port +)+> CatalogStore for T {}
    };
}

whole_store!(
    ProductStore,
    LedgerStore,
    DiscountStore,
    CouponStore,
    ImportStore,
    SchemaStore,
    RequestLog,
    UnitOfWork
);

/// The ports a [`crate::app::Catalog`] works with, one reference each, so
/// that a test can put a double in front of one port and leave the others
/// to a real store.
#[derive(Clone, Copy)]
pub struct Stores<'a> {
    pub products: &'a dyn ProductStore,
    pub ledger: &'a dyn LedgerStore,
    pub discounts: &'a dyn DiscountStore,
    pub coupons: &'a dyn CouponStore,
    pub imports: &'a dyn ImportStore,
    pub schema: &'a dyn SchemaStore,
    pub requests: &'a dyn RequestLog,
    pub units: &'a dyn UnitOfWork,
}

impl<'a> Stores<'a> {
    /// Every port served by one store.
    pub fn of(store: &'a dyn CatalogStore) -> Self {
        Stores {
            products: store,
            ledger: store,
            discounts: store,
            coupons: store,
            imports: store,
            schema: store,
            requests: store,
            units: store,
        }
    }
}
