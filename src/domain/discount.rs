//! Product discounts.

use super::id::{DiscountId, ProductId};
use super::percentage::Percentage;
use super::schedule::{applies, Deactivation, DiscountStatus};
use super::text::Actor;
use super::time::{Instant, Window};

/// How long a discount runs when no end is given.
pub const DEFAULT_DISCOUNT_DAYS: i64 = 30;

/// A percentage off one product, applying only inside its window. A
/// product may hold several whose windows do not overlap (see
/// [`schedule`](super::schedule)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discount {
    pub id: DiscountId,
    pub product_id: ProductId,
    pub percentage: Percentage,
    pub window: Window,
    pub is_active: bool,
    pub created_at: Instant,
    /// Who set it; `None` for rows written before actors were recorded.
    pub actor: Option<Actor>,
    /// When and by whom it was replaced or cleared. An inactive discount
    /// without it was switched off by a milly that did not record when, and
    /// never applies.
    pub deactivated: Option<Deactivation>,
    /// The discount that replaced this one: cut it short (it stays active,
    /// its window now ending where the other's starts) or cancelled it
    /// (switched off). `None` when it ran its course or was cleared, which
    /// is how its status tells "replaced" from "ended" and "cleared".
    pub replaced_by: Option<DiscountId>,
}

impl Discount {
    /// A discount as it is set: on, recorded at `at` by `actor`, replaced
    /// by none.
    pub fn set(
        id: DiscountId,
        product_id: ProductId,
        percentage: Percentage,
        window: Window,
        at: Instant,
        actor: Option<Actor>,
    ) -> Self {
        Discount {
            id,
            product_id,
            percentage,
            window,
            is_active: true,
            created_at: at,
            actor,
            deactivated: None,
            replaced_by: None,
        }
    }

    /// The seed applied any active discount whatever its dates; milly also
    /// checks the window, and at a past instant whether it was recorded by
    /// then and still on (see [`applies`]).
    pub fn applies_at(&self, at: Instant) -> bool {
        let switch = (self.is_active, self.deactivated.as_ref());
        applies(self.created_at, switch, self.window, at)
    }

    /// Its state at `at`. One switched off by a milly that did not record
    /// when (an inactive row with no `deactivated_at`) never applies, so it
    /// is replaced or cleared at every moment.
    pub fn status_at(&self, at: Instant) -> DiscountStatus {
        let replaced = self.replaced_by.is_some();
        if !self.is_active && self.deactivated.is_none() {
            return if replaced {
                DiscountStatus::Replaced
            } else {
                DiscountStatus::Cleared
            };
        }
        DiscountStatus::at(self.window, self.deactivated.as_ref(), replaced, at)
    }
}
