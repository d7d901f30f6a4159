//! Reading ledgers in bulk: whole ones for `stock verify`, pages of the
//! movement log for `stock history`.

use std::ops::ControlFlow;

use rusqlite::{Connection, ToSql, TransactionBehavior};

use super::errors::{map_err, Context};
use super::rows::SqliteRow;
use super::{decode_all, EVENT_COLUMNS};
use crate::adapters::persistence::decode::{self, Columns};
use crate::app::ports::{LedgerScan, LogQuery, LoggedEvent, StoreError};
use crate::domain::{Instant, ProductId};

fn read_err(e: rusqlite::Error) -> StoreError {
    map_err(e, Context::Read)
}

/// Both statements in one read transaction, so they see one snapshot. Rows
/// come in the unique (product_id, version) index's order: no sort, and
/// each row is handed on as soon as it is read.
pub fn scan(
    conn: &Connection,
    product: Option<&ProductId>,
    sink: &mut dyn FnMut(LedgerScan) -> ControlFlow<()>,
) -> Result<(), StoreError> {
    let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Deferred)
        .map_err(read_err)?;
    let id = product.map(ProductId::as_str);
    let bound: Vec<&dyn ToSql> = id.iter().map(|id| id as &dyn ToSql).collect();
    let (events, orphans) = match product {
        None => (
            "SELECT product_id, version, change, total_after_change FROM stock_events
              ORDER BY product_id, version",
            "SELECT p.id FROM products p
              WHERE NOT EXISTS (SELECT 1 FROM stock_events e WHERE e.product_id = p.id)
              ORDER BY p.seq",
        ),
        Some(_) => (
            "SELECT product_id, version, change, total_after_change FROM stock_events
              WHERE product_id = ?1 ORDER BY version",
            "SELECT p.id FROM products p
              WHERE p.id = ?1 AND NOT EXISTS (SELECT 1 FROM stock_events e WHERE e.product_id = p.id)",
        ),
    };
    let mut stmt = tx.prepare(events).map_err(read_err)?;
    let mut rows = stmt.query(bound.as_slice()).map_err(read_err)?;
    while let Some(row) = rows.next().map_err(read_err)? {
        let entry = decode::ledger_entry(&SqliteRow(row), 0)?;
        if sink(LedgerScan::Entry(entry)).is_break() {
            return Ok(());
        }
    }
    drop(rows);
    let mut stmt = tx.prepare(orphans).map_err(read_err)?;
    let mut rows = stmt.query(bound.as_slice()).map_err(read_err)?;
    while let Some(row) = rows.next().map_err(read_err)? {
        let id: String = row.get(0).map_err(read_err)?;
        let id = ProductId::parse("stored id", &id).map_err(|e| {
            StoreError::Internal(format!("unreadable stored value in column id: {e}"))
        })?;
        if sink(LedgerScan::NoLedger(id)).is_break() {
            return Ok(());
        }
    }
    Ok(())
}

/// A page of the movement log: the store-wide log in `seq` order (the
/// rowid, so a range of the table itself), one product's in version order
/// (a range of its unique index).
pub fn log_page(conn: &Connection, query: &LogQuery) -> Result<Vec<LoggedEvent>, StoreError> {
    let since = query.since.map(Instant::to_rfc3339);
    let product = query.product.as_ref().map(ProductId::as_str);
    let sql = match product {
        None => format!(
            "SELECT seq, {EVENT_COLUMNS} FROM stock_events
              WHERE seq > ?1 AND (?2 IS NULL OR created_at >= ?2)
              ORDER BY seq LIMIT ?4"
        ),
        Some(_) => format!(
            "SELECT version, {EVENT_COLUMNS} FROM stock_events
              WHERE product_id = ?3 AND version > ?1 AND (?2 IS NULL OR created_at >= ?2)
              ORDER BY version LIMIT ?4"
        ),
    };
    let mut stmt = conn.prepare_cached(&sql).map_err(read_err)?;
    decode_all(
        &mut stmt,
        rusqlite::params![query.after, since, product, query.limit],
        |r| {
            Ok(LoggedEvent {
                position: r.integer(0)?,
                event: decode::event(r, 1)?,
            })
        },
    )
}
