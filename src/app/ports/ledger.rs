//! The stock ledger: append-only, one version per product and change.

use std::ops::ControlFlow;

use super::StoreError;
use crate::domain::{EventId, Instant, LedgerEntry, ProductId, StockEvent};

/// What a ledger scan finds, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerScan {
    /// One ledger row.
    Entry(LedgerEntry),
    /// A product that has no ledger row at all.
    NoLedger(ProductId),
}

/// One page of the movement log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogQuery {
    /// Only this product's ledger; every product's when `None`.
    pub product: Option<ProductId>,
    /// Only events created at or after this instant.
    pub since: Option<Instant>,
    /// Only events created before this instant.
    pub until: Option<Instant>,
    /// Start after the event at this position (0: from the start).
    pub after: i64,
    /// At most this many events.
    pub limit: u32,
}

/// An event of the movement log and its position, for the next page's
/// `LogQuery::after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedEvent {
    pub position: i64,
    pub event: StockEvent,
}

/// One ledger row and the row that reverts it, if one does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    pub event: StockEvent,
    /// The id of the row whose `reverts` names this one.
    pub reverted_by: Option<EventId>,
}

/// The write transaction of a bulk stock change (`import stock`).
pub trait StockBatch {
    /// The latest events of these products, as committed by other writers,
    /// which from now on wait for this transaction to end (and then find
    /// their version taken: a conflict). A product that does not exist is
    /// absent from the result. Not asked again for a product whose events
    /// this batch appended.
    fn latest_events(&mut self, ids: &[ProductId]) -> Result<Vec<StockEvent>, StoreError>;

    /// Which of these products are archived (read-only: no change may be
    /// appended to their ledgers).
    fn archived_among(&mut self, ids: &[ProductId]) -> Result<Vec<ProductId>, StoreError>;

    /// Appends `event`; the store may hold it back until the transaction
    /// ends.
    fn append(&mut self, event: StockEvent) -> Result<(), StoreError>;
}

/// The ledger of every product: reads of its head and history, appends
/// under optimistic locking, and the bulk write of `import stock`.
pub trait LedgerStore {
    /// The product's event with the highest version; `None` when the product
    /// does not exist.
    fn latest_stock_event(&self, id: &ProductId) -> Result<Option<StockEvent>, StoreError>;

    /// The ledger row with this id, whatever its product, and the row that
    /// reverts it; `None` when no row has the id.
    fn stock_event(&self, id: &EventId) -> Result<Option<RecordedEvent>, StoreError>;

    /// Appends `event`. MUST return `Conflict` (and write nothing) when an
    /// event with the same product and version exists, or when the database
    /// reports contention that a retry can resolve; MUST return
    /// `ProductNotFound` when the product does not exist and
    /// `ProductArchived` when it is archived, checked in the same statement
    /// or transaction as the write. An event that reverts a row another
    /// event already reverts is a `Conflict` too (the schema keeps an event
    /// reverted at most once; the caller re-reads and finds it reverted).
    fn append_stock_event(&self, event: &StockEvent) -> Result<(), StoreError>;

    /// The product's whole ledger, oldest first; `None` when the product does
    /// not exist.
    fn stock_history(&self, id: &ProductId) -> Result<Option<Vec<StockEvent>>, StoreError>;

    /// Every stored ledger row, or only `product`'s, handed to `sink` as it
    /// is read so that memory stays flat: each product's rows together and
    /// in version order, then every product (or only `product`) that has no
    /// row at all as `NoLedger`. Each row carries the latest version its
    /// product records (`LedgerEntry::recorded_latest`). Rows are handed
    /// over as stored, broken ones included: judging them is the caller's
    /// business. Stops early, with
    /// `Ok`, when `sink` breaks. Yields nothing for an unknown product.
    fn scan_ledgers(
        &self,
        product: Option<&ProductId>,
        sink: &mut dyn FnMut(LedgerScan) -> ControlFlow<()>,
    ) -> Result<(), StoreError>;

    /// One page of the movement log: the events of every product in the
    /// order they were written, or one product's in version order, from
    /// `query.after` on. MUST be one query per page and MUST NOT read the
    /// events before `after` (paging through a long log costs the same per
    /// page at its end as at its start). An empty page is `Ok(vec![])`,
    /// also for an unknown product.
    fn stock_log(&self, query: &LogQuery) -> Result<Vec<LoggedEvent>, StoreError>;

    /// Where the log's tail begins: the `after` from which a page of
    /// `query.limit` events is the newest `query.limit` events the query
    /// selects after `query.after` (`query.after` itself when there are no
    /// more than that). One query, which MUST NOT read the events before
    /// the tail's, so the newest events of a long log cost no more to find
    /// than the oldest.
    fn stock_log_tail(&self, query: &LogQuery) -> Result<i64, StoreError>;

    /// Runs `work` in one write transaction and commits what it appended
    /// when it returns `Ok(true)`; on `Ok(false)` or an error nothing is
    /// written. Returns whether it committed.
    fn change_stock(
        &self,
        work: &mut dyn FnMut(&mut dyn StockBatch) -> Result<bool, StoreError>,
    ) -> Result<bool, StoreError>;
}
