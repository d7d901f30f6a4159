//! `import stock` on SQLite: one immediate transaction holds the database's
//! write lock from the first read to the commit, so no other writer can
//! change a ledger between the read of its latest event and the append.

use rusqlite::{CachedStatement, Connection};

use super::errors::{map_err, Context};
use super::rows::SqliteRow;
use super::writes::Inserts;
use super::EVENT_COLUMNS;
use crate::adapters::persistence::decode;
use crate::app::ports::{StockBatch, StoreError};
use crate::domain::{ProductId, StockEvent};

pub struct SqliteBatch<'t> {
    tx: &'t Connection,
    latest: CachedStatement<'t>,
    archived: CachedStatement<'t>,
    inserts: Inserts<'t>,
    /// Whether any product is archived, asked once: the batch holds the
    /// write lock, so nobody archives one before it ends. Most catalogs
    /// have none, and then no product needs looking up for it.
    any_archived: Option<bool>,
}

impl<'t> SqliteBatch<'t> {
    pub fn prepare(tx: &'t Connection) -> Result<Self, StoreError> {
        let prepare = || -> rusqlite::Result<Self> {
            Ok(SqliteBatch {
                tx,
                any_archived: None,
                latest: tx.prepare_cached(&format!(
                    "SELECT {EVENT_COLUMNS} FROM stock_events WHERE product_id = ?1 ORDER BY version DESC LIMIT 1"
                ))?,
                archived: tx.prepare_cached(
                    "SELECT 1 FROM products WHERE id = ?1 AND archived_at IS NOT NULL",
                )?,
                inserts: Inserts::prepare(tx)?,
            })
        };
        prepare().map_err(|e| map_err(e, Context::Write))
    }
}

impl StockBatch for SqliteBatch<'_> {
    /// One indexed lookup per product: in-process, cheaper than any batching.
    fn latest_events(&mut self, ids: &[ProductId]) -> Result<Vec<StockEvent>, StoreError> {
        let db = |e| map_err(e, Context::Write);
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            let mut rows = self.latest.query([id.as_str()]).map_err(db)?;
            if let Some(row) = rows.next().map_err(db)? {
                found.push(decode::event(&SqliteRow(row), 0)?);
            }
        }
        Ok(found)
    }

    fn archived_among(&mut self, ids: &[ProductId]) -> Result<Vec<ProductId>, StoreError> {
        let db = |e| map_err(e, Context::Write);
        let any_archived = match self.any_archived {
            Some(known) => known,
            None => {
                // The partial index `products_archived` holds exactly the
                // archived products: one probe.
                let known = self
                    .tx
                    .prepare_cached(
                        "SELECT EXISTS (SELECT 1 FROM products WHERE archived_at IS NOT NULL)",
                    )
                    .and_then(|mut s| s.query_row([], |r| r.get(0)))
                    .map_err(db)?;
                *self.any_archived.insert(known)
            }
        };
        if !any_archived {
            return Ok(Vec::new());
        }
        let mut archived = Vec::new();
        for id in ids {
            if self.archived.exists([id.as_str()]).map_err(db)? {
                archived.push(id.clone());
            }
        }
        Ok(archived)
    }

    fn append(&mut self, event: StockEvent) -> Result<(), StoreError> {
        self.inserts
            .event(&event)
            .map_err(|e| map_err(e, Context::AppendEvent(event.product_id.as_str())))
    }
}
