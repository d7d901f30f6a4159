//! The floor on SQLite: open the file, set the busy timeout, one query.
//! The connection is not configured beyond that: WAL is a property of the
//! file (milly set it up), and synchronous = FULL is SQLite's default.

use std::time::Duration;

use rusqlite::{named_params, Connection, OpenFlags, OptionalExtension};

use crate::output::{self, Row};
use crate::search;
use crate::workload::Workload;

/// milly's price in force at `:at` (PRICE_AT in its SQLite adapter).
const PRICE_AT: &str = "CASE WHEN p.updated_at <= :at THEN p.price_cents ELSE COALESCE(
      (SELECT c.new_price_cents FROM product_changes c
        WHERE c.product_id = p.id AND c.new_price_cents IS NOT NULL AND c.changed_at <= :at
        ORDER BY c.changed_at DESC, c.seq DESC LIMIT 1),
      (SELECT c.old_price_cents FROM product_changes c
        WHERE c.product_id = p.id AND c.old_price_cents IS NOT NULL AND c.changed_at > :at
        ORDER BY c.changed_at, c.seq LIMIT 1),
      p.price_cents) END";
const STOCK: &str = "(SELECT e.total_after_change FROM stock_events e
      WHERE e.product_id = p.id ORDER BY e.version DESC LIMIT 1)";
const DISCOUNT_JOIN: &str = "LEFT JOIN discounts d
      ON d.product_id = p.id AND d.valid_from <= :at AND d.valid_to > :at
     AND (d.is_active = 1 OR d.deactivated_at > :at)";

type Result<T> = std::result::Result<T, String>;

fn err(e: rusqlite::Error) -> String {
    e.to_string()
}

pub fn run(path: &str, workload: &Workload) -> Result<String> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(err)?;
    conn.busy_timeout(Duration::from_secs(5)).map_err(err)?;
    let at = now();
    match workload {
        Workload::Show { id, user } => show(&conn, id, user, &at),
        Workload::List { offset, limit } => {
            let pages = "SELECT seq FROM products
                          WHERE seq > :after AND archived_at IS NULL ORDER BY seq LIMIT :limit";
            listing(
                &conn,
                pages,
                named_params! {":at": at, ":after": offset, ":limit": limit},
            )
        }
        Workload::Name { term, limit } => {
            let (pages, bound) = search::sqlite_candidates(term);
            listing(
                &conn,
                pages,
                named_params! {":at": at, ":term": bound, ":limit": limit},
            )
        }
        Workload::Adjust { id, change } => adjust(&conn, id, *change),
    }
}

/// The instant as milly stores and binds it: fixed-width RFC 3339, UTC.
fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn show(conn: &Connection, id: &str, user: &str, at: &str) -> Result<String> {
    let sql = format!(
        "SELECT p.id, p.name, {STOCK}, {PRICE_AT}, d.id, d.percentage_bp, c.id, c.percentage_bp
           FROM products p
           {DISCOUNT_JOIN}
           LEFT JOIN coupons c ON c.seq = (
                SELECT b.seq FROM coupons b
                 WHERE b.user_id = :user AND (b.is_active = 1 OR b.deactivated_at > :at)
                   AND b.valid_from <= :at AND b.valid_to > :at
                 ORDER BY b.percentage_bp DESC, b.valid_to ASC, b.seq ASC LIMIT 1)
          WHERE p.id = :id
          ORDER BY d.seq LIMIT 1"
    );
    let row = conn
        .prepare(&sql)
        .map_err(err)?
        .query_row(named_params! {":at": at, ":user": user, ":id": id}, |r| {
            Ok(Row {
                id: r.get(0)?,
                name: r.get(1)?,
                stock: r.get(2)?,
                price_cents: r.get(3)?,
                discount: pair(r.get(4)?, r.get(5)?),
                coupon: pair(r.get(6)?, r.get(7)?),
            })
        })
        .optional()
        .map_err(err)?;
    Ok(output::rows(row.as_slice(), true))
}

/// A page of products chosen by `pages` (a sub-select of positions), with
/// stock, price and discount, as milly's `product list` selects them.
fn listing(
    conn: &Connection,
    pages: &str,
    params: &[(&str, &dyn rusqlite::ToSql)],
) -> Result<String> {
    let sql = format!(
        "SELECT p.id, p.name, {STOCK}, {PRICE_AT}, d.id, d.percentage_bp, d.seq
           FROM products p
           {DISCOUNT_JOIN}
          WHERE p.seq IN ({pages})
          ORDER BY p.seq"
    );
    let mut stmt = conn.prepare(&sql).map_err(err)?;
    let mut rows = stmt.query(params).map_err(err)?;
    let mut found: Vec<(Row, Option<i64>)> = Vec::new();
    while let Some(r) = rows.next().map_err(err)? {
        let row = Row {
            id: r.get(0).map_err(err)?,
            name: r.get(1).map_err(err)?,
            stock: r.get(2).map_err(err)?,
            price_cents: r.get(3).map_err(err)?,
            discount: pair(r.get(4).map_err(err)?, r.get(5).map_err(err)?),
            coupon: None,
        };
        keep_earliest_discount(&mut found, row, r.get(6).map_err(err)?);
    }
    let rows: Vec<Row> = found.into_iter().map(|(r, _)| r).collect();
    Ok(output::rows(&rows, false))
}

/// Two qualifying discounts give a product two rows in a row; the earliest
/// discount applies (milly's `first_per_product`).
pub fn keep_earliest_discount(found: &mut Vec<(Row, Option<i64>)>, row: Row, seq: Option<i64>) {
    match found.last_mut() {
        Some((last, last_seq)) if last.id == row.id => {
            if seq < *last_seq {
                *last = row;
                *last_seq = seq;
            }
        }
        _ => found.push((row, seq)),
    }
}

fn pair(id: Option<String>, bp: Option<i64>) -> Option<(String, i64)> {
    id.zip(bp)
}

/// The latest event and the next one in one durable write transaction:
/// BEGIN IMMEDIATE takes the write lock first, so the version read is
/// still the latest at the insert.
fn adjust(conn: &Connection, id: &str, change: i64) -> Result<String> {
    conn.execute_batch("BEGIN IMMEDIATE").map_err(err)?;
    let result = (|| {
        let (total, version): (i64, i64) = conn
            .query_row(
                "SELECT total_after_change, version FROM stock_events
                  WHERE product_id = ?1 ORDER BY version DESC LIMIT 1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(err)?
            .ok_or_else(|| format!("no product {id}"))?;
        let (total, version) = (total + change, version + 1);
        let inserted = conn
            .execute(
                "INSERT INTO stock_events (id, product_id, change, total_after_change, version, reason, created_at, actor)
                 SELECT ?1, ?2, ?3, ?4, ?5, NULL, ?6, NULL
                  WHERE NOT EXISTS (SELECT 1 FROM products WHERE id = ?2 AND archived_at IS NOT NULL)",
                rusqlite::params![output::event_id(), id, change, total, version, now()],
            )
            .map_err(err)?;
        if inserted != 1 {
            return Err(format!("product {id} is archived"));
        }
        Ok(output::adjusted(version, total))
    })();
    let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
    conn.execute_batch(end).map_err(err)?;
    result
}
