//! What milly prints, one view per thing it prints, in every format: the
//! field names here are the public ones (README, scripts). A command that
//! shows less of a thing leaves fields out (`None` at the outer level),
//! but never names a field differently; a field shown empty is `null`.
//!
//! Views are read into records by [`Record::of`], which keeps each value's
//! kind; they are not meant for `serde_json` directly (money goes through
//! as cents).

use serde::{Serialize, Serializer};

use super::record::{mark, Record};
use super::table::short_time;
use crate::app::ports::{ImportCounts as StoreImportCounts, MigrationState, StoreStatus};
use crate::app::usecases::{
    Archived, CreatedProduct, DiscountSet, ImportedRow as CreatedRow, LedgerSummary,
    ProductSummary, ProductView, StockAdjusted as Adjusted, StockImportCounts as StockCounts,
    StockReverted as Reverted,
};
use crate::domain::{self, Actor, Instant, Money, Percentage};

/// Money: exact decimals in JSON, two decimals in tables and CSV.
pub struct Amount(pub Money);

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct(mark::MONEY, &self.0.cents())
    }
}

/// A percentage, exact like money.
pub struct Pct(pub Percentage);

impl Serialize for Pct {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct(mark::PERCENT, &self.0.basis_points())
    }
}

/// A time: every microsecond for scripts, to the second in tables.
pub struct At(pub Instant);

impl Serialize for At {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct(mark::TIME, &self.0.as_datetime().timestamp_micros())
    }
}

/// Steps of an explanation: a line of text each in tables, an object each
/// in JSON.
pub struct Steps<'a>(Vec<(String, Step<'a>)>);

impl Serialize for Steps<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct(mark::STEPS, &self.0)
    }
}

fn actor(actor: &Option<Actor>) -> Option<&str> {
    actor.as_ref().map(Actor::as_str)
}

/// A product, with what the command knows of it: its stock, its price at
/// a moment, its discount and a customer's coupon.
#[derive(Serialize)]
pub struct Product<'a> {
    id: &'a str,
    name: &'a str,
    description: &'a str,
    /// The price in force at the moment the product is priced.
    price: Amount,
    #[serde(skip_serializing_if = "Option::is_none")]
    stock_count: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    discount_id: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    discount_percentage: Option<Option<Pct>>,
    /// The product discount's amount in a list, where no coupon applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    discount_amount: Option<Amount>,
    /// The same amount beside a coupon's, in `product show`.
    #[serde(skip_serializing_if = "Option::is_none")]
    product_discount_amount: Option<Amount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    coupon_id: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    coupon_code: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    coupon_percentage: Option<Option<Pct>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    coupon_discount_amount: Option<Amount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    final_price: Option<Amount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    priced_at: Option<At>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_archived: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    archived_at: Option<Option<At>>,
    created_at: At,
    updated_at: At,
    /// Whether archiving or unarchiving changed anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    changed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    explain: Option<Steps<'a>>,
}

impl<'a> Product<'a> {
    fn base(p: &'a domain::Product, price: Money) -> Self {
        Product {
            id: p.id.as_str(),
            name: p.name.as_str(),
            description: p.description.as_str(),
            price: Amount(price),
            stock_count: None,
            discount_id: None,
            discount_percentage: None,
            discount_amount: None,
            product_discount_amount: None,
            coupon_id: None,
            coupon_code: None,
            coupon_percentage: None,
            coupon_discount_amount: None,
            final_price: None,
            priced_at: None,
            is_archived: None,
            archived_at: None,
            created_at: At(p.created_at),
            updated_at: At(p.updated_at),
            changed: None,
            explain: None,
        }
    }

    /// `product create`.
    pub fn created(c: &'a CreatedProduct) -> Self {
        Product {
            stock_count: Some(c.stock),
            ..Product::base(&c.product, c.product.price)
        }
    }

    /// A row of `product list`.
    pub fn listed(s: &'a ProductSummary) -> Self {
        let discount = s.discount.as_ref();
        Product {
            stock_count: Some(s.stock),
            discount_id: Some(discount.map(|d| d.id.as_str())),
            discount_percentage: Some(discount.map(|d| Pct(d.percentage))),
            discount_amount: Some(Amount(s.pricing.product_discount)),
            final_price: Some(Amount(s.pricing.final_price)),
            is_archived: Some(s.product.is_archived()),
            ..Product::base(&s.product, s.price)
        }
    }

