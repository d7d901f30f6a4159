//! The catalog life-cycle on MySQL: updates, archiving, product history,
//! discount replacement and clearing with their deactivation times, and the
//! discount and coupon listings.
//!
//! A write to a product first locks its row (`SELECT … FOR UPDATE`), so what
//! it checks (the product exists, is not archived, still has the values
//! read) holds until it commits, and concurrent writers of one product take
//! turns instead of deadlocking.

use ::mysql::prelude::Queryable;
use ::mysql::{Conn, Row, Value};

use super::errors::Context;
use super::name_index;
use super::rows::{self, MysqlRow};
use super::{MysqlStore, COUPON_COLUMNS, DISCOUNT_COLUMNS, DISCOUNT_INSERT, EVENT_INSERT};
use crate::adapters::persistence::decode;
use crate::app::ports::{CouponQuery, DiscountQuery, StoreError};
use crate::domain::{
    Actor, ChangeKind, Coupon, CouponCode, Discount, DiscountId, Instant, Product, ProductChange,
    ProductId, StockEvent,
};

/// Coupons on at the instant bound three times here and inside their window.
const COUPON_ON_AT: &str =
    "(is_active = 1 OR deactivated_at > ?) AND valid_from <= ? AND valid_to > ?";

/// What a locked product row says about a write to it.
enum Locked {
    Missing,
    Archived,
    Writable,
}

/// Locks the product's row until the transaction ends.
fn lock_product(tx: &mut Conn, id: &ProductId) -> ::mysql::Result<Locked> {
    let archived: Option<i64> = tx.exec_first(
        "SELECT archived_at IS NOT NULL FROM products WHERE id = ? FOR UPDATE",
        (id.as_str(),),
    )?;
    Ok(match archived {
        None => Locked::Missing,
        Some(0) => Locked::Writable,
        Some(_) => Locked::Archived,
    })
}

fn refusal(state: Locked, id: &ProductId) -> Option<StoreError> {
    match state {
        Locked::Missing => Some(StoreError::ProductNotFound(id.to_string())),
        Locked::Archived => Some(StoreError::ProductArchived(id.to_string())),
        Locked::Writable => None,
    }
}

/// Switches off the product's active discount, if any, and returns its id.
fn deactivate_active(
    tx: &mut Conn,
    product_id: &ProductId,
    at: Instant,
    actor: Option<&Actor>,
) -> ::mysql::Result<Option<String>> {
    let active: Option<String> = tx.exec_first(
        "SELECT id FROM discounts WHERE active_product_id = ?",
        (product_id.as_str(),),
    )?;
    if active.is_some() {
        tx.exec_drop(
            "UPDATE discounts SET is_active = 0, deactivated_at = ?, deactivated_by = ?
              WHERE active_product_id = ?",
            (
                rows::datetime(at),
                actor.map(Actor::as_str),
                product_id.as_str(),
            ),
        )?;
    }
    Ok(active)
}

fn discount_id(raw: Option<String>) -> Result<Option<DiscountId>, StoreError> {
    raw.map(|raw| {
        DiscountId::parse("stored id", &raw)
            .map_err(|e| StoreError::Internal(format!("unreadable stored discount id: {e}")))
    })
    .transpose()
}

fn change_values(change: &ProductChange) -> Result<Vec<Value>, StoreError> {
    let kind = match change.kind {
        ChangeKind::Created => {
            return Err(StoreError::Internal(
                "a creation is the product row itself, not a recorded change".into(),
            ))
        }
        kind => kind.as_str(),
    };
    Ok(vec![
        change.product_id.as_str().into(),
        kind.into(),
        rows::datetime(change.at),
        rows::actor(&change.actor),
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
    ])
}

const CHANGE_INSERT: &str = "INSERT INTO product_changes
    (product_id, kind, changed_at, actor, old_name, new_name,
     old_description, new_description, old_price_cents, new_price_cents)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

impl MysqlStore {
    /// Whether any product is archived: one probe of the archived_at index.
    pub(super) fn any_archived(&self) -> Result<bool, StoreError> {
        let found: Option<i64> = self
            .conn
            .borrow_mut()
            .query_first("SELECT EXISTS (SELECT 1 FROM products WHERE archived_at IS NOT NULL)")
            .map_err(self.err(Context::Read))?;
        Ok(found == Some(1))
    }

