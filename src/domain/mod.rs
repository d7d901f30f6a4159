//! Pure types and rules: no I/O, no SQL, no command line.

pub mod coupon;
mod decimal;
pub mod discount;
pub mod error;
pub mod id;
pub mod money;
pub mod percentage;
pub mod product;
pub mod stock;
pub mod text;
pub mod time;

pub use coupon::Coupon;
pub use discount::Discount;
pub use error::DomainError;
pub use id::{CouponId, DiscountId, EventId, ProductId};
pub use money::Money;
pub use percentage::Percentage;
pub use product::Product;
pub use stock::{Quantity, StockChange, StockEvent};
pub use text::{CouponCode, CustomerId, Description, ProductName, Reason};
pub use time::{Instant, Window};
