//! `import stock`: a whole delivery note (or supplier feed) of stock
//! changes in one transaction, each row checked against the running total
//! of its product, as `stock adjust` checks one change.

use std::collections::HashMap;

use super::import_rows::{ImportRow, RowSource};
use super::{Catalog, MonotonicBits};
use crate::app::error::{AppError, RowError};
use crate::app::ports::StockBatch;
use crate::domain::*;

/// What a stock import wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StockImportCounts {
    pub stock_events: u64,
    /// Distinct products whose stock changed.
    pub products: u64,
}

/// Rows looked up and written together: one lookup of the chunk's new
/// products (one round trip on a server) instead of one per row.
const CHUNK_ROWS: usize = 500;

/// A product's latest event, and whether this import wrote it.
struct Tip {
    event: StockEvent,
    changed: bool,
    archived: bool,
}

/// A row that passed validation.
struct Change {
    line: u64,
    product_id: ProductId,
    change: StockChange,
    reason: Option<Reason>,
}

impl Catalog<'_> {
    /// Applies every row in order in one transaction: several rows for one
    /// product apply one after the other, each against the total the rows
    /// before it left. The first bad row stops the import, reported with its
    /// line (exit 2 invalid, 3 unknown product, 4 insufficient stock), and
    /// nothing is written. `applied` hears of every event as it goes to the
    /// store; it is only worth keeping once this returns `Ok`.
    pub fn import_stock(
        &self,
        rows: &mut RowSource<'_>,
        applied: &mut dyn FnMut(u64, &StockEvent),
    ) -> Result<StockImportCounts, AppError> {
        let now = self.clock.now();
        let mut ids = MonotonicBits::new();
        let actor = self.actor();
        let mut failure = None;
        let mut counts = StockImportCounts::default();
        let committed = self.stores.ledger.change_stock(&mut |batch| {
            // The latest event of every product seen, as this batch left it.
            let mut latest: HashMap<ProductId, Tip> = HashMap::new();
            counts = StockImportCounts::default();
            loop {
                let (chunk, stop) = read_chunk(rows);
                let new: Vec<ProductId> = chunk
                    .iter()
                    .filter(|c| !latest.contains_key(&c.product_id))
                    .map(|c| c.product_id.clone())
                    .collect();
                for event in batch.latest_events(&new)? {
                    let tip = Tip {
                        event,
                        changed: false,
                        archived: false,
                    };
                    latest.insert(tip.event.product_id.clone(), tip);
                }
                for id in batch.archived_among(&new)? {
                    if let Some(tip) = latest.get_mut(&id) {
                        tip.archived = true;
                    }
                }
                for change in chunk {
                    match apply(batch, &mut latest, change, now, &mut ids, applied, &actor)? {
                        Ok(first_for_product) => {
                            counts.stock_events += 1;
                            counts.products += u64::from(first_for_product);
                        }
                        Err(e) => {
                            failure = Some(e);
                            return Ok(false);
                        }
                    }
                }
                match stop {
                    Stop::More => {}
                    Stop::End => return Ok(true),
                    Stop::Bad(e) => {
                        failure = Some(e);
                        return Ok(false);
                    }
                }
            }
        });
        match (committed, failure) {
            (_, Some(e)) => Err(e),
            (Ok(true), None) => Ok(counts),
            (Err(e), None) => Err(e.into()),
            (Ok(false), None) => Err(AppError::Internal(
                "the stock import was rolled back without a reason".into(),
            )),
        }
    }
}

/// Why a chunk ended.
enum Stop {
    More,
    End,
    Bad(AppError),
}

/// Up to [`CHUNK_ROWS`] valid rows, and why reading stopped. Rows after an
/// invalid one are never read: it is reported once the rows before it have
/// been checked, so the first bad row in the file is the one reported.
fn read_chunk(rows: &mut RowSource<'_>) -> (Vec<Change>, Stop) {
    let mut chunk = Vec::with_capacity(CHUNK_ROWS);
    while chunk.len() < CHUNK_ROWS {
        let Some((line, row)) = rows.next() else {
            return (chunk, Stop::End);
        };
        match row.and_then(validate) {
            Ok((product_id, change, reason)) => chunk.push(Change {
                line,
                product_id,
                change,
                reason,
            }),
            Err(source) => return (chunk, Stop::Bad(AppError::InvalidRow { line, source })),
        }
    }
    (chunk, Stop::More)
}

fn validate(row: ImportRow) -> Result<(ProductId, StockChange, Option<Reason>), RowError> {
    let ImportRow::Stock(row) = row else {
        return Err(RowError::Unreadable(
            "expected a stock row (product_id, change, reason)".into(),
        ));
    };
    Ok((
        ProductId::parse("product_id", &row.product_id)?,
        StockChange::parse("change", &row.change)?,
        row.reason
            .as_deref()
            .map(|r| Reason::parse("reason", r))
            .transpose()?,
    ))
}

/// Appends the event that `change` makes. The outer error is the store's;
/// the inner one the row's (unknown product, a rule broken), named by its
/// line. `Ok(Ok(true))` when this is the first change to its product.
fn apply(
    batch: &mut dyn StockBatch,
    latest: &mut HashMap<ProductId, Tip>,
    change: Change,
    now: Instant,
    ids: &mut MonotonicBits,
    applied: &mut dyn FnMut(u64, &StockEvent),
    actor: &Option<Actor>,
) -> Result<Result<bool, AppError>, crate::app::StoreError> {
    let at_line = |error: AppError| AppError::AtLine {
        line: change.line,
        error: Box::new(error),
    };
    let Some(tip) = latest.get_mut(&change.product_id) else {
        return Ok(Err(at_line(AppError::NotFound {
            what: "product",
            id: change.product_id.to_string(),
        })));
    };
    if tip.archived {
        return Ok(Err(at_line(
            crate::app::StoreError::ProductArchived(change.product_id.to_string()).into(),
        )));
    }
    let next = match tip.event.next(
        EventId::generate(now, ids.next()),
        change.change,
        change.reason,
        now,
    ) {
        Ok(next) => next.by(actor.clone()),
        Err(rule) => return Ok(Err(at_line(rule.into()))),
    };
    applied(change.line, &next);
    batch.append(next.clone())?;
    let first = !tip.changed;
    *tip = Tip {
        event: next,
        changed: true,
        archived: false,
    };
    Ok(Ok(first))
}
