//! One use case per file, each an `impl Catalog` block: the command line
//! calls them, the stores serve them.

mod adjust_stock;
mod catalog_lifecycle;
mod create_coupon;
mod create_product;
mod database;
mod deactivate_coupon;
mod import;
mod import_rows;
mod import_stock;
mod list_products;
mod once;
mod revert_stock;
mod set_discount;
mod show_product;
mod stock_history;
mod stock_log;
mod verify_ledgers;

pub use adjust_stock::{AdjustStock, StockAdjusted};
pub use catalog_lifecycle::{
    Archived, DiscountSet, Judged, ListCoupons, ListDiscounts, ProductHistory, UpdateProduct,
};
pub use create_coupon::CreateCoupon;
pub use create_product::{CreateProduct, CreatedProduct};
pub use import::ImportedRow;
pub use import_rows::{CouponRow, ImportRow, OpenRows, ProductRow, RowSource, StockRow};
pub use import_stock::StockImportCounts;
pub use list_products::{ListProducts, ProductSummary};
pub use once::{Keyed, Once};
pub use revert_stock::{RevertStock, StockReverted};
pub use set_discount::SetDiscount;
pub use show_product::{ProductView, ShowProduct};
pub use stock_log::StockLog;
pub use verify_ledgers::LedgerSummary;

use super::error::AppError;
use super::ports::{CatalogStore, Clock, Stores};
use super::retry::RetryPolicy;
use crate::domain::{Actor, Instant, Moment};

/// The use cases' shared context: the store's ports, the clock, the retry
/// policy and the actor the composition root chose.
///
/// Who acts is part of the session, like the clock: one command, one actor.
/// The use cases stamp it on every row they hand the store (a field of the
/// entity, or an argument of the update), rather than the store being opened
/// with it, so that a store stays a plain translator of the data it is given,
/// the port's contract says exactly what is recorded, and the contract suite
/// can check it row by row.
#[derive(Clone)]
pub struct Catalog<'a> {
    stores: Stores<'a>,
    clock: &'a dyn Clock,
    retry: RetryPolicy,
    actor: Option<Actor>,
}

impl<'a> Catalog<'a> {
    pub fn new(store: &'a dyn CatalogStore, clock: &'a dyn Clock, retry: RetryPolicy) -> Self {
        Self::with_stores(Stores::of(store), clock, retry)
    }

    /// A catalog whose ports may be served by different stores (a test
    /// double in front of one of them).
    pub fn with_stores(stores: Stores<'a>, clock: &'a dyn Clock, retry: RetryPolicy) -> Self {
        Catalog {
            stores,
            clock,
            retry,
            actor: None,
        }
    }

    /// Records `actor` on every row this catalog writes.
    pub fn with_actor(mut self, actor: Actor) -> Self {
        self.actor = Some(actor);
        self
    }

    fn actor(&self) -> Option<Actor> {
        self.actor.clone()
    }

    /// The instant a time as typed names now (`-7d`, `today`, or an
    /// absolute time), or now when none was given.
    fn resolve(&self, moment: Option<&Moment>) -> Result<Instant, AppError> {
        let now = self.clock.now();
        match moment {
            Some(moment) => Ok(moment.resolve(now)?),
            None => Ok(now),
        }
    }
}

/// Fresh randomness for an id: 80 of these bits end up in the ULID.
fn random_bits() -> u128 {
    rand::random()
}

/// Ids for many rows created at the same instant (a bulk import): a random
/// start, then +1 per id, as monotonic ULIDs do. Still unique across
/// processes (80 random bits at the start), and in ascending order, so the
/// database appends to its id indexes instead of inserting at random places.
struct MonotonicBits(u128);

impl MonotonicBits {
    fn new() -> Self {
        // One bit of headroom below the 80 kept, so +1 never carries out.
        MonotonicBits(random_bits() & ((1u128 << 79) - 1))
    }

    fn next(&mut self) -> u128 {
        self.0 += 1;
        self.0
    }
}
