//! Bulk writes, for both backends: rows gathered into multi-row INSERTs of
//! up to [`Dialect::BATCH_ROWS`] rows (a round trip per few hundred rows on
//! a server; one prepared row at a time in process), written parents first
//! (products before the events and discounts that reference them) whenever
//! one batch is full, so memory stays flat however long the input.

use super::statements::*;
use super::{all, Arg, Context, Dialect, Lock, Stored};
use crate::adapters::persistence::decode;
use crate::adapters::persistence::import::ImportWriter;
use crate::app::ports::StockBatch;
use crate::domain::{Coupon, Discount, Product, ProductId, StockEvent};

/// The rows waiting for one table's INSERT.
struct Pending {
    insert: &'static Insert,
    rows: usize,
    args: Vec<Arg<'static>>,
    /// The statement for the last row count written: nearly every flush
    /// has as many rows as the one before.
    sql: (usize, String),
}

impl Pending {
    fn new(insert: &'static Insert) -> Self {
        Pending {
            insert,
            rows: 0,
            args: Vec::new(),
            sql: (0, String::new()),
        }
    }

    fn add<'a>(&mut self, args: impl IntoIterator<Item = Arg<'a>>) {
        self.args.extend(args.into_iter().map(Arg::into_owned));
        self.rows += 1;
    }

    fn flush(&mut self, db: &impl Dialect, cx: Context) -> Stored {
        if self.rows == 0 {
            return Ok(());
        }
        if self.sql.0 != self.rows {
            self.sql = (self.rows, self.insert.sql(self.rows));
        }
        db.execute(cx, &self.sql.1, &self.args)?;
        self.args.clear();
        self.rows = 0;
        Ok(())
    }
}

/// Import rows; each product takes the next position.
pub struct BulkWriter<'d, D: Dialect> {
    db: &'d D,
    first: i64,
    position: i64,
    /// Products, events, discounts: the order they are written in.
    tables: [Pending; 3],
    names: D::ImportNames,
}

impl<'d, D: Dialect> BulkWriter<'d, D> {
    pub fn new(db: &'d D) -> Stored<Self> {
        let first = db.next_position()?;
        Ok(BulkWriter {
            db,
            first,
            position: first,
            tables: [
                Pending::new(&PRODUCT_INSERT),
                Pending::new(&EVENT_INSERT),
                Pending::new(&DISCOUNT_INSERT),
            ],
            names: D::ImportNames::default(),
        })
    }

    fn flush(&mut self) -> Stored {
        for table in &mut self.tables {
            table.flush(self.db, Context::Write)?;
        }
        Ok(())
    }

    /// Writes what is left and indexes the new names.
    pub fn finish(mut self) -> Stored {
        self.flush()?;
        self.db.finish_import(self.names, self.first)
    }
}

impl<D: Dialect> ImportWriter for BulkWriter<'_, D> {
    fn product(
        &mut self,
        product: &Product,
        events: &[StockEvent],
        discount: Option<&Discount>,
    ) -> Stored {
        let [products, ledger, discounts] = &mut self.tables;
        products.add(product_args(self.position, product));
        for event in events {
            ledger.add(event_args(event));
        }
        if let Some(discount) = discount {
            discounts.add(discount_args(discount));
        }
        if self.tables.iter().any(|t| t.rows >= D::BATCH_ROWS) {
            self.flush()?;
        }
        self.db
            .import_name(&mut self.names, self.position, &product.name.folded())?;
        self.position += 1;
        Ok(())
    }

    /// One at a time, so a taken code is reported as that code.
    fn coupon(&mut self, coupon: &Coupon) -> Stored {
        let cx = Context::CreateCoupon(coupon.code.as_str());
        self.db
            .execute(cx, &COUPON_INSERT.sql(1), &coupon_args(coupon))
            .map(drop)
    }
}

/// `import stock`. A plain read would let a concurrent `stock adjust` take
/// the next version between this transaction's read and its append, and
/// fail the whole import at its end. So each product's row is locked first
/// (`FOR UPDATE`, where the database locks rows; SQLite's write transaction
/// holds the whole database): an append to its ledger checks the product
/// with a shared lock, so concurrent adjusters wait for this transaction
/// and then find their version taken, which they retry. Products are locked
/// in id order, a chunk at a time, and appends go out in multi-row INSERTs.
pub struct SqlBatch<'d, D> {
    db: &'d D,
    events: Pending,
}

impl<'d, D: Dialect> SqlBatch<'d, D> {
    pub fn new(db: &'d D) -> Self {
        let events = Pending::new(&EVENT_INSERT);
        SqlBatch { db, events }
    }

    /// Writes the held-back appends in one statement.
    pub fn flush(&mut self) -> Stored {
        self.events.flush(self.db, Context::Write)
    }
}

impl<D: Dialect> StockBatch for SqlBatch<'_, D> {
    fn latest_events(&mut self, ids: &[ProductId]) -> Stored<Vec<StockEvent>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.flush()?;
        let mut sorted: Vec<&str> = ids.iter().map(ProductId::as_str).collect();
        sorted.sort_unstable();
        sorted.dedup();
        let marks = markers(sorted.len());
        let args: Vec<Arg> = sorted.into_iter().map(Arg::from).collect();
        if !D::lock(Lock::Update).is_empty() {
            let lock = format!(
                "SELECT id FROM products WHERE id IN ({marks}) ORDER BY id{}",
                D::lock(Lock::Update)
            );
            all(self.db, Context::Write, &lock, &args, |_| Ok(()))?;
        }
        // Read after the locks: under READ COMMITTED this sees every append
        // committed before them.
        let latest = format!(
            "SELECT e.id, e.product_id, e.`change`, e.total_after_change, e.version, e.reason, e.created_at, e.actor, e.reverts
               FROM stock_events e
               JOIN (SELECT product_id, MAX(version) AS version FROM stock_events
                      WHERE product_id IN ({marks}) GROUP BY product_id) m
                 ON e.product_id = m.product_id AND e.version = m.version"
        );
        all(self.db, Context::Write, &latest, &args, |r| {
            decode::event(r, 0)
        })
    }

    /// Read after `latest_events` locked the rows, so no one archives them
    /// before this transaction ends.
    fn archived_among(&mut self, ids: &[ProductId]) -> Stored<Vec<ProductId>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT id FROM products WHERE id IN ({}) AND archived_at IS NOT NULL",
            markers(ids.len())
        );
        let args: Vec<Arg> = ids.iter().map(|id| id.as_str().into()).collect();
        all(self.db, Context::Write, &sql, &args, |r| {
            decode::product_id(r, 0)
        })
    }

    fn append(&mut self, event: StockEvent) -> Stored {
        self.events.add(event_args(&event));
        if self.events.rows < D::BATCH_ROWS {
            return Ok(());
        }
        // Appended one at a time, an event is refused as an append to its
        // product's ledger; a batch's refusal names no one product.
        let cx = match D::BATCH_ROWS {
            1 => Context::AppendEvent(event.product_id.as_str()),
            _ => Context::Write,
        };
        self.events.flush(self.db, cx)
    }
}
