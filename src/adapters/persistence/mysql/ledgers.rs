//! Reading ledgers in bulk: whole ones for `stock verify`, pages of the
//! movement log for `stock history`.

use std::ops::ControlFlow;

use ::mysql::prelude::Queryable;
use ::mysql::{Conn, Row, Value};

use super::errors::{map_err, Context, Secrets};
use super::rows::{self, MysqlRow};
use super::EVENT_COLUMNS;
use crate::adapters::persistence::decode::{self, Columns};
use crate::app::ports::{LedgerScan, LogQuery, LoggedEvent, StoreError};
use crate::domain::ProductId;

/// Rows are streamed from the server as they are read (the driver's result
/// iterator), in the unique (product_id, version) index's order. A product
/// is written with its version 1 in one transaction, so a product created
/// between the two statements cannot look as if it had no ledger.
pub fn scan(
    conn: &mut Conn,
    product: Option<&ProductId>,
    sink: &mut dyn FnMut(LedgerScan) -> ControlFlow<()>,
    secrets: &Secrets,
) -> Result<(), StoreError> {
    let read_err = |e| map_err(e, Context::Read, secrets);
    let bound: Vec<Value> = product.map(|id| id.as_str().into()).into_iter().collect();
    let (events, orphans) = match product {
        None => (
            "SELECT product_id, version, `change`, total_after_change FROM stock_events
              ORDER BY product_id, version",
            "SELECT p.id FROM products p
              WHERE NOT EXISTS (SELECT 1 FROM stock_events e WHERE e.product_id = p.id)
              ORDER BY p.seq",
        ),
        Some(_) => (
            "SELECT product_id, version, `change`, total_after_change FROM stock_events
              WHERE product_id = ? ORDER BY version",
            "SELECT p.id FROM products p
              WHERE p.id = ? AND NOT EXISTS (SELECT 1 FROM stock_events e WHERE e.product_id = p.id)",
        ),
    };
    for row in conn.exec_iter(events, bound.clone()).map_err(read_err)? {
        let row: Row = row.map_err(read_err)?;
        let entry = decode::ledger_entry(&MysqlRow(&row), 0)?;
        if sink(LedgerScan::Entry(entry)).is_break() {
            return Ok(());
        }
    }
    for row in conn.exec_iter(orphans, bound).map_err(read_err)? {
        let row: Row = row.map_err(read_err)?;
        let row = MysqlRow(&row);
        let id = ProductId::parse("stored id", &row.text(0)?).map_err(|e| row.unreadable(0, e))?;
        if sink(LedgerScan::NoLedger(id)).is_break() {
            return Ok(());
        }
    }
    Ok(())
}

/// A page of the movement log: the store-wide log in `seq` order (the
/// primary key), one product's in version order (its unique index).
pub fn log_page(
    conn: &mut Conn,
    query: &LogQuery,
    secrets: &Secrets,
) -> Result<Vec<LoggedEvent>, StoreError> {
    let since = query.since.map(rows::datetime);
    let (sql, product) = match &query.product {
        None => (
            format!(
                "SELECT seq, {EVENT_COLUMNS} FROM stock_events
                  WHERE seq > ? AND (? IS NULL OR created_at >= ?)
                  ORDER BY seq LIMIT ?"
            ),
            Vec::new(),
        ),
        Some(id) => (
            format!(
                "SELECT version, {EVENT_COLUMNS} FROM stock_events
                  WHERE version > ? AND (? IS NULL OR created_at >= ?) AND product_id = ?
                  ORDER BY version LIMIT ?"
            ),
            vec![Value::from(id.as_str())],
        ),
    };
    let mut bound = vec![
        Value::from(query.after),
        since.clone().unwrap_or(Value::NULL),
        since.unwrap_or(Value::NULL),
    ];
    bound.extend(product);
    bound.push(Value::from(query.limit));
    let found: Vec<Row> = conn
        .exec(sql, bound)
        .map_err(|e| map_err(e, Context::Read, secrets))?;
    found
        .iter()
        .map(|r| {
            let r = MysqlRow(r);
            Ok(LoggedEvent {
                position: r.integer(0)?,
                event: decode::event(&r, 1)?,
            })
        })
        .collect()
}
