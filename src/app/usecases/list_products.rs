use super::Catalog;
use crate::app::error::AppError;
use crate::app::ports::ProductQuery;
use crate::app::pricing::{price_at, PriceBreakdown};
use crate::domain::text::fold_case;
use crate::domain::{Discount, Instant, Product};

pub struct ListProducts {
    /// Substring the name must contain, compared without case.
    pub name_contains: Option<String>,
    /// 1-based page number.
    pub page: u64,
    pub page_size: u32,
    /// When to price the products; now if `None`.
    pub at: Option<Instant>,
}

pub struct ProductSummary {
    pub product: Product,
    pub stock: i64,
    pub discount: Option<Discount>,
    pub pricing: PriceBreakdown,
}

impl Catalog<'_> {
    /// One page of the catalog with stock and the product discount applied,
    /// fetched in one query.
    pub fn list_products(&self, input: ListProducts) -> Result<Vec<ProductSummary>, AppError> {
        let at = input.at.unwrap_or_else(|| self.clock.now());
        let query = ProductQuery {
            name_contains: input.name_contains.as_deref().map(fold_case),
            offset: input
                .page
                .saturating_sub(1)
                .saturating_mul(u64::from(input.page_size)),
            limit: input.page_size,
        };
        let rows = self.store.list_products(&query, at)?;
        Ok(rows
            .into_iter()
            .map(|row| ProductSummary {
                pricing: price_at(row.product.price, row.discount.as_ref(), None, at),
                product: row.product,
                stock: row.stock,
                discount: row.discount,
            })
            .collect())
    }
}