    /// `product show`, with the pricing steps if asked.
    pub fn priced(v: &'a ProductView, explain: bool) -> Self {
        let discount = v.discount.as_ref();
        let coupon = v.coupon.as_ref();
        Product {
            stock_count: Some(v.stock),
            discount_id: Some(discount.map(|d| d.id.as_str())),
            discount_percentage: Some(discount.map(|d| Pct(d.percentage))),
            product_discount_amount: Some(Amount(v.pricing.product_discount)),
            coupon_id: Some(coupon.map(|c| c.id.as_str())),
            coupon_code: Some(coupon.map(|c| c.code.as_str())),
            coupon_percentage: Some(coupon.map(|c| Pct(c.percentage))),
            coupon_discount_amount: Some(Amount(v.pricing.coupon_discount)),
            final_price: Some(Amount(v.pricing.final_price)),
            priced_at: Some(At(v.at)),
            is_archived: Some(v.product.is_archived()),
            archived_at: Some(v.product.archived_at.map(At)),
            explain: explain.then(|| explanation(v)),
            ..Product::base(&v.product, v.pricing.price)
        }
    }

    /// A product as it is stored (`product update`): today's price,
    /// archived or not.
    pub fn stored(p: &'a domain::Product) -> Self {
        Product {
            is_archived: Some(p.is_archived()),
            archived_at: Some(p.archived_at.map(At)),
            ..Product::base(p, p.price)
        }
    }

    /// `product archive` and `unarchive`.
    pub fn archived(a: &'a Archived) -> Self {
        Product {
            changed: Some(a.changed),
            ..Product::stored(&a.product)
        }
    }
}

/// Every column of `product list`, in order.
pub const PRODUCT_LIST: &[&str] = &[
    "id",
    "name",
    "description",
    "price",
    "stock_count",
    "discount_id",
    "discount_percentage",
    "discount_amount",
    "final_price",
    "is_archived",
    "created_at",
    "updated_at",
];

/// The columns of the default product table: what an operator scans.
pub const PRODUCT_SCAN: &[&str] = &[
    "id",
    "name",
    "price",
    "stock_count",
    "discount_percentage",
    "final_price",
];

/// One step of `product show --explain`.
#[derive(Serialize)]
pub struct Step<'a> {
    step: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    discount_id: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    coupon_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    coupon_code: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    percentage: Option<Pct>,
    #[serde(skip_serializing_if = "Option::is_none")]
    valid_from: Option<At>,
    #[serde(skip_serializing_if = "Option::is_none")]
    valid_to: Option<At>,
    amount: Amount,
    #[serde(skip_serializing_if = "Option::is_none")]
    at: Option<At>,
}

impl Step<'_> {
    fn new(step: &'static str, amount: Money) -> Self {
        Step {
            step,
            discount_id: None,
            coupon_id: None,
            coupon_code: None,
            user_id: None,
            percentage: None,
            valid_from: None,
            valid_to: None,
            amount: Amount(amount),
            at: None,
        }
    }
}

/// How the final price was reached, step by step.
fn explanation(v: &ProductView) -> Steps<'_> {
    let p = &v.pricing;
    let mut steps = vec![(
        format!("list price {} (in force at {})", p.price, short_time(v.at)),
        Step {
            at: Some(At(v.at)),
            ..Step::new("list_price", p.price)
        },
    )];
    steps.push(match v.discount.as_ref().filter(|d| d.applies_at(v.at)) {
        Some(d) => (
            format!(
                "product discount {} of {}% (valid {} to {}): -{}",
                d.id,
                d.percentage,
                short_time(d.window.from()),
                short_time(d.window.until()),
                p.product_discount
            ),
            Step {
                discount_id: Some(Some(d.id.as_str())),
                percentage: Some(Pct(d.percentage)),
                valid_from: Some(At(d.window.from())),
                valid_to: Some(At(d.window.until())),
                ..Step::new("product_discount", p.product_discount)
            },
        ),
        None => (
            "no product discount applied".to_owned(),
            Step {
                discount_id: Some(None),
                ..Step::new("product_discount", p.product_discount)
            },
        ),
    });
    steps.push(match v.coupon.as_ref().filter(|c| c.applies_at(v.at)) {
        Some(c) => (
            format!(
                "coupon {} of {}% for customer {} on {}: -{}",
                c.code,
                c.percentage,
                c.user_id,
                p.price.saturating_sub(p.product_discount),
                p.coupon_discount
            ),
            Step {
                coupon_id: Some(c.id.as_str()),
                coupon_code: Some(Some(c.code.as_str())),
                user_id: Some(c.user_id.as_str()),
                percentage: Some(Pct(c.percentage)),
                ..Step::new("coupon", p.coupon_discount)
            },
        ),
        None => (
            "no coupon applied".to_owned(),
            Step {
                coupon_code: Some(None),
                ..Step::new("coupon", p.coupon_discount)
            },
        ),
    });
    steps.push((
        format!("final price {}", p.final_price),
        Step::new("final_price", p.final_price),
    ));
    Steps(steps)
}

