//! The INSERT statements, shared by the single-row commands and the bulk
//! import, so both write exactly the same columns the same way.

use rusqlite::{params, CachedStatement, Connection};

use crate::domain::{Actor, Coupon, Discount, Instant, Product, StockEvent};

fn actor(actor: &Option<Actor>) -> Option<&str> {
    actor.as_ref().map(Actor::as_str)
}

/// The prepared inserts of one connection (or transaction). Preparing them
/// once per command keeps a bulk import from looking statements up per row.
pub struct Inserts<'c> {
    conn: &'c Connection,
    product: CachedStatement<'c>,
    event: CachedStatement<'c>,
    times: TimeText,
}

impl<'c> Inserts<'c> {
    pub fn prepare(conn: &'c Connection) -> rusqlite::Result<Self> {
        Ok(Inserts {
            conn,
            product: conn.prepare_cached(
                "INSERT INTO products (id, name, name_folded, description, price_cents, created_at, updated_at, archived_at, actor)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?,
            event: conn.prepare_cached(
                "INSERT INTO stock_events (id, product_id, change, total_after_change, version, reason, created_at, actor)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?,
            times: TimeText::default(),
        })
    }

    /// Inserts a product and indexes its name for `--name` searches.
    pub fn product(&mut self, product: &Product) -> rusqlite::Result<()> {
        self.product_row(product)?;
        self.conn
            .prepare_cached("INSERT INTO products_name_search (rowid, name_folded) VALUES (last_insert_rowid(), ?1)")?
            .execute([product.name.folded()])
            .map(drop)
    }

    /// Inserts the product row alone: the caller indexes its name (a bulk
    /// import does it for all new products in one pass).
    pub fn product_row(&mut self, product: &Product) -> rusqlite::Result<()> {
        let created_at = self.times.text(product.created_at).to_owned();
        let updated_at = self.times.text(product.updated_at);
        self.product
            .execute(params![
                product.id.as_str(),
                product.name.as_str(),
                product.name.folded(),
                product.description.as_str(),
                product.price.cents(),
                created_at,
                updated_at,
                product.archived_at.map(Instant::to_rfc3339),
                actor(&product.actor),
            ])
            .map(drop)
    }

    pub fn event(&mut self, event: &StockEvent) -> rusqlite::Result<()> {
        self.event
            .execute(params![
                event.id.as_str(),
                event.product_id.as_str(),
                event.change,
                event.total_after_change,
                event.version,
                event.reason.as_ref().map(|r| r.as_str()),
                self.times.text(event.created_at),
                actor(&event.actor),
            ])
            .map(drop)
    }

    pub fn discount(&mut self, discount: &Discount) -> rusqlite::Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO discounts (id, product_id, percentage_bp, valid_from, valid_to, is_active, created_at,
                                        actor, deactivated_at, deactivated_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                discount.id.as_str(),
                discount.product_id.as_str(),
                discount.percentage.basis_points(),
                discount.window.from().to_rfc3339(),
                discount.window.until().to_rfc3339(),
                discount.is_active,
                self.times.text(discount.created_at),
                actor(&discount.actor),
                discount.deactivated.as_ref().map(|d| d.at.to_rfc3339()),
                discount.deactivated.as_ref().and_then(|d| actor(&d.by)),
            ])
            .map(drop)
    }

    pub fn coupon(&mut self, coupon: &Coupon) -> rusqlite::Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO coupons (id, user_id, code, code_key, percentage_bp, valid_from, valid_to, is_active, created_at,
                                      actor, deactivated_at, deactivated_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![
                coupon.id.as_str(),
                coupon.user_id.as_str(),
                coupon.code.as_str(),
                coupon.code.key(),
                coupon.percentage.basis_points(),
                coupon.window.from().to_rfc3339(),
                coupon.window.until().to_rfc3339(),
                coupon.is_active,
                self.times.text(coupon.created_at),
                actor(&coupon.actor),
                coupon.deactivated.as_ref().map(|d| d.at.to_rfc3339()),
                coupon.deactivated.as_ref().and_then(|d| actor(&d.by)),
            ])
            .map(drop)
    }
}

/// The stored text of the last instant formatted: rows written by one
/// command share their creation time, so it is formatted once, not per row.
#[derive(Default)]
struct TimeText {
    last: Option<(Instant, String)>,
}

impl TimeText {
    fn text(&mut self, at: Instant) -> &str {
        if self.last.as_ref().map(|(i, _)| *i) != Some(at) {
            self.last = Some((at, at.to_rfc3339()));
        }
        self.last
            .as_ref()
            .map(|(_, text)| text.as_str())
            .unwrap_or_default()
    }
}
