//! The statements both backends run, written once. Markers are plain `?`,
//! bound in order; `change` is quoted with backticks, which both engines
//! take (it is a keyword in MySQL).

use super::Arg;
use crate::domain::{
    Actor, Coupon, Deactivation, Discount, Instant, Percentage, Product, ProductChange, StockEvent,
    Window,
};

/// The columns [`decode::product`](crate::adapters::persistence::decode::product) reads.
pub const PRODUCT_COLUMNS: &str =
    "p.id, p.name, p.description, p.price_cents, p.created_at, p.updated_at, p.archived_at, p.actor";

pub const EVENT_COLUMNS: &str =
    "id, product_id, `change`, total_after_change, version, reason, created_at, actor, reverts";

const DISCOUNT_FIELDS: &str = "id, product_id, percentage_bp, valid_from, valid_to, is_active, \
     created_at, actor, deactivated_at, deactivated_by, replaced_by";

const COUPON_FIELDS: &str = "id, user_id, code, percentage_bp, valid_from, valid_to, is_active, \
     created_at, actor, deactivated_at, deactivated_by";

pub const CHANGE_COLUMNS: &str = "product_id, kind, changed_at, actor, old_name, new_name, \
     old_description, new_description, old_price_cents, new_price_cents";

/// The columns of `fields` as read from the table named `alias`.
fn qualified(alias: &str, fields: &str) -> String {
    fields
        .split(", ")
        .map(|f| format!("{alias}.{f}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn event_columns(alias: &str) -> String {
    qualified(alias, EVENT_COLUMNS)
}

pub fn discount_columns(alias: &str) -> String {
    qualified(alias, DISCOUNT_FIELDS)
}

pub fn coupon_columns(alias: &str) -> String {
    qualified(alias, COUPON_FIELDS)
}

/// The product's stock at the instant bound here: its latest ledger row
/// recorded at or before then (asked for now, the first step back on the
/// unique (product_id, version) index is it), or 0 before its first row
/// (a product recorded later, which listings skip and `product show`
/// refuses).
const STOCK_AT: &str = "COALESCE((SELECT e.total_after_change FROM stock_events e
                       WHERE e.product_id = p.id AND e.created_at <= ?
                       ORDER BY e.version DESC LIMIT 1), 0)";

/// The price of product `p` in force at the instant bound three times here.
/// A product not changed since then has its current price (the common case:
/// no lookup); otherwise the last price set at or before it, else the price
/// the first later change replaced, else the current price.
const PRICE_AT: &str = "CASE WHEN p.updated_at <= ? THEN p.price_cents ELSE COALESCE(
      (SELECT c.new_price_cents FROM product_changes c
        WHERE c.product_id = p.id AND c.new_price_cents IS NOT NULL AND c.changed_at <= ?
        ORDER BY c.changed_at DESC, c.seq DESC LIMIT 1),
      (SELECT c.old_price_cents FROM product_changes c
        WHERE c.product_id = p.id AND c.old_price_cents IS NOT NULL AND c.changed_at > ?
        ORDER BY c.changed_at, c.seq LIMIT 1),
      p.price_cents) END";

/// The discounts that qualify at the instant bound four times here: recorded
/// by then (one set later, even with a window reaching back, never changes
/// an answer for a past moment), inside their window and on then (active,
/// or deactivated after it). Setting a discount cuts or cancels, from the
/// later of its start and the moment it is set, every one whose window
/// overlaps it, so of the discounts set before that instant at most one
/// qualifies; the earliest qualifying one applies (see
/// [`decode::first_per_product`](crate::adapters::persistence::decode::first_per_product)),
/// so a discount set later with a window reaching back does not displace
/// it. A plain join on the (product_id, seq) index, not a subquery per
/// product: as cheap as looking up the active discount alone.
const DISCOUNT_AT_JOIN: &str = "LEFT JOIN discounts d
    ON d.product_id = p.id AND d.valid_from <= ? AND d.valid_to > ?
   AND (d.is_active = 1 OR d.deactivated_at > ?) AND d.created_at <= ?";