/// One field a change set, or an archiving (`product history`).
#[derive(Serialize)]
pub struct ProductChange<'a> {
    product_id: &'a str,
    at: At,
    actor: Option<&'a str>,
    action: &'static str,
    field: Option<&'static str>,
    old_value: Option<Value<'a>>,
    new_value: Option<Value<'a>>,
}

/// A value a change set: text, or a price.
#[derive(Serialize)]
#[serde(untagged)]
enum Value<'a> {
    Text(&'a str),
    Money(Amount),
}

impl<'a> ProductChange<'a> {
    /// One row per field the change set (old and new value), or one row
    /// for an archiving or unarchiving.
    pub fn rows(change: &'a domain::ProductChange) -> Vec<Self> {
        let row = |field, old_value, new_value| ProductChange {
            product_id: change.product_id.as_str(),
            at: At(change.at),
            actor: actor(&change.actor),
            action: change.kind.as_str(),
            field,
            old_value,
            new_value,
        };
        let mut rows = Vec::new();
        if let Some(e) = &change.name {
            rows.push(row(
                Some("name"),
                e.old.as_ref().map(|v| Value::Text(v.as_str())),
                Some(Value::Text(e.new.as_str())),
            ));
        }
        if let Some(e) = &change.description {
            rows.push(row(
                Some("description"),
                e.old.as_ref().map(|v| Value::Text(v.as_str())),
                Some(Value::Text(e.new.as_str())),
            ));
        }
        if let Some(e) = &change.price {
            rows.push(row(
                Some("price"),
                e.old.map(|v| Value::Money(Amount(v))),
                Some(Value::Money(Amount(e.new))),
            ));
        }
        if rows.is_empty() {
            rows.push(row(None, None, None));
        }
        rows
    }
}

pub const PRODUCT_HISTORY: &[&str] = &[
    "product_id",
    "at",
    "actor",
    "action",
    "field",
    "old_value",
    "new_value",
];

pub const PRODUCT_HISTORY_SCAN: &[&str] =
    &["at", "actor", "action", "field", "old_value", "new_value"];

/// A row of a stock ledger: in `stock history`, and (with the line it
/// came from and less of the rest) in `import stock`.
#[derive(Serialize)]
pub struct StockEvent<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u64>,
    id: &'a str,
    product_id: &'a str,
    version: i64,
    change: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_after_change: Option<i64>,
    /// `total_after_change` under the name the import's output has had.
    #[serde(skip_serializing_if = "Option::is_none")]
    new_stock_count: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<At>,
    #[serde(skip_serializing_if = "Option::is_none")]
    actor: Option<Option<&'a str>>,
    /// The row this one reverts (null for other changes).
    #[serde(skip_serializing_if = "Option::is_none")]
    reverts: Option<Option<&'a str>>,
}

impl<'a> StockEvent<'a> {
    /// A row of `stock history`.
    pub fn logged(e: &'a domain::StockEvent) -> Self {
        StockEvent {
            line: None,
            id: e.id.as_str(),
            product_id: e.product_id.as_str(),
            version: e.version,
            change: e.change,
            total_after_change: Some(e.total_after_change),
            new_stock_count: None,
            reason: Some(e.reason.as_ref().map(|r| r.as_str())),
            created_at: Some(At(e.created_at)),
            actor: Some(actor(&e.actor)),
            reverts: Some(e.reverts.as_ref().map(|id| id.as_str())),
        }
    }

    /// A row `import stock` applied, from line `line` of its input.
    pub fn imported(line: u64, e: &'a domain::StockEvent) -> Self {
        StockEvent {
            line: Some(line),
            total_after_change: None,
            new_stock_count: Some(e.total_after_change),
            reason: None,
            created_at: None,
            actor: None,
            reverts: None,
            ..StockEvent::logged(e)
        }
    }
}

pub const STOCK_HISTORY: &[&str] = &[
    "id",
    "product_id",
    "version",
    "change",
    "total_after_change",
    "reason",
    "created_at",
    "actor",
    "reverts",
];

pub const STOCK_IMPORTED: &[&str] = &[
    "line",
    "id",
    "product_id",
    "version",
    "change",
    "new_stock_count",
];

