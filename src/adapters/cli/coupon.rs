//! `milly coupon create|deactivate|list|show`.

use clap::{Args, Subcommand};

use super::output::{Cell, Output, Record};
use super::parse::domain;
use crate::app::usecases::{CreateCoupon, ListCoupons};
use crate::app::{AppError, Catalog};
use crate::domain::{Coupon, CouponCode, CustomerId, Instant, Percentage};

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
    /// Only coupons switched on and valid now (or at --at)
    #[arg(long)]
    active: bool,
    /// The moment --active is judged at (RFC 3339 or a date) [default: now]
    #[arg(long, requires = "active", value_parser = domain(Instant::parse))]
    at: Option<Instant>,
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

pub const LIST_COLUMNS: &[&str] = &[
    "coupon_id",
    "user_id",
    "code",
    "discount_percentage",
    "valid_from",
    "valid_to",
    "is_active",
    "created_at",
    "actor",
    "deactivated_at",
    "deactivated_by",
];

pub const LIST_SCAN: &[&str] = &[
    "user_id",
    "code",
    "discount_percentage",
    "valid_from",
    "valid_to",
    "is_active",
];

#[derive(Debug, Clone, Args)]
pub struct CreateArgs {
    /// The customer's external id (1 to 64 characters, no blanks)
    #[arg(long, value_parser = domain(CustomerId::parse))]
    pub(super) user: CustomerId,
    /// Percentage off, more than 0 and at most 100, e.g. 20 or 12.5
    #[arg(long, allow_hyphen_values = true, value_parser = domain(Percentage::parse))]
    pub(super) percent: Percentage,
    /// End of validity, exclusive (RFC 3339 or a date)
    #[arg(long, value_parser = domain(Instant::parse))]
    pub(super) valid_to: Instant,
    /// Start of validity (RFC 3339 or a date) [default: now]
    #[arg(long, value_parser = domain(Instant::parse))]
    pub(super) valid_from: Option<Instant>,
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
            let coupons = catalog.list_coupons(ListCoupons {
                user_id: args.user,
                active: args.active,
                at: args.at,
                page: args.page,
                page_size: args.page_size,
            })?;
            return Ok(Output::Listing {
                columns: LIST_COLUMNS.to_vec(),
                scan: LIST_SCAN.to_vec(),
                rows: coupons.iter().map(coupon_record).collect(),
            });
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
        .field(
            "actor",
            Cell::opt(c.actor.as_ref(), |a| Cell::text(a.as_str())),
        )
        .field(
            "deactivated_at",
            Cell::opt(c.deactivated.as_ref(), |x| Cell::Time(x.at)),
        )
        .field(
            "deactivated_by",
            Cell::opt(c.deactivated.as_ref().and_then(|x| x.by.as_ref()), |a| {
                Cell::text(a.as_str())
            }),
        )
}
