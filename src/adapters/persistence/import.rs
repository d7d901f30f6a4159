//! The bulk import loop, for every backend: pull items one at a time (flat
//! memory), hand each to the backend's writer, count, and stop at the first
//! aborted item so the caller rolls back.

use crate::app::ports::{ImportAborted, ImportCounts, ImportItem, StoreError};
use crate::domain::{Coupon, Discount, Product, StockEvent};

/// Where one backend writes import rows, inside its open transaction.
pub trait ImportWriter {
    /// A product with its whole ledger and optionally its active discount.
    fn product(
        &mut self,
        product: &Product,
        events: &[StockEvent],
        discount: Option<&Discount>,
    ) -> Result<(), StoreError>;

    /// A coupon; a taken code is `DuplicateCouponCode` naming it.
    fn coupon(&mut self, coupon: &Coupon) -> Result<(), StoreError>;
}

/// Writes every item; `Ok(None)` when the input was aborted, in which case
/// the caller must roll back.
pub fn write_all(
    items: &mut dyn Iterator<Item = Result<ImportItem, ImportAborted>>,
    writer: &mut impl ImportWriter,
) -> Result<Option<ImportCounts>, StoreError> {
    let mut counts = ImportCounts::default();
    for item in items {
        match item {
            Err(ImportAborted) => return Ok(None),
            Ok(ImportItem::Product {
                product,
                events,
                discount,
            }) => {
                writer.product(&product, &events, discount.as_ref())?;
                counts.products += 1;
                counts.stock_events += events.len() as u64;
                counts.discounts += u64::from(discount.is_some());
            }
            Ok(ImportItem::Coupon(coupon)) => {
                writer.coupon(&coupon)?;
                counts.coupons += 1;
            }
        }
    }
    Ok(Some(counts))
}
