//! The catalog life-cycle: updating, archiving and unarchiving products,
//! their history, clearing discounts, and listing discounts and coupons.

use super::Catalog;
use crate::app::error::{archived, AppError};
use crate::app::ports::{CouponQuery, DiscountQuery};
use crate::app::retry::{self, AttemptError};
use crate::domain::product::history;
use crate::domain::{
    Coupon, CouponCode, CustomerId, Discount, DiscountId, DomainError, Instant, Moment, Product,
    ProductChange, ProductEdit, ProductId, Replacement,
};

pub struct UpdateProduct {
    pub id: ProductId,
    pub edit: ProductEdit,
}

/// A discount just set, and the ones it cut short or cancelled.
pub struct DiscountSet {
    pub discount: Discount,
    pub replaced: Replacement,
}

/// One page of discounts or coupons, and the instant their `status` is
/// judged at (the one `active` filtered by).
pub struct Judged<T> {
    pub at: Instant,
    pub items: Vec<T>,
}

/// A product after `archive` or `unarchive`, and whether that changed it.
pub struct Archived {
    pub product: Product,
    pub changed: bool,
}

/// A product and every change to it, its creation first.
pub struct ProductHistory {
    pub product: Product,
    pub changes: Vec<ProductChange>,
}

pub struct ListDiscounts {
    pub product_id: Option<ProductId>,
    /// Only discounts running now.
    pub active: bool,
    /// 1-based page number.
    pub page: u64,
    pub page_size: u32,
}

pub struct ListCoupons {
    pub user_id: Option<CustomerId>,
    /// Only coupons valid at `at`.
    pub active: bool,
    /// The instant `active` is judged at; now if `None`.
    pub at: Option<Moment>,
    /// 1-based page number.
    pub page: u64,
    pub page_size: u32,
}

fn offset(page: u64, page_size: u32) -> u64 {
    page.saturating_sub(1).saturating_mul(u64::from(page_size))
}

fn product_not_found(id: &ProductId) -> AppError {
    AppError::NotFound {
        what: "product",
        id: id.to_string(),
    }
}

impl Catalog<'_> {
    /// The product as stored now, archived or not.
    fn current_product(&self, id: &ProductId) -> Result<Product, AppError> {
        Ok(self
            .stores
            .products
            .product_details(id, None, self.clock.now())?
            .ok_or_else(|| product_not_found(id))?
            .product)
    }

    /// Changes a product's name, description or price, recording the old and
    /// new value of each field that changed. Optimistic, like the ledger:
    /// the store writes only if the product still has the values read, and a
    /// concurrent update makes this one read again and retry.
    pub fn update_product(&self, input: UpdateProduct) -> Result<Product, AppError> {
        let edit = &input.edit;
        if edit.name.is_none() && edit.description.is_none() && edit.price.is_none() {
            return Err(AppError::Invalid(DomainError::invalid(
                "product update",
                "",
                "at least one of --name, --description or --price",
            )));
        }
        let outcome = retry::on_conflict(&self.retry, || {
            let before = self.current_product(&input.id)?;
            if before.is_archived() {
                return Err(archived(input.id.as_str()).into());
            }
            let (after, change) = before
                .edited(input.edit.clone(), self.clock.now(), self.actor())
                .map_err(AppError::from)?;
            if change.changes_anything() {
                self.stores
                    .products
                    .update_product(&before, &after, &change)?;
            }
            Ok::<_, AttemptError>(after)
        })?;
        Ok(outcome.value)
    }

    /// Archives (`archive`) or unarchives a product. Doing it twice changes
    /// nothing the second time and still succeeds, so scripts can repeat it.
    pub fn archive_product(&self, id: &ProductId, archive: bool) -> Result<Archived, AppError> {
        let change = ProductChange::archival(id.clone(), archive, self.clock.now(), self.actor());
        let changed = self.stores.products.set_archived(&change)?;
        let mut product = self.current_product(id)?;
        // The product as this change leaves it, also when the store did not
        // keep the change (a dry run rolls it back before this read).
        if changed && product.is_archived() != archive {
            product.archived_at = archive.then_some(change.at);
            product.updated_at = change.at;
        }
        Ok(Archived { product, changed })
    }

    /// Every change to the product, its creation first.
    pub fn product_history(&self, id: &ProductId) -> Result<ProductHistory, AppError> {
        let product = self.current_product(id)?;
        let changes = self.stores.products.product_changes(id)?;
        Ok(ProductHistory {
            changes: history(&product, changes),
            product,
        })
    }

    /// Switches off the product's discounts that are running or scheduled,
    /// the running one first; none is still a success (the product has no
    /// discount from now on, as asked).
    pub fn clear_discount(&self, id: &ProductId) -> Result<Vec<DiscountId>, AppError> {
        let cleared = retry::on_conflict(&self.retry, || {
            Ok::<_, AttemptError>(self.stores.discounts.clear_discount(
                id,
                self.clock.now(),
                self.actor.as_ref(),
            )?)
        })?;
        Ok(cleared.value)
    }

    /// One page of discounts, of one product (which must exist) or of all,
    /// judged now.
    pub fn list_discounts(&self, input: ListDiscounts) -> Result<Judged<Discount>, AppError> {
        if let Some(id) = &input.product_id {
            self.current_product(id)?;
        }
        let at = self.clock.now();
        let items = self.stores.discounts.list_discounts(&DiscountQuery {
            product_id: input.product_id,
            active_at: input.active.then_some(at),
            offset: offset(input.page, input.page_size),
            limit: input.page_size,
        })?;
        Ok(Judged { at, items })
    }

    /// One page of coupons, of one customer or of all, judged at `at`.
    pub fn list_coupons(&self, input: ListCoupons) -> Result<Judged<Coupon>, AppError> {
        let at = self.resolve(input.at.as_ref())?;
        let items = self.stores.coupons.list_coupons(&CouponQuery {
            user_id: input.user_id,
            active_at: input.active.then_some(at),
            offset: offset(input.page, input.page_size),
            limit: input.page_size,
        })?;
        Ok(Judged { at, items })
    }

    /// The instant a single discount's or coupon's `status` is judged at.
    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    pub fn show_coupon(&self, code: &CouponCode) -> Result<Coupon, AppError> {
        self.stores
            .coupons
            .coupon(code)?
            .ok_or_else(|| AppError::NotFound {
                what: "coupon",
                id: code.to_string(),
            })
    }
}
