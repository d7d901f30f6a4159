use std::ops::ControlFlow;

use super::Catalog;
use crate::app::error::AppError;
use crate::app::ports::{PageStart, ProductListing, ProductQuery};
use crate::app::pricing::{price_at, PriceBreakdown};
use crate::domain::text::fold_case;
use crate::domain::{Discount, Instant, Moment, Money, Product};

pub struct ListProducts {
    /// Substring the name must contain, compared without case.
    pub name_contains: Option<String>,
    /// 1-based page number.
    pub page: u64,
    pub page_size: u32,
    /// When to price the products; now if `None`.
    pub at: Option<Moment>,
    /// List archived products too.
    pub include_archived: bool,
}

pub struct ProductSummary {
    pub product: Product,
    /// The price in force at the listing instant.
    pub price: Money,
    pub stock: i64,
    pub discount: Option<Discount>,
    pub pricing: PriceBreakdown,
}

impl Catalog<'_> {
    /// One page of the catalog with stock and the product discount applied,
    /// fetched in one query.
    pub fn list_products(&self, input: ListProducts) -> Result<Vec<ProductSummary>, AppError> {
        let at = self.resolve(input.at.as_ref())?;
        let skip = input
            .page
            .saturating_sub(1)
            .saturating_mul(u64::from(input.page_size));
        let query = ProductQuery {
            name_contains: input.name_contains.as_deref().map(fold_case),
            start: PageStart::Offset(skip),
            limit: input.page_size,
            include_archived: input.include_archived,
        };
        let rows = self.stores.products.list_products(&query, at)?;
        Ok(rows.into_iter().map(|row| summarize(row, at)).collect())
    }

    /// Every matching product, oldest first, handed to `sink` one at a time,
    /// so memory stays flat however large the catalog is: the whole catalog
    /// in one scan of the store, matching names in pages of
    /// [`STREAM_PAGE`] products after the last one seen.
    pub fn stream_products(
        &self,
        name_contains: Option<&str>,
        at: Option<&Moment>,
        include_archived: bool,
        sink: &mut dyn FnMut(ProductSummary) -> Result<(), AppError>,
    ) -> Result<u64, AppError> {
        let at = self.resolve(at)?;
        let mut count = 0;
        let Some(name) = name_contains else {
            // The whole catalog: one scan of the store, as fast as the
            // database hands rows over.
            let mut failed = None;
            self.stores
                .products
                .scan_products(
                    include_archived,
                    at,
                    &mut |row| match sink(summarize(row, at)) {
                        Ok(()) => {
                            count += 1;
                            ControlFlow::Continue(())
                        }
                        Err(e) => {
                            failed = Some(e);
                            ControlFlow::Break(())
                        }
                    },
                )?;
            return failed.map_or(Ok(count), Err);
        };
        let mut query = ProductQuery {
            name_contains: Some(fold_case(name)),
            start: PageStart::After(0),
            limit: STREAM_PAGE,
            include_archived,
        };
        loop {
            let rows = self.stores.products.list_products(&query, at)?;
            let full_page = rows.len() == STREAM_PAGE as usize;
            if let Some(last) = rows.last() {
                query.start = PageStart::After(last.position);
            }
            for row in rows {
                sink(summarize(row, at))?;
                count += 1;
            }
            if !full_page {
                return Ok(count);
            }
        }
    }
}

/// Products per query when streaming the products whose name matches:
/// large enough that starting a query (SQLite prepares it again for new
/// bounds) is rare, small enough that a page stays a few megabytes.
pub const STREAM_PAGE: u32 = 5_000;

fn summarize(row: ProductListing, at: Instant) -> ProductSummary {
    ProductSummary {
        pricing: price_at(row.price, row.discount.as_ref(), None, at),
        price: row.price,
        product: row.product,
        stock: row.stock,
        discount: row.discount,
    }
}