/// What `stock adjust` did: the new ledger row, led by the product and
/// the new count, which is what a script reads (the order is public).
#[derive(Serialize)]
pub struct StockAdjusted<'a> {
    product_id: &'a str,
    event_id: &'a str,
    change: i64,
    new_stock_count: i64,
    version: i64,
    reason: Option<&'a str>,
    created_at: At,
    actor: Option<&'a str>,
}

impl<'a> StockAdjusted<'a> {
    pub fn of(a: &'a Adjusted) -> Self {
        let e = &a.event;
        StockAdjusted {
            product_id: e.product_id.as_str(),
            event_id: e.id.as_str(),
            change: e.change,
            new_stock_count: e.total_after_change,
            version: e.version,
            reason: e.reason.as_ref().map(|r| r.as_str()),
            created_at: At(e.created_at),
            actor: actor(&e.actor),
        }
    }
}

/// What `stock revert` did: the new ledger row, shaped like `stock
/// adjust`'s, with the row it reverts.
#[derive(Serialize)]
pub struct StockReverted<'a> {
    product_id: &'a str,
    event_id: &'a str,
    reverts: &'a str,
    change: i64,
    new_stock_count: i64,
    version: i64,
    reason: Option<&'a str>,
    created_at: At,
    actor: Option<&'a str>,
}

impl<'a> StockReverted<'a> {
    pub fn of(r: &'a Reverted) -> Self {
        let e = &r.event;
        StockReverted {
            product_id: e.product_id.as_str(),
            event_id: e.id.as_str(),
            reverts: e.reverts.as_ref().map_or("", |id| id.as_str()),
            change: e.change,
            new_stock_count: e.total_after_change,
            version: e.version,
            reason: e.reason.as_ref().map(|r| r.as_str()),
            created_at: At(e.created_at),
            actor: actor(&e.actor),
        }
    }
}

/// A problem `stock verify` found.
#[derive(Serialize)]
pub struct LedgerProblem<'a> {
    product_id: &'a str,
    version: Option<i64>,
    problem: &'static str,
    detail: String,
}

impl<'a> LedgerProblem<'a> {
    pub fn of(p: &'a domain::LedgerProblem) -> Self {
        LedgerProblem {
            product_id: p.product_id.as_str(),
            version: p.version,
            problem: p.fault.code(),
            detail: p.fault.to_string(),
        }
    }
}

pub const LEDGER_PROBLEMS: &[&str] = &["product_id", "version", "problem", "detail"];

/// The verdict of a sound `stock verify`.
#[derive(Serialize)]
pub struct LedgersVerified {
    products_checked: u64,
    events_checked: u64,
    problems: u64,
}

impl LedgersVerified {
    pub fn of(s: &LedgerSummary) -> Self {
        LedgersVerified {
            products_checked: s.products_checked,
            events_checked: s.events_checked,
            problems: s.problems,
        }
    }
}

/// A product discount.
#[derive(Serialize)]
pub struct Discount<'a> {
    discount_id: &'a str,
    product_id: &'a str,
    percentage: Pct,
    valid_from: At,
    valid_to: At,
    is_active: bool,
    /// Its state now: scheduled, running, ended, replaced or cleared.
    status: &'static str,
    created_at: At,
    #[serde(skip_serializing_if = "Option::is_none")]
    actor: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deactivated_at: Option<Option<At>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deactivated_by: Option<Option<&'a str>>,
    /// The discount that cut this one short or cancelled it.
    #[serde(skip_serializing_if = "Option::is_none")]
    replaced_by: Option<Option<&'a str>>,
    /// The discount `discount set` replaced where the new window takes over.
    #[serde(skip_serializing_if = "Option::is_none")]
    replaced_discount_id: Option<Option<&'a str>>,
    /// Every discount `discount set` cut short or cancelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    replaced_discount_ids: Option<Vec<&'a str>>,
}

impl<'a> Discount<'a> {
    fn base(d: &'a domain::Discount, at: domain::Instant) -> Self {
        Discount {
            discount_id: d.id.as_str(),
            product_id: d.product_id.as_str(),
            percentage: Pct(d.percentage),
            valid_from: At(d.window.from()),
            valid_to: At(d.window.until()),
            is_active: d.is_active,
            status: d.status_at(at).name(),
            created_at: At(d.created_at),
            actor: None,
            deactivated_at: None,
            deactivated_by: None,
            replaced_by: None,
            replaced_discount_id: None,
            replaced_discount_ids: None,
        }
    }

