use super::Catalog;
use crate::app::error::AppError;
use crate::domain::{ProductId, StockEvent};

impl Catalog<'_> {
    /// The product's whole ledger, oldest first.
    pub fn stock_history(&self, id: &ProductId) -> Result<Vec<StockEvent>, AppError> {
        self.stores
            .ledger
            .stock_history(id)?
            .ok_or_else(|| AppError::NotFound {
                what: "product",
                id: id.to_string(),
            })
    }
}