    /// The product row is read with a shared lock, then the event is a
    /// plain INSERT: the unique (product_id, version) index decides the race
    /// between adjusters (shared locks do not block each other), and
    /// archiving, which needs the row exclusively, waits for the append or
    /// goes first. Not an INSERT … SELECT: InnoDB gives that statement the
    /// table's AUTO-INC lock for its whole run, so an append waiting behind
    /// a stock import's row locks would stall that import's own inserts
    /// until the lock timeout (error 1467).
    pub(super) fn append_unless_archived(&self, event: &StockEvent) -> Result<(), StoreError> {
        let id = event.product_id.as_str();
        let write = |tx: &mut Conn| -> ::mysql::Result<Option<bool>> {
            let archived: Option<bool> = tx.exec_first(
                "SELECT archived_at IS NOT NULL FROM products WHERE id = ? LOCK IN SHARE MODE",
                (id,),
            )?;
            if archived == Some(false) {
                tx.exec_drop(EVENT_INSERT.sql(1), rows::event_values(event))?;
            }
            Ok(archived)
        };
        match self.write(Context::AppendEvent(id), write)? {
            Some(false) => Ok(()),
            Some(true) => Err(StoreError::ProductArchived(id.to_owned())),
            None => Err(StoreError::ProductNotFound(id.to_owned())),
        }
    }

    pub(super) fn replace_discount_recorded(
        &self,
        discount: &Discount,
    ) -> Result<Option<DiscountId>, StoreError> {
        let product_id = &discount.product_id;
        let write = |tx: &mut Conn| -> ::mysql::Result<Result<Option<String>, StoreError>> {
            // Locking the product row makes concurrent `discount set` for
            // one product take turns instead of colliding on the one-active
            // index, and tells a missing or archived product apart directly.
            if let Some(refused) = refusal(lock_product(tx, product_id)?, product_id) {
                return Ok(Err(refused));
            }
            let replaced =
                deactivate_active(tx, product_id, discount.created_at, discount.actor.as_ref())?;
            tx.exec_drop(DISCOUNT_INSERT.sql(1), rows::discount_values(discount))?;
            Ok(Ok(replaced))
        };
        discount_id(self.write(Context::WriteForProduct(product_id.as_str()), write)??)
    }

    pub(super) fn clear_discount_recorded(
        &self,
        product_id: &ProductId,
        at: Instant,
        actor: Option<&Actor>,
    ) -> Result<Option<DiscountId>, StoreError> {
        let write = |tx: &mut Conn| -> ::mysql::Result<Result<Option<String>, StoreError>> {
            if let Some(refused) = refusal(lock_product(tx, product_id)?, product_id) {
                return Ok(Err(refused));
            }
            let cleared = deactivate_active(tx, product_id, at, actor)?;
            Ok(Ok(cleared))
        };
        discount_id(self.write(Context::WriteForProduct(product_id.as_str()), write)??)
    }

    pub(super) fn deactivate_coupon_recorded(
        &self,
        code: &CouponCode,
        at: Instant,
        actor: Option<&Actor>,
    ) -> Result<Option<Coupon>, StoreError> {
        let write = |tx: &mut Conn| -> ::mysql::Result<Option<Row>> {
            tx.exec_drop(
                "UPDATE coupons SET is_active = 0, deactivated_at = ?, deactivated_by = ?
                  WHERE code_key = ? AND is_active = 1",
                (rows::datetime(at), actor.map(Actor::as_str), code.key()),
            )?;
            let found = tx.exec_first(
                format!("SELECT {COUPON_COLUMNS} FROM coupons WHERE code_key = ?"),
                (code.key(),),
            )?;
            Ok(found)
        };
        self.write(Context::Write, write)?
            .map(|r| decode::coupon(&MysqlRow(&r), 0))
            .transpose()
    }

    pub(super) fn update_product_recorded(
        &self,
        before: &Product,
        after: &Product,
        change: &ProductChange,
    ) -> Result<(), StoreError> {
        let values = change_values(change)?;
        let id = &before.id;
        let write = |tx: &mut Conn| -> ::mysql::Result<Result<(), StoreError>> {
            let current: Option<(i64, String, String, i64, i64)> = tx.exec_first(
                "SELECT seq, name, description, price_cents, archived_at IS NOT NULL
                   FROM products WHERE id = ? FOR UPDATE",
                (id.as_str(),),
            )?;
            let Some((position, name, description, price, archived)) = current else {
                return Ok(Err(StoreError::ProductNotFound(id.to_string())));
            };
            if archived != 0 {
                return Ok(Err(StoreError::ProductArchived(id.to_string())));
            }
            if name != before.name.as_str()
                || description != before.description.as_str()
                || price != before.price.cents()
            {
                return Ok(Err(StoreError::Conflict(format!(
                    "product {id} changed since it was read"
                ))));
            }
            tx.exec_drop(
                "UPDATE products
                    SET name = ?, name_folded = ?, description = ?, price_cents = ?, updated_at = ?
                  WHERE id = ?",
                (
                    after.name.as_str(),
                    after.name.folded(),
                    after.description.as_str(),
                    after.price.cents(),
                    rows::datetime(after.updated_at),
                    id.as_str(),
                ),
            )?;
            if after.name != before.name {
                name_index::index_name(tx, position, &after.name.folded())?;
            }
            tx.exec_drop(CHANGE_INSERT, values.clone())?;
            Ok(Ok(()))
        };
        self.write(Context::WriteForProduct(id.as_str()), write)?
    }

