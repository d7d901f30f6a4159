use super::{random_bits, Catalog};
use crate::app::error::AppError;
use crate::app::retry::{self, AttemptError};
use crate::domain::{
    Description, EventId, Money, Product, ProductId, ProductName, Quantity, StockEvent,
};

pub struct CreateProduct {
    pub name: ProductName,
    pub description: Description,
    pub price: Money,
    pub stock: Quantity,
}

pub struct CreatedProduct {
    pub product: Product,
    pub stock: i64,
}

impl Catalog<'_> {
    /// Creates a product and the first row of its stock ledger together, so a
    /// product never exists without its version-1 event.
    pub fn create_product(&self, input: CreateProduct) -> Result<CreatedProduct, AppError> {
        let now = self.clock.now();
        let product = Product {
            id: ProductId::generate(now, random_bits()),
            name: input.name,
            description: input.description,
            price: input.price,
            created_at: now,
            updated_at: now,
            archived_at: None,
            actor: self.actor(),
        };
        let opening = StockEvent::opening(
            EventId::generate(now, random_bits()),
            product.id.clone(),
            input.stock,
            now,
        )
        .by(self.actor());
        // Writers on different nodes of a Galera cluster can take the same
        // position (the lock they take turns on is local to a node): the
        // loser's transaction is rolled back as a conflict (a certification
        // failure, or a duplicate position once the winner's write has
        // reached its node) and is retried with the same ids.
        retry::on_conflict(&self.retry, || {
            Ok::<_, AttemptError>(self.stores.products.create_product(&product, &opening)?)
        })?;
        Ok(CreatedProduct {
            product,
            stock: opening.total_after_change,
        })
    }
}
