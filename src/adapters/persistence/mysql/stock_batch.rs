//! `import stock` on MySQL. A plain read would let a concurrent `stock
//! adjust` take the next version between this transaction's read and its
//! append, and fail the whole import at its end. So each product's row is
//! locked first (`FOR UPDATE`): an append to its ledger checks the product
//! with a shared lock (the foreign key), so concurrent adjusters wait for
//! this transaction and then find their version taken, which they retry.
//! Products are locked in id order, a chunk at a time, and appends go out
//! in multi-row INSERTs.

use ::mysql::prelude::Queryable;
use ::mysql::{Conn, Row, Value};

use super::errors::{map_err, Context, Secrets};
use super::rows::{self, MysqlRow};
use super::{EVENT_INSERT, IMPORT_BATCH_ROWS};
use crate::adapters::persistence::decode;
use crate::app::ports::{StockBatch, StoreError};
use crate::domain::{ProductId, StockEvent};

pub struct MysqlBatch<'t> {
    pub tx: &'t mut Conn,
    pub pending: Vec<Vec<Value>>,
    pub secrets: &'t Secrets,
}

impl MysqlBatch<'_> {
    /// Writes the held-back appends in one statement.
    pub fn flush(&mut self) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let sql = EVENT_INSERT.sql(self.pending.len());
        let values: Vec<Value> = self.pending.drain(..).flatten().collect();
        self.tx
            .exec_drop(sql, values)
            .map_err(|e| map_err(e, Context::Write, self.secrets))
    }
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

impl StockBatch for MysqlBatch<'_> {
    fn latest_events(&mut self, ids: &[ProductId]) -> Result<Vec<StockEvent>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.flush()?;
        let db = |e| map_err(e, Context::Write, self.secrets);
        let mut sorted: Vec<&str> = ids.iter().map(ProductId::as_str).collect();
        sorted.sort_unstable();
        sorted.dedup();
        let marks = placeholders(sorted.len());
        self.tx
            .exec_drop(
                format!("SELECT id FROM products WHERE id IN ({marks}) ORDER BY id FOR UPDATE"),
                sorted.clone(),
            )
            .map_err(db)?;
        // Read after the locks: under READ COMMITTED this sees every
        // append committed before them.
        let found: Vec<Row> = self
            .tx
            .exec(
                format!(
                    "SELECT e.id, e.product_id, e.`change`, e.total_after_change, e.version, e.reason, e.created_at, e.actor
                       FROM stock_events e
                       JOIN (SELECT product_id, MAX(version) AS version FROM stock_events
                              WHERE product_id IN ({marks}) GROUP BY product_id) m
                         ON e.product_id = m.product_id AND e.version = m.version"
                ),
                sorted,
            )
            .map_err(db)?;
        found
            .iter()
            .map(|r| decode::event(&MysqlRow(r), 0))
            .collect()
    }

    /// Read after `latest_events` locked the rows, so no one archives them
    /// before this transaction ends.
    fn archived_among(&mut self, ids: &[ProductId]) -> Result<Vec<ProductId>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks = placeholders(ids.len());
        let found: Vec<String> = self
            .tx
            .exec(
                format!(
                    "SELECT id FROM products WHERE id IN ({marks}) AND archived_at IS NOT NULL"
                ),
                ids.iter().map(ProductId::as_str).collect::<Vec<_>>(),
            )
            .map_err(|e| map_err(e, Context::Write, self.secrets))?;
        found
            .iter()
            .map(|id| {
                ProductId::parse("stored id", id)
                    .map_err(|e| StoreError::Internal(format!("unreadable stored product id: {e}")))
            })
            .collect()
    }

    fn append(&mut self, event: StockEvent) -> Result<(), StoreError> {
        self.pending.push(rows::event_values(&event));
        if self.pending.len() >= IMPORT_BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }
}
