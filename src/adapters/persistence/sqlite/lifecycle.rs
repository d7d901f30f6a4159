//! The catalog life-cycle on SQLite: updates, archiving, product history,
//! discount replacement and clearing with their deactivation times, and the
//! discount and coupon listings.
//!
//! Every write runs in one IMMEDIATE transaction, which holds SQLite's single
//! write lock from its first statement: what a write checks (the product
//! exists, is not archived, still has the values read) cannot change before
//! it commits.

use rusqlite::{named_params, params, Connection, OptionalExtension};

use super::errors::{map_err, Context};
use super::writes::Inserts;
use super::{decode_all, decode_first, read_err, COUPON_COLUMNS, COUPON_ON_AT, DISCOUNT_COLUMNS};
use crate::adapters::persistence::decode;
use crate::app::ports::{CouponQuery, DiscountQuery, StoreError};
use crate::domain::{
    Actor, ChangeKind, Coupon, CouponCode, Discount, DiscountId, Instant, Product, ProductChange,
    ProductId, StockEvent,
};

fn write_err(e: rusqlite::Error) -> StoreError {
    map_err(e, Context::Write)
}

/// Whether any product is archived: one probe of a partial index.
pub fn any_archived(conn: &Connection) -> Result<bool, StoreError> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM products WHERE archived_at IS NOT NULL)")
        .and_then(|mut s| s.query_row([], |r| r.get(0)))
        .map_err(read_err)
}

/// The product's archived state: `None` when it does not exist.
fn archived_state(conn: &Connection, id: &ProductId) -> Result<Option<bool>, StoreError> {
    conn.prepare_cached("SELECT archived_at IS NOT NULL FROM products WHERE id = ?1")
        .and_then(|mut s| s.query_row([id.as_str()], |r| r.get(0)).optional())
        .map_err(read_err)
}

/// Refuses a write to a product that is missing or archived.
fn writable(conn: &Connection, id: &ProductId) -> Result<(), StoreError> {
    match archived_state(conn, id)? {
        None => Err(StoreError::ProductNotFound(id.to_string())),
        Some(true) => Err(StoreError::ProductArchived(id.to_string())),
        Some(false) => Ok(()),
    }
}

fn actor_text(actor: Option<&Actor>) -> Option<&str> {
    actor.map(Actor::as_str)
}

/// A single autocommit INSERT … SELECT: it takes the write lock only for
/// itself, the unique (product_id, version) index decides the race, and the
/// archived check is part of the same statement.
pub fn append_unless_archived(conn: &Connection, event: &StockEvent) -> Result<(), StoreError> {
    let id = event.product_id.as_str();
    let inserted = conn
        .prepare_cached(
            "INSERT INTO stock_events (id, product_id, change, total_after_change, version, reason, created_at, actor)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8
              WHERE NOT EXISTS (SELECT 1 FROM products WHERE id = ?2 AND archived_at IS NOT NULL)",
        )
        .and_then(|mut s| {
            s.execute(params![
                event.id.as_str(),
                id,
                event.change,
                event.total_after_change,
                event.version,
                event.reason.as_ref().map(|r| r.as_str()),
                event.created_at.to_rfc3339(),
                event.actor.as_ref().map(Actor::as_str),
            ])
        })
        .map_err(|e| map_err(e, Context::AppendEvent(id)))?;
    match inserted {
        1 => Ok(()),
        _ => Err(StoreError::ProductArchived(id.to_owned())),
    }
}

/// Switches off the product's active discount, if any, and returns its id.
fn deactivate_active(
    tx: &Connection,
    product_id: &ProductId,
    at: Instant,
    actor: Option<&Actor>,
) -> Result<Option<DiscountId>, StoreError> {
    let active: Option<String> = tx
        .prepare_cached("SELECT id FROM discounts WHERE product_id = ?1 AND is_active = 1")
        .and_then(|mut s| s.query_row([product_id.as_str()], |r| r.get(0)).optional())
        .map_err(write_err)?;
    let Some(active) = active else {
        return Ok(None);
    };
    tx.prepare_cached(
        "UPDATE discounts SET is_active = 0, deactivated_at = ?2, deactivated_by = ?3
          WHERE product_id = ?1 AND is_active = 1",
    )
    .and_then(|mut s| {
        s.execute(params![
            product_id.as_str(),
            at.to_rfc3339(),
            actor_text(actor)
        ])
    })
    .map_err(write_err)?;
    DiscountId::parse("stored id", &active)
        .map(Some)
        .map_err(|e| StoreError::Internal(format!("unreadable stored discount id: {e}")))
}

