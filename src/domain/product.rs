//! Products.

use super::id::ProductId;
use super::money::Money;
use super::text::{Description, ProductName};
use super::time::Instant;

/// A catalog entry. Its stock lives in the ledger ([`super::stock`]), not here,
/// so that every change to it has a history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: ProductId,
    pub name: ProductName,
    pub description: Description,
    pub price: Money,
    pub created_at: Instant,
    pub updated_at: Instant,
}
