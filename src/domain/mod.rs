//! Pure types and rules: no I/O, no SQL, no command line.

pub mod coupon;
mod decimal;
pub mod discount;
pub mod error;
pub mod id;
pub mod idempotency;
pub mod ledger;
pub mod moment;
pub mod money;
pub mod percentage;
pub mod product;
pub mod schedule;
pub mod stock;
pub mod text;
pub mod time;

pub use coupon::Coupon;
pub use discount::Discount;
pub use error::DomainError;
pub use id::{CouponId, DiscountId, EventId, ProductId};
pub use idempotency::IdempotencyKey;
pub use ledger::{LedgerCheck, LedgerEntry, LedgerFault, LedgerProblem};
pub use moment::Moment;
pub use money::Money;
pub use percentage::Percentage;
pub use product::{ChangeKind, Edit, Product, ProductChange, ProductEdit};
pub use schedule::{CouponStatus, Deactivation, DiscountStatus, Replacement};
pub use stock::{Quantity, StockChange, StockEvent};
pub use text::{Actor, CouponCode, CustomerId, Description, ProductName, Reason};
pub use time::{Instant, Window};