pub fn replace_discount(
    store: &super::SqliteStore,
    discount: &Discount,
) -> Result<Option<DiscountId>, StoreError> {
    store.write(Context::Write, |tx| {
        writable(tx, &discount.product_id)?;
        let replaced = deactivate_active(
            tx,
            &discount.product_id,
            discount.created_at,
            discount.actor.as_ref(),
        )?;
        Inserts::prepare(tx)
            .and_then(|mut rows| rows.discount(discount))
            .map_err(|e| map_err(e, Context::WriteForProduct(discount.product_id.as_str())))?;
        Ok(replaced)
    })
}

pub fn clear_discount(
    store: &super::SqliteStore,
    product_id: &ProductId,
    at: Instant,
    actor: Option<&Actor>,
) -> Result<Option<DiscountId>, StoreError> {
    store.write(Context::Write, |tx| {
        writable(tx, product_id)?;
        let cleared = deactivate_active(tx, product_id, at, actor)?;
        Ok(cleared)
    })
}

pub fn deactivate_coupon(
    store: &super::SqliteStore,
    code: &CouponCode,
    at: Instant,
    actor: Option<&Actor>,
) -> Result<Option<Coupon>, StoreError> {
    store.write(Context::Write, |tx| {
        tx.prepare_cached(
            "UPDATE coupons SET is_active = 0, deactivated_at = ?2, deactivated_by = ?3
          WHERE code_key = ?1 AND is_active = 1",
        )
        .and_then(|mut s| s.execute(params![code.key(), at.to_rfc3339(), actor_text(actor)]))
        .map_err(write_err)?;
        let coupon = decode_first(
            &mut tx
                .prepare_cached(&format!(
                    "SELECT {COUPON_COLUMNS} FROM coupons WHERE code_key = ?1"
                ))
                .map_err(write_err)?,
            [code.key()],
            |r| decode::coupon(r, 0),
        )?;
        Ok(coupon)
    })
}

fn record_change(tx: &Connection, change: &ProductChange) -> Result<(), StoreError> {
    let kind = match change.kind {
        ChangeKind::Created => {
            return Err(StoreError::Internal(
                "a creation is the product row itself, not a recorded change".into(),
            ))
        }
        kind => kind.as_str(),
    };
    tx.prepare_cached(
        "INSERT INTO product_changes (product_id, kind, changed_at, actor, old_name, new_name,
                                      old_description, new_description, old_price_cents, new_price_cents)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .and_then(|mut s| {
        s.execute(params![
            change.product_id.as_str(),
            kind,
            change.at.to_rfc3339(),
            actor_text(change.actor.as_ref()),
            change
                .name
                .as_ref()
                .and_then(|e| e.old.as_ref())
                .map(|n| n.as_str()),
            change.name.as_ref().map(|e| e.new.as_str()),
            change
                .description
                .as_ref()
                .and_then(|e| e.old.as_ref())
                .map(|d| d.as_str()),
            change.description.as_ref().map(|e| e.new.as_str()),
            change.price.as_ref().and_then(|e| e.old).map(|m| m.cents()),
            change.price.as_ref().map(|e| e.new.cents()),
        ])
    })
    .map(drop)
    .map_err(write_err)
}

pub fn update_product(
    store: &super::SqliteStore,
    before: &Product,
    after: &Product,
    change: &ProductChange,
) -> Result<(), StoreError> {
    store.write(Context::Write, |tx| {
    let updated = tx
        .prepare_cached(
            "UPDATE products
                SET name = :name, name_folded = :folded, description = :description,
                    price_cents = :price, updated_at = :at
              WHERE id = :id AND archived_at IS NULL
                AND name = :old_name AND description = :old_description AND price_cents = :old_price",
        )
        .and_then(|mut s| {
            s.execute(named_params! {
                ":name": after.name.as_str(),
                ":folded": after.name.folded(),
                ":description": after.description.as_str(),
                ":price": after.price.cents(),
                ":at": after.updated_at.to_rfc3339(),
                ":id": before.id.as_str(),
                ":old_name": before.name.as_str(),
                ":old_description": before.description.as_str(),
                ":old_price": before.price.cents(),
            })
        })
        .map_err(write_err)?;
    if updated == 0 {
        writable(tx, &before.id)?;
        return Err(StoreError::Conflict(format!(
            "product {} changed since it was read",
            before.id
        )));
    }
    if change.name.is_some() {
        // The trigram index holds the folded names (external content): the
        // old entry is removed with its old text, the new one added.
        tx.prepare_cached(
            "INSERT INTO products_name_search (products_name_search, rowid, name_folded)
             SELECT 'delete', seq, ?2 FROM products WHERE id = ?1",
        )
        .and_then(|mut s| s.execute(params![before.id.as_str(), before.name.folded()]))
        .and_then(|_| {
            tx.prepare_cached(
                "INSERT INTO products_name_search (rowid, name_folded)
                 SELECT seq, name_folded FROM products WHERE id = ?1",
            )?
            .execute([before.id.as_str()])
        })
        .map_err(write_err)?;
    }
    record_change(tx, change)?;
    Ok(())
    })
}

