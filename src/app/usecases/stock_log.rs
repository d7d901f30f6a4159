//! The movement log: one product's ledger or every product's, as a stream.

use super::Catalog;
use crate::app::error::AppError;
use crate::app::ports::LogQuery;
use crate::domain::{Moment, ProductId, StockEvent};

pub struct StockLog {
    /// One product's ledger; every product's movements when `None`.
    pub product: Option<ProductId>,
    /// Only events created at or after this instant.
    pub since: Option<Moment>,
    /// Only events created before this instant.
    pub until: Option<Moment>,
    /// At most this many events, the oldest first.
    pub limit: Option<u64>,
    /// Only the newest this many events (still oldest first).
    pub tail: Option<u32>,
}

/// Events per query when streaming the log.
pub const LOG_PAGE: u32 = 1_000;

impl Catalog<'_> {
    /// Hands the log to `sink` one event at a time, oldest first (a
    /// product's in version order, the store-wide log in the order the
    /// events were written), reading it a page at a time after the last
    /// event seen, so memory stays flat however long it is. Returns how
    /// many events were handed over. An unknown product is `NotFound`
    /// before anything is handed over.
    pub fn stream_stock_log(
        &self,
        input: StockLog,
        sink: &mut dyn FnMut(StockEvent) -> Result<(), AppError>,
    ) -> Result<u64, AppError> {
        if let Some(id) = &input.product {
            if self.stores.ledger.latest_stock_event(id)?.is_none() {
                return Err(AppError::NotFound {
                    what: "product",
                    id: id.to_string(),
                });
            }
        }
        let since = match &input.since {
            Some(since) => Some(self.resolve(Some(since))?),
            None => None,
        };
        let until = match &input.until {
            Some(until) => Some(self.resolve(Some(until))?),
            None => None,
        };
        let mut remaining = input.limit.unwrap_or(u64::MAX);
        let mut query = LogQuery {
            product: input.product,
            since,
            until,
            after: 0,
            limit: LOG_PAGE,
        };
        // The tail is read forwards like the rest of the log, from just
        // before its first event: memory stays flat however long it is.
        if let Some(tail) = input.tail {
            query.after = self.stores.ledger.stock_log_tail(&LogQuery {
                limit: tail,
                ..query.clone()
            })?;
            remaining = remaining.min(u64::from(tail));
        }
        let mut count = 0;
        while remaining > 0 {
            query.limit = u32::try_from(remaining).map_or(LOG_PAGE, |r| r.min(LOG_PAGE));
            let page = self.stores.ledger.stock_log(&query)?;
            let full_page = page.len() == query.limit as usize;
            if let Some(last) = page.last() {
                query.after = last.position;
            }
            for logged in page {
                sink(logged.event)?;
                count += 1;
                remaining -= 1;
            }
            if !full_page {
                break;
            }
        }
        Ok(count)
    }
}