    /// `discount set`, its status judged when it was set.
    pub fn set(s: &'a DiscountSet) -> Self {
        Discount {
            replaced_discount_id: Some(s.replaced.in_force().map(|id| id.as_str())),
            replaced_discount_ids: Some(
                s.replaced
                    .cut
                    .iter()
                    .chain(&s.replaced.cancelled)
                    .map(|id| id.as_str())
                    .collect(),
            ),
            ..Discount::base(&s.discount, s.discount.created_at)
        }
    }

    /// A row of `discount list`, its status judged at `at`.
    pub fn listed(d: &'a domain::Discount, at: domain::Instant) -> Self {
        Discount {
            actor: Some(actor(&d.actor)),
            deactivated_at: Some(d.deactivated.as_ref().map(|x| At(x.at))),
            deactivated_by: Some(d.deactivated.as_ref().and_then(|x| actor(&x.by))),
            replaced_by: Some(d.replaced_by.as_ref().map(|id| id.as_str())),
            ..Discount::base(d, at)
        }
    }
}

pub const DISCOUNT_LIST: &[&str] = &[
    "discount_id",
    "product_id",
    "percentage",
    "valid_from",
    "valid_to",
    "is_active",
    "status",
    "created_at",
    "actor",
    "deactivated_at",
    "deactivated_by",
    "replaced_by",
];

pub const DISCOUNT_SCAN: &[&str] = &[
    "discount_id",
    "product_id",
    "percentage",
    "valid_from",
    "valid_to",
    "status",
    "deactivated_at",
];

/// What `discount clear` switched off, if anything: the discount running
/// (else the first scheduled) as before, and all of them.
#[derive(Serialize)]
pub struct DiscountCleared<'a> {
    product_id: &'a str,
    deactivated_discount_id: Option<&'a str>,
    deactivated_discount_ids: Vec<&'a str>,
}

impl<'a> DiscountCleared<'a> {
    pub fn of(product: &'a domain::ProductId, cleared: &'a [domain::DiscountId]) -> Self {
        DiscountCleared {
            product_id: product.as_str(),
            deactivated_discount_id: cleared.first().map(|d| d.as_str()),
            deactivated_discount_ids: cleared.iter().map(|d| d.as_str()).collect(),
        }
    }
}

/// A customer's coupon, the same in every command.
#[derive(Serialize)]
pub struct Coupon<'a> {
    coupon_id: &'a str,
    user_id: &'a str,
    code: &'a str,
    discount_percentage: Pct,
    valid_from: At,
    valid_to: At,
    is_active: bool,
    /// Its state at the moment asked: scheduled, valid, expired or
    /// deactivated.
    status: &'static str,
    created_at: At,
    actor: Option<&'a str>,
    deactivated_at: Option<At>,
    deactivated_by: Option<&'a str>,
}

impl<'a> Coupon<'a> {
    /// The coupon, its status judged at `at`.
    pub fn of(c: &'a domain::Coupon, at: domain::Instant) -> Self {
        Coupon {
            coupon_id: c.id.as_str(),
            user_id: c.user_id.as_str(),
            code: c.code.as_str(),
            discount_percentage: Pct(c.percentage),
            valid_from: At(c.window.from()),
            valid_to: At(c.window.until()),
            is_active: c.is_active,
            status: c.status_at(at).name(),
            created_at: At(c.created_at),
            actor: actor(&c.actor),
            deactivated_at: c.deactivated.as_ref().map(|x| At(x.at)),
            deactivated_by: c.deactivated.as_ref().and_then(|x| actor(&x.by)),
        }
    }
}

pub const COUPON_LIST: &[&str] = &[
    "coupon_id",
    "user_id",
    "code",
    "discount_percentage",
    "valid_from",
    "valid_to",
    "is_active",
    "status",
    "created_at",
    "actor",
    "deactivated_at",
    "deactivated_by",
];

pub const COUPON_SCAN: &[&str] = &[
    "user_id",
    "code",
    "discount_percentage",
    "valid_from",
    "valid_to",
    "status",
];

/// A row an import created, by the line it came from.
#[derive(Serialize)]
pub struct ImportedRow<'a> {
    line: u64,
    id: &'a str,
    /// Coupons only: the code, given or drawn.
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<Option<&'a str>>,
}

impl<'a> ImportedRow<'a> {
    pub fn of(row: &'a CreatedRow, coupons: bool) -> Self {
        ImportedRow {
            line: row.line,
            id: &row.id,
            code: coupons.then_some(row.code.as_deref()),
        }
    }
}

pub const IMPORTED_ROWS: &[&str] = &["line", "id"];
pub const IMPORTED_COUPONS: &[&str] = &["line", "id", "code"];