/// Discounts or coupons recorded by and on at the instant bound four times
/// here.
pub const ON_AT: &str = "(is_active = 1 OR deactivated_at > ?) AND valid_from <= ? \
     AND valid_to > ? AND created_at <= ?";

/// How many times [`ON_AT`] binds its instant.
pub const ON_AT_BINDS: usize = 4;

/// Listing rows (see [`decode::listing_row`](crate::adapters::persistence::decode::listing_row))
/// of the products `from` and `filter` keep that were recorded by the
/// instant, in position order, every qualifying discount joined. Binds the
/// instant four times, then `from`'s arguments, the instant four times
/// again, then `filter`'s, then the instant once more.
pub fn listing(from: &str, filter: &str) -> String {
    format!(
        "SELECT {PRODUCT_COLUMNS}, {STOCK_AT}, {}, p.seq, {PRICE_AT}, d.seq
           FROM {from}
           {DISCOUNT_AT_JOIN}
          WHERE ({filter}) AND p.created_at <= ?
          ORDER BY p.seq",
        discount_columns("d")
    )
}

/// The arguments of [`listing`] around `from`'s and `filter`'s.
pub fn listing_args<'a>(at: Instant, from: Vec<Arg<'a>>, filter: Vec<Arg<'a>>) -> Vec<Arg<'a>> {
    let mut args: Vec<Arg> = vec![at.into(); 4];
    args.extend(from);
    args.extend([at.into(), at.into(), at.into(), at.into()]);
    args.extend(filter);
    args.push(at.into());
    args
}

/// One product with its stock, price and discount at an instant, and a
/// customer's best coupon then (none when no customer is given: `user_id =
/// NULL` matches nothing), all as recorded by that instant. Binds the
/// instant eight times, the customer, the instant four times, then the
/// product's id.
pub fn details() -> String {
    format!(
        "SELECT {PRODUCT_COLUMNS}, {STOCK_AT}, {PRICE_AT}, {}, {}
           FROM products p
           {DISCOUNT_AT_JOIN}
           LEFT JOIN coupons c
             ON c.seq = (SELECT b.seq FROM coupons b
                          WHERE b.user_id = ? AND (b.is_active = 1 OR b.deactivated_at > ?)
                            AND b.valid_from <= ? AND b.valid_to > ? AND b.created_at <= ?
                          ORDER BY b.percentage_bp DESC, b.valid_to ASC, b.seq ASC LIMIT 1)
          WHERE p.id = ?
          ORDER BY d.seq LIMIT 1",
        discount_columns("d"),
        coupon_columns("c"),
    )
}

/// An INSERT whose values come from the `*_args` functions below, for one
/// row or many: one multi-row INSERT is one round trip.
/// The table and its columns.
pub struct Insert(&'static str, &'static str);

impl Insert {
    pub fn sql(&self, rows: usize) -> String {
        let Insert(table, columns) = self;
        let row = format!("({})", markers(columns.split(", ").count()));
        format!(
            "INSERT INTO {table} ({columns}) VALUES {}",
            vec![row; rows].join(", ")
        )
    }
}

const PRODUCT_FIELDS: &str = "seq, id, name, name_folded, description, price_cents, created_at, \
     updated_at, archived_at, actor";

const COUPON_INSERT_FIELDS: &str = "id, user_id, code, code_key, percentage_bp, valid_from, \
     valid_to, is_active, created_at, actor, deactivated_at, deactivated_by";

pub const PRODUCT_INSERT: Insert = Insert("products", PRODUCT_FIELDS);
pub const EVENT_INSERT: Insert = Insert("stock_events", EVENT_COLUMNS);
pub const DISCOUNT_INSERT: Insert = Insert("discounts", DISCOUNT_FIELDS);
pub const COUPON_INSERT: Insert = Insert("coupons", COUPON_INSERT_FIELDS);
pub const CHANGE_INSERT: Insert = Insert("product_changes", CHANGE_COLUMNS);

