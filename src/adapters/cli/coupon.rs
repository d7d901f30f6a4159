//! `milly coupon create|deactivate`.

use clap::{Args, Subcommand};

use super::output::{Cell, Output, Record};
use super::parse::optional;
use crate::app::usecases::CreateCoupon;
use crate::app::{AppError, Catalog};
use crate::domain::{Coupon, CouponCode, CustomerId, Instant, Percentage};

#[derive(Debug, Subcommand)]
pub enum CouponCommand {
    /// Create a coupon for one customer
    Create(CreateArgs),
    /// Stop a coupon from applying (repeating it is harmless)
    Deactivate(DeactivateArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The customer's external id (1 to 64 characters, no blanks)
    #[arg(long)]
    user: String,
    /// Percentage off, more than 0 and at most 100, e.g. 20 or 12.5
    #[arg(long, allow_hyphen_values = true)]
    percent: String,
    /// End of validity, exclusive (RFC 3339 or a date)
    #[arg(long)]
    valid_to: String,
    /// Start of validity (RFC 3339 or a date) [default: now]
    #[arg(long)]
    valid_from: Option<String>,
    /// Code, 3 to 32 letters, digits, - or _, unique regardless of case [default: random]
    #[arg(long)]
    code: Option<String>,
}

#[derive(Debug, Args)]
pub struct DeactivateArgs {
    /// The coupon's code (any case)
    code: String,
}

pub fn run(command: CouponCommand, catalog: &Catalog<'_>) -> Result<Output, AppError> {
    let coupon = match command {
        CouponCommand::Create(args) => catalog.create_coupon(CreateCoupon {
            user_id: CustomerId::parse("--user", &args.user)?,
            percentage: Percentage::parse("--percent", &args.percent)?,
            valid_to: Instant::parse("--valid-to", &args.valid_to)?,
            valid_from: optional(args.valid_from.as_deref(), |r| {
                Instant::parse("--valid-from", r)
            })?,
            code: optional(args.code.as_deref(), |r| CouponCode::parse("--code", r))?,
        })?,
        CouponCommand::Deactivate(args) => {
            catalog.deactivate_coupon(&CouponCode::parse("CODE", &args.code)?)?
        }
    };
    Ok(Output::One(coupon_record(&coupon)))
}

fn coupon_record(c: &Coupon) -> Record {
    Record::new()
        .field("coupon_id", Cell::text(c.id.as_str()))
        .field("user_id", Cell::text(c.user_id.as_str()))
        .field("code", Cell::text(c.code.as_str()))
        .field("discount_percentage", Cell::Percent(c.percentage))
        .field("valid_from", Cell::Time(c.window.from()))
        .field("valid_to", Cell::Time(c.window.until()))
        .field("is_active", Cell::Bool(c.is_active))
        .field("created_at", Cell::Time(c.created_at))
}
