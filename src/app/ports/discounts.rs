//! Product discounts.

use super::StoreError;
use crate::domain::{Actor, Discount, DiscountId, Instant, ProductId, Replacement};

/// Which page of discounts to list, in creation order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscountQuery {
    /// Only this product's discounts.
    pub product_id: Option<ProductId>,
    /// Only those running at this instant: on and inside their window.
    pub active_at: Option<Instant>,
    pub offset: u64,
    pub limit: u32,
}

/// Discounts: a product may hold several, whose windows do not overlap
/// (see [`crate::domain::schedule`]).
pub trait DiscountStore {
    /// Stores `discount` and replaces, from its start on, every discount of
    /// its product whose window overlaps it, as
    /// [`plan_replacement`](crate::domain::schedule::plan_replacement)
    /// plans it at the new one's `created_at` among the product's discounts
    /// as they are inside the transaction: one running at the new start is
    /// cut to end there (it stays active), ones starting inside the new
    /// window are switched off, stamped with `created_at` and the new one's
    /// `actor`; each records the new one as `replaced_by`. Returns what it
    /// replaced. Two calls for one product at once never leave overlapping
    /// windows: the second plans against what the first wrote, or fails
    /// with `Conflict`. MUST return `ProductNotFound` when the product does
    /// not exist and `ProductArchived` when it is archived.
    fn replace_discount(&self, discount: &Discount) -> Result<Replacement, StoreError>;

    /// Switches off every discount of the product that is on and not over
    /// at `at` (the one running, those scheduled), stamping `at` and
    /// `actor`, and returns their ids, the earliest window first. MUST
    /// return `ProductNotFound` when the product does not exist and
    /// `ProductArchived` when it is archived.
    fn clear_discount(
        &self,
        product_id: &ProductId,
        at: Instant,
        actor: Option<&Actor>,
    ) -> Result<Vec<DiscountId>, StoreError>;

    /// One page of discounts in creation order. One query per page.
    fn list_discounts(&self, query: &DiscountQuery) -> Result<Vec<Discount>, StoreError>;
}