pub fn set_archived(
    store: &super::SqliteStore,
    change: &ProductChange,
) -> Result<bool, StoreError> {
    let sql = match change.kind {
        ChangeKind::Archived => {
            "UPDATE products SET archived_at = ?2, updated_at = ?2 WHERE id = ?1 AND archived_at IS NULL"
        }
        ChangeKind::Unarchived => {
            "UPDATE products SET archived_at = NULL, updated_at = ?2 WHERE id = ?1 AND archived_at IS NOT NULL"
        }
        other => {
            return Err(StoreError::Internal(format!(
                "set_archived was given a change of kind {}",
                other.as_str()
            )))
        }
    };
    store.write(Context::Write, |tx| {
        let changed = tx
            .prepare_cached(sql)
            .and_then(|mut s| {
                s.execute(params![change.product_id.as_str(), change.at.to_rfc3339()])
            })
            .map_err(write_err)?;
        if changed == 0 {
            return match archived_state(tx, &change.product_id)? {
                None => Err(StoreError::ProductNotFound(change.product_id.to_string())),
                Some(_) => Ok(false),
            };
        }
        record_change(tx, change)?;
        Ok(true)
    })
}

pub fn product_changes(
    conn: &Connection,
    id: &ProductId,
) -> Result<Vec<ProductChange>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT product_id, kind, changed_at, actor, old_name, new_name,
                    old_description, new_description, old_price_cents, new_price_cents
               FROM product_changes WHERE product_id = ?1 ORDER BY seq",
        )
        .map_err(read_err)?;
    decode_all(&mut stmt, [id.as_str()], |r| decode::product_change(r, 0))
}

pub fn list_discounts(
    conn: &Connection,
    query: &DiscountQuery,
) -> Result<Vec<Discount>, StoreError> {
    let mut conditions = vec!["1 = 1"];
    if query.product_id.is_some() {
        conditions.push("product_id = :product");
    }
    if query.active_at.is_some() {
        conditions.push(
            "(is_active = 1 OR deactivated_at > :at) AND valid_from <= :at AND valid_to > :at",
        );
    }
    let sql = format!(
        "SELECT {DISCOUNT_COLUMNS} FROM discounts WHERE {} ORDER BY seq LIMIT :limit OFFSET :offset",
        conditions.join(" AND ")
    );
    let product = query.product_id.as_ref().map(|p| p.as_str());
    let at = query.active_at.map(Instant::to_rfc3339);
    let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
    let mut bound: Vec<(&str, &dyn rusqlite::ToSql)> =
        vec![(":limit", &query.limit), (":offset", &offset)];
    if product.is_some() {
        bound.push((":product", &product));
    }
    if at.is_some() {
        bound.push((":at", &at));
    }
    let mut stmt = conn.prepare_cached(&sql).map_err(read_err)?;
    decode_all(&mut stmt, bound.as_slice(), |r| decode::discount(r, 0))
}

pub fn list_coupons(conn: &Connection, query: &CouponQuery) -> Result<Vec<Coupon>, StoreError> {
    let mut conditions = vec!["1 = 1"];
    if query.user_id.is_some() {
        conditions.push("user_id = :user");
    }
    if query.active_at.is_some() {
        conditions.push(COUPON_ON_AT);
    }
    let sql = format!(
        "SELECT {COUPON_COLUMNS} FROM coupons WHERE {} ORDER BY seq LIMIT :limit OFFSET :offset",
        conditions.join(" AND ")
    );
    let user = query.user_id.as_ref().map(|u| u.as_str());
    let at = query.active_at.map(Instant::to_rfc3339);
    let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
    let mut bound: Vec<(&str, &dyn rusqlite::ToSql)> =
        vec![(":limit", &query.limit), (":offset", &offset)];
    if user.is_some() {
        bound.push((":user", &user));
    }
    if at.is_some() {
        bound.push((":at", &at));
    }
    let mut stmt = conn.prepare_cached(&sql).map_err(read_err)?;
    decode_all(&mut stmt, bound.as_slice(), |r| decode::coupon(r, 0))
}

pub fn coupon(conn: &Connection, code: &CouponCode) -> Result<Option<Coupon>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {COUPON_COLUMNS} FROM coupons WHERE code_key = ?1"
        ))
        .map_err(read_err)?;
    decode_first(&mut stmt, [code.key()], |r| decode::coupon(r, 0))
}
