//! `milly coupon create|deactivate|list|show`.

use clap::{Args, Subcommand};

use super::output::Output;
use super::parse::{domain, moment};
use super::record::Record;
use super::views::{self, COUPON_LIST, COUPON_SCAN};
use crate::app::usecases::{CreateCoupon, ListCoupons};
use crate::app::{AppError, Catalog};
use crate::domain::{CouponCode, CustomerId, Moment, Percentage};

#[derive(Debug, Clone, Subcommand)]
#[command(defer = true)]
pub enum CouponCommand {
    /// Create a coupon for one customer
    Create(CreateArgs),
    /// Stop a coupon from applying (repeating it is harmless)
    Deactivate(DeactivateArgs),
    /// List coupons, oldest first
    List(ListArgs),
    /// Show one coupon
    Show(ShowArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Only this customer's coupons
    #[arg(long, value_parser = domain(CustomerId::parse))]
    user: Option<CustomerId>,
    /// Only coupons valid now, or at --at (status valid)
    #[arg(long)]
    active: bool,
    /// The moment status and --active are judged at (RFC 3339, a date, today, -7d, +30d …) [default: now]
    #[arg(long, allow_hyphen_values = true, value_parser = moment())]
    at: Option<Moment>,
    /// Coupons per page
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    page_size: u32,
    /// Page number, from 1
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    page: u64,
}

#[derive(Debug, Clone, Args)]
pub struct ShowArgs {
    /// The coupon's code (any case)
    #[arg(value_parser = domain(CouponCode::parse))]
    code: CouponCode,
}

#[derive(Debug, Clone, Args)]
pub struct CreateArgs {
    /// The customer's external id (1 to 64 characters, no blanks)
    #[arg(long, value_parser = domain(CustomerId::parse))]
    pub(super) user: CustomerId,
    /// Percentage off, more than 0 and at most 100, e.g. 20 or 12.5
    #[arg(long, allow_hyphen_values = true, value_parser = domain(Percentage::parse))]
    pub(super) percent: Percentage,
    /// End of validity, exclusive (RFC 3339, a date, today, -7d, +30d …)
    #[arg(long, allow_hyphen_values = true, value_parser = moment())]
    pub(super) valid_to: Moment,
    /// Start of validity (RFC 3339, a date, today, -7d, +30d …) [default: now]
    #[arg(long, allow_hyphen_values = true, value_parser = moment())]
    pub(super) valid_from: Option<Moment>,
    /// Code, 3 to 32 letters, digits, - or _, unique regardless of case [default: random]
    #[arg(long, value_parser = domain(CouponCode::parse))]
    pub(super) code: Option<CouponCode>,
}

#[derive(Debug, Clone, Args)]
pub struct DeactivateArgs {
    /// The coupon's code (any case)
    #[arg(value_parser = domain(CouponCode::parse))]
    pub(super) code: CouponCode,
}

impl CouponCommand {
    /// How to see whether a write whose outcome is unknown was applied.
    pub fn how_to_check(&self) -> String {
        match self {
            CouponCommand::Create(args) => match &args.code {
                Some(code) => format!(
                    "run it again: exit 4 (duplicate_coupon_code) means coupon {code} was created"
                ),
                None => format!(
                    "see customer {}'s coupons applied with `milly product show PRODUCT_ID --user {}`",
                    args.user, args.user
                ),
            },
            CouponCommand::Deactivate(_) => "run it again (deactivating twice is harmless)".into(),
            CouponCommand::List(_) | CouponCommand::Show(_) => "run it again (it only reads)".into(),
        }
    }
}

pub fn run(command: CouponCommand, catalog: &Catalog<'_>) -> Result<Output, AppError> {
    let coupon = match command {
        CouponCommand::Create(args) => catalog.create_coupon(CreateCoupon {
            user_id: args.user,
            percentage: args.percent,
            valid_to: args.valid_to,
            valid_from: args.valid_from,
            code: args.code,
        })?,
        CouponCommand::Deactivate(args) => catalog.deactivate_coupon(&args.code)?,
        CouponCommand::Show(args) => catalog.show_coupon(&args.code)?,
        CouponCommand::List(args) => {
            let listed = catalog.list_coupons(ListCoupons {
                user_id: args.user,
                active: args.active,
                at: args.at,
                page: args.page,
                page_size: args.page_size,
            })?;
            return Ok(Output::Listing {
                columns: COUPON_LIST.to_vec(),
                scan: COUPON_SCAN.to_vec(),
                rows: views::records(&listed.items, |c| views::Coupon::of(c, listed.at)),
            });
        }
    };
    Ok(Output::One(Record::of(&views::Coupon::of(
        &coupon,
        catalog.now(),
    ))))
}