    pub(super) fn set_archived_recorded(&self, change: &ProductChange) -> Result<bool, StoreError> {
        let archive = match change.kind {
            ChangeKind::Archived => true,
            ChangeKind::Unarchived => false,
            other => {
                return Err(StoreError::Internal(format!(
                    "set_archived was given a change of kind {}",
                    other.as_str()
                )))
            }
        };
        let values = change_values(change)?;
        let id = &change.product_id;
        let write = |tx: &mut Conn| -> ::mysql::Result<Result<bool, StoreError>> {
            let is_archived = match lock_product(tx, id)? {
                Locked::Missing => return Ok(Err(StoreError::ProductNotFound(id.to_string()))),
                Locked::Archived => true,
                Locked::Writable => false,
            };
            if is_archived == archive {
                return Ok(Ok(false));
            }
            let at = rows::datetime(change.at);
            let archived_at = if archive { at.clone() } else { Value::NULL };
            tx.exec_drop(
                "UPDATE products SET archived_at = ?, updated_at = ? WHERE id = ?",
                (archived_at, at, id.as_str()),
            )?;
            tx.exec_drop(CHANGE_INSERT, values.clone())?;
            Ok(Ok(true))
        };
        self.write(Context::WriteForProduct(id.as_str()), write)?
    }

    pub(super) fn read_product_changes(
        &self,
        id: &ProductId,
    ) -> Result<Vec<ProductChange>, StoreError> {
        let found: Vec<Row> = self
            .conn
            .borrow_mut()
            .exec(
                "SELECT product_id, kind, changed_at, actor, old_name, new_name,
                        old_description, new_description, old_price_cents, new_price_cents
                   FROM product_changes WHERE product_id = ? ORDER BY seq",
                (id.as_str(),),
            )
            .map_err(self.err(Context::Read))?;
        found
            .iter()
            .map(|r| decode::product_change(&MysqlRow(r), 0))
            .collect()
    }

    pub(super) fn read_discounts(
        &self,
        query: &DiscountQuery,
    ) -> Result<Vec<Discount>, StoreError> {
        self.read_page(
            &format!("SELECT {DISCOUNT_COLUMNS} FROM discounts"),
            query
                .product_id
                .as_ref()
                .map(|p| ("product_id", p.as_str())),
            query.active_at,
            [query.limit.into(), query.offset.into()],
            |r, i| decode::discount(r, i),
        )
    }

    pub(super) fn read_coupons(&self, query: &CouponQuery) -> Result<Vec<Coupon>, StoreError> {
        self.read_page(
            &format!("SELECT {COUPON_COLUMNS} FROM coupons"),
            query.user_id.as_ref().map(|u| ("user_id", u.as_str())),
            query.active_at,
            [query.limit.into(), query.offset.into()],
            |r, i| decode::coupon(r, i),
        )
    }

    /// One page of discounts or coupons in creation order: only those whose
    /// `owner` column has the given value, and only those switched on at
    /// `active_at`, when given. `page` is LIMIT and OFFSET.
    fn read_page<T>(
        &self,
        select: &str,
        owner: Option<(&str, &str)>,
        active_at: Option<Instant>,
        page: [Value; 2],
        decode: fn(&MysqlRow<'_>, usize) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let mut conditions = vec!["1 = 1".to_owned()];
        let mut params: Vec<Value> = Vec::new();
        if let Some((column, value)) = owner {
            conditions.push(format!("{column} = ?"));
            params.push(value.into());
        }
        if let Some(at) = active_at {
            conditions.push(COUPON_ON_AT.to_owned());
            params.extend(vec![rows::datetime(at); 3]);
        }
        params.extend(page);
        let sql = format!(
            "{select} WHERE {} ORDER BY seq LIMIT ? OFFSET ?",
            conditions.join(" AND ")
        );
        let found: Vec<Row> = self
            .conn
            .borrow_mut()
            .exec(sql, params)
            .map_err(self.err(Context::Read))?;
        found.iter().map(|r| decode(&MysqlRow(r), 0)).collect()
    }

    pub(super) fn read_coupon(&self, code: &CouponCode) -> Result<Option<Coupon>, StoreError> {
        let found: Option<Row> = self
            .conn
            .borrow_mut()
            .exec_first(
                format!("SELECT {COUPON_COLUMNS} FROM coupons WHERE code_key = ?"),
                (code.key(),),
            )
            .map_err(self.err(Context::Read))?;
        found.map(|r| decode::coupon(&MysqlRow(&r), 0)).transpose()
    }
}
