//! Unit tests of every use case, run on the in-memory store: what each one
//! returns, writes and refuses, asserted on what the store holds afterwards.
//! Where a race must be staged precisely, a test double stands in front of
//! one port and the memory store serves the others.

mod adjust_stock;
mod catalog_lifecycle;
mod coupons;
mod create_product;
mod database;
mod import;
mod import_stock;
mod list_products;
mod once;
mod revert_stock;
mod set_discount;
mod show_product;
mod stock_history;
mod stock_log;
mod verify_ledgers;

use std::cell::Cell;
use std::time::Duration;

use milly::adapters::persistence::memory::MemoryStore;
use milly::app::usecases::CreateProduct;
use milly::app::{AppError, Catalog, Clock, RetryPolicy};
use milly::domain::*;

/// The first instant of every test.
pub const T0: &str = "2025-06-01T12:00:00Z";

pub fn at(raw: &str) -> Instant {
    Instant::parse("test time", raw).unwrap()
}

/// A clock the test sets.
pub struct TestClock(Cell<Instant>);

impl TestClock {
    pub fn set(&self, raw: &str) {
        self.0.set(at(raw));
    }
}

impl Clock for TestClock {
    fn now(&self) -> Instant {
        self.0.get()
    }
}

/// Retries without waiting.
pub fn no_wait(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        attempts,
        base_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
        time_budget: None,
    }
}

pub fn actor(name: &str) -> Actor {
    Actor::parse("actor", name).unwrap()
}

pub fn money(raw: &str) -> Money {
    Money::parse_price("price", raw).unwrap()
}

pub fn percent(raw: &str) -> Percentage {
    Percentage::parse("percent", raw).unwrap()
}

pub fn change(raw: &str) -> StockChange {
    StockChange::parse("change", raw).unwrap()
}

pub fn customer(raw: &str) -> CustomerId {
    CustomerId::parse("customer", raw).unwrap()
}

pub fn code(raw: &str) -> CouponCode {
    CouponCode::parse("code", raw).unwrap()
}

/// A memory store, a clock at [`T0`], and catalogs acting as `tester`.
pub struct World {
    pub store: MemoryStore,
    pub clock: TestClock,
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

impl World {
    pub fn new() -> Self {
        World {
            store: MemoryStore::new(),
            clock: TestClock(Cell::new(at(T0))),
        }
    }

    pub fn catalog(&self) -> Catalog<'_> {
        Catalog::new(&self.store, &self.clock, no_wait(5)).with_actor(actor("tester"))
    }

    /// Creates a product through the use case.
    pub fn product(&self, name: &str, price: &str, stock: &str) -> Product {
        self.catalog()
            .create_product(CreateProduct {
                name: ProductName::parse("name", name).unwrap(),
                description: Description::parse("description", "for tests").unwrap(),
                price: money(price),
                stock: Quantity::parse("stock", stock).unwrap(),
            })
            .unwrap()
            .product
    }

    /// The product's current stock, read from the store.
    pub fn stock(&self, product: &Product) -> i64 {
        use milly::app::ports::LedgerStore;
        self.store
            .latest_stock_event(&product.id)
            .unwrap()
            .unwrap()
            .total_after_change
    }

    /// Row counts: products, ledger rows, discounts, coupons.
    pub fn counts(&self) -> (i64, i64, i64, i64) {
        use milly::app::ports::SchemaStore;
        let s = self.store.status().unwrap();
        (s.products, s.stock_events, s.discounts, s.coupons)
    }
}

/// The code of a rejection, or a panic naming what came instead.
pub fn rejected<T>(result: Result<T, AppError>) -> &'static str {
    match result {
        Err(AppError::Rejected { code, .. }) => code,
        Err(other) => panic!("expected a rejection, got {other:?}"),
        Ok(_) => panic!("expected a rejection, got success"),
    }
}
