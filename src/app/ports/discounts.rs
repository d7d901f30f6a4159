//! Product discounts.

use super::StoreError;
use crate::domain::{Actor, Discount, DiscountId, Instant, ProductId};

/// Which page of discounts to list, in creation order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscountQuery {
    /// Only this product's discounts.
    pub product_id: Option<ProductId>,
    /// Only those on and inside their window at this instant.
    pub active_at: Option<Instant>,
    pub offset: u64,
    pub limit: u32,
}

/// Discounts: at most one active per product.
pub trait DiscountStore {
    /// Stores `discount` and deactivates every other active discount of its
    /// product, in one transaction, stamping them deactivated at the new
    /// one's `created_at` by its `actor`; returns the id of the discount it
    /// replaced, if one was active. MUST return `ProductNotFound` when the
    /// product does not exist and `ProductArchived` when it is archived.
    fn replace_discount(&self, discount: &Discount) -> Result<Option<DiscountId>, StoreError>;

    /// Deactivates the product's active discount, if any, stamping `at` and
    /// `actor`, and returns its id. MUST return `ProductNotFound` when the
    /// product does not exist and `ProductArchived` when it is archived.
    fn clear_discount(
        &self,
        product_id: &ProductId,
        at: Instant,
        actor: Option<&Actor>,
    ) -> Result<Option<DiscountId>, StoreError>;

    /// One page of discounts in creation order. One query per page.
    fn list_discounts(&self, query: &DiscountQuery) -> Result<Vec<Discount>, StoreError>;
}