/// What an import of products or coupons wrote, row counts by table.
#[derive(Serialize)]
pub struct ImportCounts {
    products: u64,
    stock_events: u64,
    discounts: u64,
    coupons: u64,
}

impl ImportCounts {
    pub fn of(c: &StoreImportCounts) -> Self {
        ImportCounts {
            products: c.products,
            stock_events: c.stock_events,
            discounts: c.discounts,
            coupons: c.coupons,
        }
    }
}

/// What `import stock` wrote: ledger rows, and the products they moved.
#[derive(Serialize)]
pub struct StockImportCounts {
    stock_events: u64,
    products: u64,
}

impl StockImportCounts {
    pub fn of(c: &StockCounts) -> Self {
        StockImportCounts {
            stock_events: c.stock_events,
            products: c.products,
        }
    }
}

/// `db status`.
#[derive(Serialize)]
pub struct DatabaseStatus<'a> {
    backend: &'static str,
    location: &'a str,
    /// The connection's TLS version or `none`; null for SQLite, which has
    /// no connection to protect.
    tls: Option<String>,
    schema_version: i64,
    supported_schema_version: i64,
    products: i64,
    stock_events: i64,
    discounts: i64,
    coupons: i64,
    pending: Vec<PendingMigration<'a>>,
    migrations: Vec<Migration<'a>>,
}

#[derive(Serialize)]
struct PendingMigration<'a> {
    version: i64,
    name: &'a str,
}

#[derive(Serialize)]
struct Migration<'a> {
    version: i64,
    name: &'a str,
    applied_at: Option<At>,
}

impl<'a> DatabaseStatus<'a> {
    pub fn of(s: &'a StoreStatus, tls: Option<String>) -> Self {
        let pending = |m: &&MigrationState| m.applied_at.is_none();
        DatabaseStatus {
            backend: s.backend,
            location: &s.location,
            tls,
            schema_version: s.schema_version,
            supported_schema_version: s.supported_version,
            products: s.products,
            stock_events: s.stock_events,
            discounts: s.discounts,
            coupons: s.coupons,
            pending: (s.migrations.iter().filter(pending))
                .map(|m| PendingMigration {
                    version: m.version,
                    name: &m.name,
                })
                .collect(),
            migrations: (s.migrations.iter())
                .map(|m| Migration {
                    version: m.version,
                    name: &m.name,
                    applied_at: m.applied_at.map(At),
                })
                .collect(),
        }
    }
}

/// `db migrate`.
#[derive(Serialize)]
pub struct Migrated<'a> {
    backend: &'static str,
    location: &'a str,
    applied: Vec<AppliedMigration>,
    schema_version: i64,
}

#[derive(Serialize)]
struct AppliedMigration {
    version: i64,
}

impl<'a> Migrated<'a> {
    /// `applied` were applied on opening (or would be, in a dry run);
    /// `schema_version` is where a real run leaves the schema.
    pub fn of(s: &'a StoreStatus, applied: &[i64], schema_version: i64) -> Self {
        Migrated {
            backend: s.backend,
            location: &s.location,
            applied: (applied.iter())
                .map(|&version| AppliedMigration { version })
                .collect(),
            schema_version,
        }
    }
}

/// `db prune-keys`.
#[derive(Serialize)]
pub struct KeysPruned {
    pruned_keys: u64,
}

impl KeysPruned {
    pub fn of(pruned_keys: u64) -> Self {
        KeysPruned { pruned_keys }
    }
}

