//! One use case per file, each an `impl Catalog` block: the command line
//! calls them, the stores serve them.

mod adjust_stock;
mod create_coupon;
mod create_product;
mod database;
mod deactivate_coupon;
mod import;
mod list_products;
mod set_discount;
mod show_product;
mod stock_history;

pub use adjust_stock::{AdjustStock, StockAdjusted};
pub use create_coupon::CreateCoupon;
pub use create_product::{CreateProduct, CreatedProduct};
pub use import::{CouponRow, ImportRow, ProductRow, RowSource};
pub use list_products::{ListProducts, ProductSummary};
pub use set_discount::SetDiscount;
pub use show_product::{ProductView, ShowProduct};

use super::ports::{CatalogStore, Clock};
use super::retry::RetryPolicy;

/// The use cases' shared context: the store, the clock and the retry policy
/// the composition root chose.
pub struct Catalog<'a> {
    store: &'a dyn CatalogStore,
    clock: &'a dyn Clock,
    retry: RetryPolicy,
}

impl<'a> Catalog<'a> {
    pub fn new(store: &'a dyn CatalogStore, clock: &'a dyn Clock, retry: RetryPolicy) -> Self {
        Catalog {
            store,
            clock,
            retry,
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