fn actor(actor: &Option<Actor>) -> Arg<'_> {
    actor.as_ref().map(Actor::as_str).into()
}

pub fn product_args(position: i64, p: &Product) -> [Arg<'_>; 10] {
    [
        position.into(),
        p.id.as_str().into(),
        p.name.as_str().into(),
        p.name.folded().into(),
        p.description.as_str().into(),
        p.price.cents().into(),
        p.created_at.into(),
        p.updated_at.into(),
        p.archived_at.into(),
        actor(&p.actor),
    ]
}

pub fn event_args(e: &StockEvent) -> [Arg<'_>; 9] {
    [
        e.id.as_str().into(),
        e.product_id.as_str().into(),
        e.change.into(),
        e.total_after_change.into(),
        e.version.into(),
        e.reason.as_ref().map(|r| r.as_str()).into(),
        e.created_at.into(),
        actor(&e.actor),
        e.reverts.as_ref().map(|id| id.as_str()).into(),
    ]
}

/// What discounts and coupons share, from the percentage on.
fn terms<'a>(
    percentage: Percentage,
    window: &Window,
    is_active: bool,
    created_at: Instant,
    by: &'a Option<Actor>,
    deactivated: &'a Option<Deactivation>,
) -> [Arg<'a>; 8] {
    [
        percentage.basis_points().into(),
        window.from().into(),
        window.until().into(),
        is_active.into(),
        created_at.into(),
        actor(by),
        deactivated.as_ref().map(|x| x.at).into(),
        deactivated.as_ref().map_or(Arg::Null, |x| actor(&x.by)),
    ]
}

pub fn discount_args(d: &Discount) -> Vec<Arg<'_>> {
    let head = [d.id.as_str().into(), d.product_id.as_str().into()];
    let tail = terms(
        d.percentage,
        &d.window,
        d.is_active,
        d.created_at,
        &d.actor,
        &d.deactivated,
    );
    head.into_iter()
        .chain(tail)
        .chain([d.replaced_by.as_ref().map(|r| r.as_str()).into()])
        .collect()
}

pub fn coupon_args(c: &Coupon) -> Vec<Arg<'_>> {
    let head = [
        c.id.as_str().into(),
        c.user_id.as_str().into(),
        c.code.as_str().into(),
        c.code.key().into(),
    ];
    let tail = terms(
        c.percentage,
        &c.window,
        c.is_active,
        c.created_at,
        &c.actor,
        &c.deactivated,
    );
    head.into_iter().chain(tail).collect()
}

/// A recorded change; a creation is the product row itself.
pub fn change_args(change: &ProductChange) -> [Arg<'_>; 10] {
    [
        change.product_id.as_str().into(),
        change.kind.as_str().into(),
        change.at.into(),
        actor(&change.actor),
        change
            .name
            .as_ref()
            .and_then(|e| e.old.as_ref())
            .map(|n| n.as_str())
            .into(),
        change.name.as_ref().map(|e| e.new.as_str()).into(),
        change
            .description
            .as_ref()
            .and_then(|e| e.old.as_ref())
            .map(|d| d.as_str())
            .into(),
        change.description.as_ref().map(|e| e.new.as_str()).into(),
        change
            .price
            .as_ref()
            .and_then(|e| e.old)
            .map(|m| m.cents())
            .into(),
        change.price.as_ref().map(|e| e.new.cents()).into(),
    ]
}

/// Records an applied migration: version, name, checksum, when.
pub const RECORD_MIGRATION: &str =
    "INSERT INTO milly_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)";

/// The applied migrations with their checksums, oldest first.
pub const RECORDED_MIGRATIONS: &str =
    "SELECT version, checksum FROM milly_migrations ORDER BY version";

/// `n` markers, for an `IN (…)` list.
pub fn markers(n: usize) -> String {
    vec!["?"; n].join(", ")
}