/// The records of a list, each item through its view.
pub fn records<'a, T: 'a, V: Serialize>(
    items: impl IntoIterator<Item = &'a T>,
    view: impl Fn(&'a T) -> V,
) -> Vec<Record> {
    items
        .into_iter()
        .map(|item| Record::of(&view(item)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::cli::record::Cell;
    use crate::app::pricing::PriceBreakdown;
    use crate::domain::{
        ChangeKind, CouponCode, CouponId, CustomerId, Deactivation, Description, DiscountId, Edit,
        EventId, ProductId, ProductName, Reason, Window,
    };

    fn at(raw: &str) -> Instant {
        Instant::parse("at", raw).unwrap()
    }

    fn money(raw: &str) -> Money {
        Money::parse_price("price", raw).unwrap()
    }

    fn percent(raw: &str) -> Percentage {
        Percentage::parse("percent", raw).unwrap()
    }

    fn who() -> Option<Actor> {
        Some(Actor::parse("actor", "ops").unwrap())
    }

    const P: &str = "PROD01JD5Q3Z8X4N2M7K9P6R3T1V0W";

    fn product() -> domain::Product {
        domain::Product {
            id: ProductId::parse("id", P).unwrap(),
            name: ProductName::parse("name", "Tea").unwrap(),
            description: Description::parse("description", "").unwrap(),
            price: money("17.49"),
            created_at: at("2025-06-01T12:00:00.5Z"),
            updated_at: at("2025-06-02"),
            archived_at: None,
            actor: who(),
        }
    }

    fn window() -> Window {
        Window::new(at("2025-06-01"), at("2025-07-01"), "until").unwrap()
    }

    fn discount() -> domain::Discount {
        domain::Discount {
            id: DiscountId::parse("id", "DISC01JD5Q3Z8X4N2M7K9P6R3T1V0W").unwrap(),
            product_id: ProductId::parse("id", P).unwrap(),
            percentage: percent("12.5"),
            window: window(),
            is_active: false,
            created_at: at("2025-06-01"),
            actor: who(),
            deactivated: Some(Deactivation {
                at: at("2025-06-03"),
                by: None,
            }),
            replaced_by: None,
        }
    }

    fn coupon() -> domain::Coupon {
        domain::Coupon {
            id: CouponId::parse("id", "CPN01JD5Q3Z8X4N2M7K9P6R3T1V0W").unwrap(),
            user_id: CustomerId::parse("user", "42").unwrap(),
            code: CouponCode::parse("code", "WELCOME").unwrap(),
            percentage: percent("10"),
            window: window(),
            is_active: true,
            created_at: at("2025-06-01"),
            actor: None,
            deactivated: None,
        }
    }

    fn event() -> domain::StockEvent {
        domain::StockEvent {
            id: EventId::parse("id", "EVT01JD5Q3Z8X4N2M7K9P6R3T1V0W").unwrap(),
            product_id: ProductId::parse("id", P).unwrap(),
            change: -3,
            total_after_change: 97,
            version: 2,
            reason: Some(Reason::parse("reason", "sold").unwrap()),
            created_at: at("2025-06-01"),
            actor: who(),
            reverts: None,
        }
    }

    fn pricing() -> PriceBreakdown {
        PriceBreakdown {
            price: money("17.49"),
            product_discount: money("2.19"),
            coupon_discount: money("1.53"),
            final_price: money("13.77"),
        }
    }

    #[test]
    fn every_list_has_the_columns_of_its_view() {
        let summary = ProductSummary {
            product: product(),
            price: money("17.49"),
            stock: 100,
            discount: Some(discount()),
            pricing: pricing(),
        };
        let change = domain::ProductChange {
            product_id: ProductId::parse("id", P).unwrap(),
            kind: ChangeKind::Updated,
            at: at("2025-06-02"),
            actor: who(),
            name: None,
            description: None,
            price: Some(Edit {
                old: Some(money("17.49")),
                new: money("18"),
            }),
        };
        let problem = domain::LedgerProblem {
            product_id: ProductId::parse("id", P).unwrap(),
            version: Some(3),
            fault: domain::LedgerFault::VersionGap {
                expected: 3,
                found: 4,
            },
        };
        let created = CreatedRow {
            line: 2,
            id: "CPN01JD5Q3Z8X4N2M7K9P6R3T1V0W".into(),
            code: Some("WELCOME".into()),
        };
        let event = event();
        let lists: [(Record, &[&str]); 8] = [
            (Record::of(&Product::listed(&summary)), PRODUCT_LIST),
            (
                Record::of(&ProductChange::rows(&change).remove(0)),
                PRODUCT_HISTORY,
            ),
            (Record::of(&StockEvent::logged(&event)), STOCK_HISTORY),
            (Record::of(&StockEvent::imported(7, &event)), STOCK_IMPORTED),
            (Record::of(&LedgerProblem::of(&problem)), LEDGER_PROBLEMS),
            (
                Record::of(&Discount::listed(&discount(), at("2025-06-02"))),
                DISCOUNT_LIST,
            ),
            (
                Record::of(&Coupon::of(&coupon(), at("2025-06-02"))),
                COUPON_LIST,
            ),
            (
                Record::of(&ImportedRow::of(&created, true)),
                IMPORTED_COUPONS,
            ),
        ];
        for (record, columns) in lists {
            assert_eq!(record.names(), columns);
        }
        assert_eq!(
            Record::of(&ImportedRow::of(&created, false)).names(),
            IMPORTED_ROWS
        );
        for scan in [
            (PRODUCT_SCAN, PRODUCT_LIST),
            (PRODUCT_HISTORY_SCAN, PRODUCT_HISTORY),
            (DISCOUNT_SCAN, DISCOUNT_LIST),
            (COUPON_SCAN, COUPON_LIST),
        ] {
            assert!(scan.0.iter().all(|c| scan.1.contains(c)), "{scan:?}");
        }
    }

    /// The fields each command prints, in the order it has printed them.
    #[test]
    fn each_command_shows_its_fields_of_a_thing() {
        let product = product();
        let shown = ProductView {
            product: product.clone(),
            stock: 100,
            discount: Some(discount()),
            coupon: Some(coupon()),
            pricing: pricing(),
            at: at("2025-06-02"),
        };
        let created = CreatedProduct {
            product: product.clone(),
            stock: 5,
        };
        let archived = Archived {
            product: product.clone(),
            changed: true,
        };
        let names = |view: &dyn Fn() -> Record| view().names().join(" ");
        assert_eq!(
            names(&|| Record::of(&Product::created(&created))),
            "id name description price stock_count created_at updated_at"
        );
        assert_eq!(
            names(&|| Record::of(&Product::priced(&shown, true))),
            "id name description price stock_count discount_id discount_percentage \
             product_discount_amount coupon_id coupon_code coupon_percentage \
             coupon_discount_amount final_price priced_at is_archived archived_at created_at \
             updated_at explain"
        );
        assert_eq!(
            names(&|| Record::of(&Product::archived(&archived))),
            "id name description price is_archived archived_at created_at updated_at changed"
        );
        let set = DiscountSet {
            discount: discount(),
            replaced: Default::default(),
        };
        assert_eq!(
            names(&|| Record::of(&Discount::set(&set))),
            "discount_id product_id percentage valid_from valid_to is_active status created_at \
             replaced_discount_id replaced_discount_ids"
        );
        let adjusted = Adjusted {
            event: event(),
            attempts: 1,
        };
        assert_eq!(
            names(&|| Record::of(&StockAdjusted::of(&adjusted))),
            "product_id event_id change new_stock_count version reason created_at actor"
        );
        let mut revert = event();
        revert.reverts = Some(EventId::parse("id", "EVT01JD5Q3Z8X4N2M7K9P6R3T1V0X").unwrap());
        let reverted = Reverted {
            event: revert,
            attempts: 1,
        };
        assert_eq!(
            names(&|| Record::of(&StockReverted::of(&reverted))),
            "product_id event_id reverts change new_stock_count version reason created_at actor"
        );
    }

    #[test]
    fn values_keep_their_kind() {
        let record = Record::of(&Discount::listed(&discount(), at("2025-06-04")));
        let cell = |name: &str| {
            let (_, cell) = record.cells().iter().find(|(n, _)| *n == name).unwrap();
            cell.clone()
        };
        assert!(matches!(cell("percentage"), Cell::Percent(p) if p == percent("12.5")));
        assert!(matches!(cell("valid_from"), Cell::Time(t) if t == at("2025-06-01")));
        assert!(matches!(cell("deactivated_by"), Cell::Null));
        assert!(matches!(cell("is_active"), Cell::Bool(false)));
        let shown = ProductView {
            product: product(),
            stock: 100,
            discount: None,
            coupon: None,
            pricing: pricing(),
            at: at("2025-06-01T12:00:00.123456Z"),
        };
        let record = Record::of(&Product::priced(&shown, true));
        let find = |name: &str| {
            let (_, cell) = record.cells().iter().find(|(n, _)| *n == name).unwrap();
            cell.clone()
        };
        assert!(matches!(find("final_price"), Cell::Money(m) if m == money("13.77")));
        assert!(
            matches!(find("priced_at"), Cell::Time(t) if t == at("2025-06-01T12:00:00.123456Z"))
        );
        assert!(matches!(find("coupon_percentage"), Cell::Null));
        let Cell::Steps(steps) = find("explain") else {
            panic!("steps")
        };
        let lines: Vec<&str> = steps.iter().map(|(line, _)| line.as_str()).collect();
        assert_eq!(
            lines,
            [
                "list price 17.49 (in force at 2025-06-01T12:00:00Z)",
                "no product discount applied",
                "no coupon applied",
                "final price 13.77"
            ]
        );
        assert_eq!(
            serde_json::to_string(&steps[0].1).unwrap(),
            r#"{"step":"list_price","amount":17.49,"at":"2025-06-01T12:00:00.123456Z"}"#
        );
        assert_eq!(
            serde_json::to_string(&steps[2].1).unwrap(),
            r#"{"step":"coupon","coupon_code":null,"amount":1.53}"#
        );
    }
}
