use super::Catalog;
use crate::app::error::AppError;
use crate::app::pricing::{price_at, PriceBreakdown};
use crate::domain::{Coupon, CustomerId, Discount, Instant, Moment, Product, ProductId};

pub struct ShowProduct {
    pub id: ProductId,
    pub customer: Option<CustomerId>,
    pub at: Option<Moment>,
}

/// A product priced for a customer at an instant.
pub struct ProductView {
    pub product: Product,
    pub stock: i64,
    pub discount: Option<Discount>,
    pub coupon: Option<Coupon>,
    pub pricing: PriceBreakdown,
    pub at: Instant,
}

impl Catalog<'_> {
    pub fn show_product(&self, input: ShowProduct) -> Result<ProductView, AppError> {
        let at = self.resolve(input.at.as_ref())?;
        let details = self
            .stores
            .products
            .product_details(&input.id, input.customer.as_ref(), at)?
            .ok_or_else(|| AppError::NotFound {
                what: "product",
                id: input.id.to_string(),
            })?;
        if details.product.created_at > at {
            return Err(AppError::NotYetRecorded {
                what: "product",
                id: input.id.to_string(),
                at: input
                    .at
                    .as_ref()
                    .map_or_else(|| at.to_string(), |m| m.typed().to_owned()),
                recorded: details.product.created_at,
            });
        }
        Ok(ProductView {
            pricing: price_at(
                details.price,
                details.discount.as_ref(),
                details.coupon.as_ref(),
                at,
            ),
            product: details.product,
            stock: details.stock,
            discount: details.discount,
            coupon: details.coupon,
            at,
        })
    }
}
