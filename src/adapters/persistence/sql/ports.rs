//! The store's ports, written once for both SQL backends.
//!
//! A write to a product first locks its row (`FOR UPDATE`; SQLite's write
//! transaction holds the whole database from its start), so what it checks
//! (the product exists, is not archived, still has the values read) holds
//! until it commits, and concurrent writers of one product take turns
//! instead of deadlocking.

use std::ops::ControlFlow;

use super::bulk::{BulkWriter, SqlBatch};
use super::statements::*;
use super::{all, first, Arg, Context, Dialect, Lock, SqlStore, Stored};
use crate::adapters::persistence::decode::{self, Columns};
use crate::adapters::persistence::import;
use crate::adapters::persistence::migrations::{self, Migration};
use crate::adapters::persistence::paging::PagePlan;
use crate::app::ports::{
    CouponQuery, CouponStore, DiscountQuery, DiscountStore, ImportAborted, ImportCounts,
    ImportItem, ImportStore, LedgerScan, LedgerStore, LogQuery, LoggedEvent, ProductDetails,
    ProductListing, ProductQuery, ProductStore, RecordedEvent, RecordedRequest, RequestLog,
    StockBatch, StoreError, StoreStatus,
};
use crate::domain::schedule::{plan_replacement, Scheduled};
use crate::domain::{
    Actor, ChangeKind, Coupon, CouponCode, CustomerId, Discount, DiscountId, EventId,
    IdempotencyKey, Instant, Product, ProductChange, ProductId, Replacement, StockEvent, Window,
};

/// A product's state as a write to it sees it.
enum Locked {
    Missing,
    Archived,
    Writable,
}

/// Reads whether the product is archived, `lock` holding its row.
fn product_state(db: &impl Dialect, cx: Context, id: &ProductId, lock: &str) -> Stored<Locked> {
    let sql = format!("SELECT archived_at IS NOT NULL FROM products WHERE id = ?{lock}");
    let archived = first(db, cx, &sql, &[id.as_str().into()], |r| r.integer(0))?;
    Ok(match archived {
        None => Locked::Missing,
        Some(0) => Locked::Writable,
        Some(_) => Locked::Archived,
    })
}

/// Locks the product's row, refusing a write to a missing or archived one.
fn lock_writable<D: Dialect>(db: &D, id: &ProductId) -> Stored {
    match product_state(
        db,
        Context::WriteForProduct(id.as_str()),
        id,
        D::lock(Lock::Update),
    )? {
        Locked::Missing => Err(StoreError::ProductNotFound(id.to_string())),
        Locked::Archived => Err(StoreError::ProductArchived(id.to_string())),
        Locked::Writable => Ok(()),
    }
}

/// The product's discounts that are on and not over at `at`, earliest
/// window first: the only ones a new discount or a clear can change.
fn open_discounts(
    db: &impl Dialect,
    cx: Context,
    product_id: &ProductId,
    at: Instant,
) -> Stored<Vec<(DiscountId, Window)>> {
    all(
        db,
        cx,
        "SELECT id, valid_from, valid_to FROM discounts
          WHERE product_id = ? AND is_active = 1 AND valid_to > ?
          ORDER BY valid_from, seq",
        &[product_id.as_str().into(), at.into()],
        |r| Ok((decode::discount_id(r, 0)?, decode::window(r, 1)?)),
    )
}

/// Switches off the discounts `ids`, stamping `at` and `actor`, naming
/// `replaced_by` (NULL when cleared).
fn switch_off(
    db: &impl Dialect,
    cx: Context,
    ids: &[DiscountId],
    (at, actor): (Instant, Option<&Actor>),
    replaced_by: Option<&DiscountId>,
) -> Stored {
    if ids.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE discounts SET is_active = 0, deactivated_at = ?, deactivated_by = ?, replaced_by = ?
          WHERE id IN ({})",
        markers(ids.len())
    );
    let mut args: Vec<Arg> = vec![
        at.into(),
        actor.map(Actor::as_str).into(),
        replaced_by.map(DiscountId::as_str).into(),
    ];
    args.extend(ids.iter().map(|id| Arg::from(id.as_str())));
    db.execute(cx, &sql, &args).map(drop)
}

fn record_change(db: &impl Dialect, change: &ProductChange) -> Stored {
    if change.kind == ChangeKind::Created {
        return Err(StoreError::Internal(
            "a creation is the product row itself, not a recorded change".into(),
        ));
    }
    let cx = Context::WriteForProduct(change.product_id.as_str());
    db.execute(cx, &CHANGE_INSERT.sql(1), &change_args(change))
        .map(drop)
}

/// What a movement log query selects: the position column (`seq` for the
/// store-wide log, the version for one product's), the condition, and its
/// arguments.
fn log_filter(query: &LogQuery) -> (&'static str, &'static str, Vec<Arg<'_>>) {
    let since: Arg = query.since.into();
    let until: Arg = query.until.into();
    let mut args = vec![
        query.after.into(),
        since.clone(),
        since,
        until.clone(),
        until,
    ];
    match &query.product {
        None => (
            "seq",
            "seq > ? AND (? IS NULL OR created_at >= ?) AND (? IS NULL OR created_at < ?)",
            args,
        ),
        Some(id) => {
            args.push(id.as_str().into());
            (
                "version",
                "version > ? AND (? IS NULL OR created_at >= ?) AND (? IS NULL OR created_at < ?)
                 AND product_id = ?",
                args,
            )
        }
    }
}

impl<D: Dialect> SqlStore<D> {
    /// Whether any product is archived: one probe of an index.
    fn any_archived(&self) -> Stored<bool> {
        let sql = "SELECT EXISTS (SELECT 1 FROM products WHERE archived_at IS NOT NULL)";
        Ok(first(&self.db, Context::Read, sql, &[], |r| r.integer(0))? == Some(1))
    }

    /// One page of discounts or coupons in creation order: only those whose
    /// `owner` column has the given value, and only those switched on at
    /// `active_at`, when given.
    fn read_page<T>(
        &self,
        select: &str,
        owner: Option<(&str, &str)>,
        active_at: Option<Instant>,
        (limit, offset): (u32, u64),
        decode: fn(&dyn Columns, usize) -> Stored<T>,
    ) -> Stored<Vec<T>> {
        let mut conditions = vec!["1 = 1".to_owned()];
        let mut args: Vec<Arg> = Vec::new();
        if let Some((column, value)) = owner {
            conditions.push(format!("{column} = ?"));
            args.push(value.into());
        }
        if let Some(at) = active_at {
            conditions.push(ON_AT.to_owned());
            args.extend(std::iter::repeat_n(at.into(), ON_AT_BINDS));
        }
        args.extend([limit.into(), offset.into()]);
        let sql = format!(
            "{select} WHERE {} ORDER BY seq LIMIT ? OFFSET ?",
            conditions.join(" AND ")
        );
        all(&self.db, Context::Read, &sql, &args, |r| decode(r, 0))
    }

    fn coupon_by_code(&self, cx: Context, code: &CouponCode) -> Stored<Option<Coupon>> {
        let sql = format!(
            "SELECT {} FROM coupons WHERE code_key = ?",
            coupon_columns("coupons")
        );
        first(&self.db, cx, &sql, &[code.key().into()], |r| {
            decode::coupon(r, 0)
        })
    }
}

impl<D: Dialect> SqlStore<D> {
    /// `db status`: what `migrations` says is applied, and the rows of the
    /// main tables (none in a table a pending migration has yet to create).
    /// `schema_version` is the newest applied one unless the backend keeps
    /// its own.
    pub(in crate::adapters::persistence) fn status_of(
        &self,
        (backend, location): (&'static str, String),
        migrations: &[Migration],
        schema_version: Option<i64>,
    ) -> Stored<StoreStatus> {
        let db = &self.db;
        let tables = all(db, Context::Read, D::TABLES, &[], |r| r.text(0))?;
        let has = |table: &str| tables.iter().any(|t| t == table);
        let mut applied = Vec::new();
        if has("milly_migrations") {
            let sql = "SELECT version, applied_at FROM milly_migrations ORDER BY version";
            let rows = all(db, Context::Read, sql, &[], |r| {
                Ok((r.integer(0)?, r.instant(1).ok()))
            })?;
            applied.extend(rows.into_iter().filter_map(|(v, at)| Some((v, at?))));
        }
        let count = |table: &str| -> Stored<i64> {
            if !has(table) {
                return Ok(0);
            }
            let sql = format!("SELECT COUNT(*) FROM {table}");
            Ok(first(db, Context::Read, &sql, &[], |r| r.integer(0))?.unwrap_or(0))
        };
        let newest = applied.iter().map(|(v, _)| *v).max().unwrap_or(0);
        Ok(StoreStatus {
            backend,
            location,
            schema_version: schema_version.unwrap_or(newest),
            supported_version: migrations::latest_version(migrations),
            migrations: migrations::states(migrations, &applied),
            products: count("products")?,
            stock_events: count("stock_events")?,
            discounts: count("discounts")?,
            coupons: count("coupons")?,
        })
    }
}

impl<D: Dialect> ProductStore for SqlStore<D> {
    fn create_product(&self, product: &Product, opening: &StockEvent) -> Stored {
        self.write(Context::Write, |db| {
            let position = db.next_position()?;
            let args = product_args(position, product);
            db.execute(Context::Write, &PRODUCT_INSERT.sql(1), &args)?;
            db.index_name(position, &product.name.folded())?;
            db.execute(Context::Write, &EVENT_INSERT.sql(1), &event_args(opening))
                .map(drop)
        })
    }

    fn update_product(&self, before: &Product, after: &Product, change: &ProductChange) -> Stored {
        let id = &before.id;
        let cx = Context::WriteForProduct(id.as_str());
        self.write(cx, |db| {
            let sql = format!(
                "SELECT seq, name, description, price_cents, archived_at IS NOT NULL
                   FROM products WHERE id = ?{}",
                D::lock(Lock::Update)
            );
            let current = first(db, cx, &sql, &[id.as_str().into()], |r| {
                Ok((
                    r.integer(0)?,
                    r.text(1)?,
                    r.text(2)?,
                    r.integer(3)?,
                    r.integer(4)?,
                ))
            })?;
            let Some((position, name, description, price, archived)) = current else {
                return Err(StoreError::ProductNotFound(id.to_string()));
            };
            if archived != 0 {
                return Err(StoreError::ProductArchived(id.to_string()));
            }
            if name != before.name.as_str()
                || description != before.description.as_str()
                || price != before.price.cents()
            {
                return Err(StoreError::Conflict(format!(
                    "product {id} changed since it was read"
                )));
            }
            db.execute(
                cx,
                "UPDATE products
                    SET name = ?, name_folded = ?, description = ?, price_cents = ?, updated_at = ?
                  WHERE id = ?",
                &[
                    after.name.as_str().into(),
                    after.name.folded().into(),
                    after.description.as_str().into(),
                    after.price.cents().into(),
                    after.updated_at.into(),
                    id.as_str().into(),
                ],
            )?;
            if after.name != before.name {
                db.reindex_name(position, &before.name.folded(), &after.name.folded())?;
            }
            record_change(db, change)
        })
    }

    fn set_archived(&self, change: &ProductChange) -> Stored<bool> {
        let archive = change.kind.archives().ok_or_else(|| {
            StoreError::Internal(format!(
                "set_archived was given a {} change",
                change.kind.as_str()
            ))
        })?;
        let id = &change.product_id;
        self.write(Context::WriteForProduct(id.as_str()), |db| {
            let cx = Context::WriteForProduct(id.as_str());
            let is_archived = match product_state(db, cx, id, D::lock(Lock::Update))? {
                Locked::Missing => return Err(StoreError::ProductNotFound(id.to_string())),
                Locked::Archived => true,
                Locked::Writable => false,
            };
            if is_archived == archive {
                return Ok(false);
            }
            let archived_at = if archive { change.at.into() } else { Arg::Null };
            db.execute(
                Context::WriteForProduct(id.as_str()),
                "UPDATE products SET archived_at = ?, updated_at = ? WHERE id = ?",
                &[archived_at, change.at.into(), id.as_str().into()],
            )?;
            record_change(db, change)?;
            Ok(true)
        })
    }

    fn product_changes(&self, id: &ProductId) -> Stored<Vec<ProductChange>> {
        let sql = format!(
            "SELECT {CHANGE_COLUMNS} FROM product_changes WHERE product_id = ? ORDER BY seq"
        );
        all(&self.db, Context::Read, &sql, &[id.as_str().into()], |r| {
            decode::product_change(r, 0)
        })
    }

    /// A page's positions are chosen first, so the stock, price and
    /// discount lookups run only for the rows shown.
    fn list_products(&self, query: &ProductQuery, at: Instant) -> Stored<Vec<ProductListing>> {
        let plan = PagePlan::of(query, || self.any_archived())?;
        let read = |db: &D| -> Stored<Vec<_>> {
            let Some((page, page_args)) = db.page(&plan, query.limit)? else {
                return Ok(Vec::new());
            };
            let sql = listing(
                &format!("({page}) page JOIN products p ON p.seq = page.seq"),
                "TRUE",
            );
            let args = listing_args(at, page_args, Vec::new());
            all(db, Context::Read, &sql, &args, decode::listing_row)
        };
        // A name index's candidates and the page from one snapshot, so a
        // product added or renamed in between is in both or neither.
        let rows = if plan.term.is_some_and(|t| t.chars().count() >= 3) {
            self.snapshot(Context::Read, read)?
        } else {
            read(&self.db)?
        };
        Ok(decode::first_per_product(rows))
    }

    /// One statement, its rows handed on as the driver reads them, so the
    /// database computes while milly prints.
    fn scan_products(
        &self,
        include_archived: bool,
        at: Instant,
        sink: &mut dyn FnMut(ProductListing) -> ControlFlow<()>,
    ) -> Stored {
        let sql = listing(
            &format!("products p{}", D::BY_POSITION),
            "? OR p.archived_at IS NULL",
        );
        let args = listing_args(at, Vec::new(), vec![include_archived.into()]);
        let mut first = decode::FirstPerProduct::default();
        let mut stopped = false;
        self.db.query(Context::Read, &sql, &args, &mut |row| {
            let flow = first.push(decode::listing_row(row)?, sink);
            stopped = flow.is_break();
            Ok(flow)
        })?;
        if !stopped {
            first.finish(sink);
        }
        Ok(())
    }

    fn product_details(
        &self,
        id: &ProductId,
        customer: Option<&CustomerId>,
        at: Instant,
    ) -> Stored<Option<ProductDetails>> {
        // One statement, so one round trip and one consistent read.
        let mut args: Vec<Arg> = vec![at.into(); 8];
        args.push(customer.map(CustomerId::as_str).into());
        args.extend([
            at.into(),
            at.into(),
            at.into(),
            at.into(),
            id.as_str().into(),
        ]);
        const STOCK: usize = decode::PRODUCT_WIDTH;
        const DISCOUNT: usize = STOCK + 2;
        first(&self.db, Context::Read, &details(), &args, |r| {
            Ok(ProductDetails {
                product: decode::product(r, 0)?,
                stock: r.integer(STOCK)?,
                price: decode::money(r, STOCK + 1)?,
                discount: decode::optional(r, DISCOUNT, decode::discount)?,
                coupon: decode::optional(r, DISCOUNT + decode::DISCOUNT_WIDTH, decode::coupon)?,
            })
        })
    }
}

impl<D: Dialect> LedgerStore for SqlStore<D> {
    fn latest_stock_event(&self, id: &ProductId) -> Stored<Option<StockEvent>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM stock_events WHERE product_id = ? ORDER BY version DESC LIMIT 1"
        );
        first(&self.db, Context::Read, &sql, &[id.as_str().into()], |r| {
            decode::event(r, 0)
        })
    }

    /// Two lookups on unique indexes: the row by its id, the reverting row
    /// by `reverts`.
    fn stock_event(&self, id: &EventId) -> Stored<Option<RecordedEvent>> {
        let sql = format!(
            "SELECT {}, r.id FROM stock_events e
               LEFT JOIN stock_events r ON r.reverts = e.id
              WHERE e.id = ?",
            event_columns("e")
        );
        first(&self.db, Context::Read, &sql, &[id.as_str().into()], |r| {
            Ok(RecordedEvent {
                event: decode::event(r, 0)?,
                reverted_by: decode::optional_event_id(r, decode::EVENT_WIDTH)?,
            })
        })
    }

    /// The product row is locked for update, then the event is a plain
    /// INSERT: the unique (product_id, version) index decides the race
    /// between adjusters, and archiving waits for the append or goes
    /// first. Not a shared lock: the schema's trigger moves the product
    /// row's recorded latest version on with every row appended, so an
    /// appender holding the row shared would deadlock with another one
    /// wanting it exclusively. Not an INSERT … SELECT: InnoDB gives that
    /// statement the table's AUTO-INC lock for its whole run, so an append
    /// waiting behind a stock import's row locks would stall that import's
    /// own inserts until the lock timeout (error 1467).
    fn append_stock_event(&self, event: &StockEvent) -> Stored {
        let id = &event.product_id;
        let cx = Context::AppendEvent(id.as_str());
        self.write(cx, |db| {
            match product_state(db, cx, id, D::lock(Lock::Update))? {
                Locked::Missing => Err(StoreError::ProductNotFound(id.to_string())),
                Locked::Archived => Err(StoreError::ProductArchived(id.to_string())),
                Locked::Writable => db
                    .execute(cx, &EVENT_INSERT.sql(1), &event_args(event))
                    .map(drop),
            }
        })
    }

    fn stock_history(&self, id: &ProductId) -> Stored<Option<Vec<StockEvent>>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM stock_events WHERE product_id = ? ORDER BY version"
        );
        let events = all(&self.db, Context::Read, &sql, &[id.as_str().into()], |r| {
            decode::event(r, 0)
        })?;
        Ok(decode::ledger(events))
    }

    /// Both statements see one snapshot. Rows come in the unique
    /// (product_id, version) index's order: no sort, and each row is handed
    /// on as soon as it is read, with the latest version its product row
    /// records (one primary-key lookup).
    fn scan_ledgers(
        &self,
        product: Option<&ProductId>,
        sink: &mut dyn FnMut(LedgerScan) -> ControlFlow<()>,
    ) -> Stored {
        let args: Vec<Arg> = product.map(|id| id.as_str().into()).into_iter().collect();
        let (events, orphans) = match product {
            None => (
                "SELECT e.product_id, e.version, e.`change`, e.total_after_change,
                        COALESCE((SELECT p.stock_version FROM products p WHERE p.id = e.product_id), 0)
                   FROM stock_events e
                  ORDER BY e.product_id, e.version",
                "SELECT p.id FROM products p
                  WHERE NOT EXISTS (SELECT 1 FROM stock_events e WHERE e.product_id = p.id)
                  ORDER BY p.seq",
            ),
            Some(_) => (
                "SELECT e.product_id, e.version, e.`change`, e.total_after_change,
                        COALESCE((SELECT p.stock_version FROM products p WHERE p.id = e.product_id), 0)
                   FROM stock_events e
                  WHERE e.product_id = ? ORDER BY e.version",
                "SELECT p.id FROM products p
                  WHERE p.id = ? AND NOT EXISTS (SELECT 1 FROM stock_events e WHERE e.product_id = p.id)",
            ),
        };
        self.snapshot(Context::Read, |db| {
            let mut stopped = false;
            db.query(Context::Read, events, &args, &mut |row| {
                let entry = decode::ledger_entry(row, 0)?;
                stopped = sink(LedgerScan::Entry(entry)).is_break();
                Ok(if stopped {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                })
            })?;
            if stopped {
                return Ok(());
            }
            db.query(Context::Read, orphans, &args, &mut |row| {
                let id = decode::product_id(row, 0)?;
                Ok(sink(LedgerScan::NoLedger(id)))
            })
        })
    }

    /// A page of the movement log: the store-wide log in `seq` order (the
    /// primary key), one product's in version order (its unique index).
    fn stock_log(&self, query: &LogQuery) -> Stored<Vec<LoggedEvent>> {
        let (position, filter, mut args) = log_filter(query);
        let sql = format!(
            "SELECT {position}, {EVENT_COLUMNS} FROM stock_events
              WHERE {filter} ORDER BY {position} LIMIT ?"
        );
        args.push(query.limit.into());
        all(&self.db, Context::Read, &sql, &args, |r| {
            Ok(LoggedEvent {
                position: r.integer(0)?,
                event: decode::event(r, 1)?,
            })
        })
    }

    /// The position of the event just before the tail: the same index read
    /// backwards from the end, skipping the tail's events.
    fn stock_log_tail(&self, query: &LogQuery) -> Stored<i64> {
        let (position, filter, mut args) = log_filter(query);
        let sql = format!(
            "SELECT {position} FROM stock_events
              WHERE {filter} ORDER BY {position} DESC LIMIT 1 OFFSET ?"
        );
        args.push(query.limit.into());
        let before = first(&self.db, Context::Read, &sql, &args, |r| r.integer(0))?;
        Ok(before.unwrap_or(query.after))
    }

    /// A batch its work gives up on writes nothing: its transaction is
    /// rolled back (a unit of work is rolled back by its caller).
    fn change_stock(
        &self,
        work: &mut dyn FnMut(&mut dyn StockBatch) -> Stored<bool>,
    ) -> Stored<bool> {
        self.db.before_bulk()?;
        let written = self.attempt(Context::Write, |db| {
            let mut batch = SqlBatch::new(db);
            if !work(&mut batch)? {
                return Ok(None);
            }
            batch.flush()?;
            Ok(Some(()))
        })?;
        Ok(written.is_some())
    }
}

impl<D: Dialect> DiscountStore for SqlStore<D> {
    /// Locking the product row makes concurrent `discount set` for one
    /// product take turns, each planning against what the one before
    /// wrote, and tells a missing or archived product apart directly. The
    /// new row takes the product's next `schedule_version`, unique per
    /// product: where a row lock does not order writers (Galera nodes
    /// certify only written keys), two that planned against the same
    /// discounts collide there, and the loser is retried.
    fn replace_discount(&self, discount: &Discount) -> Stored<Replacement> {
        let product_id = &discount.product_id;
        let cx = Context::WriteForProduct(product_id.as_str());
        let now = discount.created_at;
        self.write(cx, |db| {
            lock_writable(db, product_id)?;
            // Read before the discounts it numbers the plan against: a
            // writer that planned against older discounts read an older
            // number, and its insert collides.
            let newest = first(
                db,
                cx,
                "SELECT schedule_version FROM discounts
                  WHERE product_id = ? AND schedule_version IS NOT NULL
                  ORDER BY schedule_version DESC LIMIT 1",
                &[product_id.as_str().into()],
                |r| r.integer(0),
            )?;
            let open = open_discounts(db, cx, product_id, now)?;
            let existing: Vec<Scheduled> = open
                .iter()
                .map(|(id, window)| Scheduled {
                    id,
                    window: *window,
                    is_on: true,
                })
                .collect();
            let until = discount.window.until();
            let plan = plan_replacement(
                &existing,
                discount.window,
                now,
                "--until",
                &until.to_rfc3339(),
            )
            .map_err(|e| StoreError::Internal(format!("a discount set with {e}")))?;
            let new_id = &discount.id;
            if let Some(cut_at) = plan.cut_at {
                let sql = format!(
                    "UPDATE discounts SET valid_to = ?, replaced_by = ? WHERE id IN ({})",
                    markers(plan.cut.len())
                );
                let mut args: Vec<Arg> = vec![cut_at.into(), new_id.as_str().into()];
                args.extend(plan.cut.iter().map(|id| Arg::from(id.as_str())));
                db.execute(cx, &sql, &args)?;
            }
            let stamp = (now, discount.actor.as_ref());
            switch_off(db, cx, &plan.cancelled, stamp, Some(new_id))?;
            db.execute(cx, &DISCOUNT_INSERT.sql(1), &discount_args(discount))?;
            db.execute(
                cx,
                "UPDATE discounts SET schedule_version = ? WHERE id = ?",
                &[(newest.unwrap_or(0) + 1).into(), new_id.as_str().into()],
            )?;
            Ok(plan)
        })
    }

    fn clear_discount(
        &self,
        product_id: &ProductId,
        at: Instant,
        actor: Option<&Actor>,
    ) -> Stored<Vec<DiscountId>> {
        let cx = Context::WriteForProduct(product_id.as_str());
        self.write(cx, |db| {
            lock_writable(db, product_id)?;
            let ids: Vec<DiscountId> = open_discounts(db, cx, product_id, at)?
                .into_iter()
                .map(|(id, _)| id)
                .collect();
            switch_off(db, cx, &ids, (at, actor), None)?;
            Ok(ids)
        })
    }

    fn list_discounts(&self, query: &DiscountQuery) -> Stored<Vec<Discount>> {
        self.read_page(
            &format!("SELECT {} FROM discounts", discount_columns("discounts")),
            query
                .product_id
                .as_ref()
                .map(|p| ("product_id", p.as_str())),
            query.active_at,
            (query.limit, query.offset),
            decode::discount,
        )
    }
}

impl<D: Dialect> CouponStore for SqlStore<D> {
    fn create_coupon(&self, coupon: &Coupon) -> Stored {
        let cx = Context::CreateCoupon(coupon.code.as_str());
        self.single(cx, |db| {
            db.execute(cx, &COUPON_INSERT.sql(1), &coupon_args(coupon))
                .map(drop)
        })
    }

    fn deactivate_coupon(
        &self,
        code: &CouponCode,
        at: Instant,
        actor: Option<&Actor>,
    ) -> Stored<Option<Coupon>> {
        self.write(Context::Write, |db| {
            db.execute(
                Context::Write,
                "UPDATE coupons SET is_active = 0, deactivated_at = ?, deactivated_by = ?
                  WHERE code_key = ? AND is_active = 1",
                &[
                    at.into(),
                    actor.map(Actor::as_str).into(),
                    code.key().into(),
                ],
            )?;
            self.coupon_by_code(Context::Write, code)
        })
    }

    fn list_coupons(&self, query: &CouponQuery) -> Stored<Vec<Coupon>> {
        self.read_page(
            &format!("SELECT {} FROM coupons", coupon_columns("coupons")),
            query.user_id.as_ref().map(|u| ("user_id", u.as_str())),
            query.active_at,
            (query.limit, query.offset),
            decode::coupon,
        )
    }

    fn coupon(&self, code: &CouponCode) -> Stored<Option<Coupon>> {
        self.coupon_by_code(Context::Read, code)
    }
}

impl<D: Dialect> ImportStore for SqlStore<D> {
    /// An aborted import is given up: its transaction (or the unit of work,
    /// which the caller then rolls back) writes nothing.
    fn import(
        &self,
        items: &mut dyn Iterator<Item = Result<ImportItem, ImportAborted>>,
    ) -> Stored<Option<ImportCounts>> {
        self.db.before_bulk()?;
        self.attempt(Context::Write, |db| {
            let mut writer = BulkWriter::new(db)?;
            let Some(counts) = import::write_all(items, &mut writer)? else {
                return Ok(None);
            };
            writer.finish()?;
            Ok(Some(counts))
        })
    }
}

impl<D: Dialect> RequestLog for SqlStore<D> {
    fn recorded_request(&self, key: &IdempotencyKey) -> Stored<Option<RecordedRequest>> {
        let sql = "SELECT fingerprint, result FROM idempotency_keys WHERE idem_key = ?";
        first(&self.db, Context::Read, sql, &[key.as_str().into()], |r| {
            Ok(RecordedRequest {
                fingerprint: r.text(0)?,
                result: r.text(1)?,
            })
        })
    }

    /// A key another unit recorded first is a duplicate once it commits, or
    /// a failed certification on another Galera node: both are conflicts,
    /// and the retried unit finds the key.
    fn record_request(
        &self,
        key: &IdempotencyKey,
        request: &RecordedRequest,
        at: Instant,
    ) -> Stored {
        self.db.check_recordable(request.result.len())?;
        self.write(Context::Write, |db| {
            db.execute(
                Context::Write,
                "INSERT INTO idempotency_keys (idem_key, fingerprint, result, created_at)
                 VALUES (?, ?, ?, ?)",
                &[
                    key.as_str().into(),
                    request.fingerprint.as_str().into(),
                    request.result.as_str().into(),
                    at.into(),
                ],
            )
            .map(drop)
        })
    }

    fn prune_requests(&self, before: Instant) -> Stored<u64> {
        self.write(Context::Write, |db| {
            db.execute(
                Context::Write,
                "DELETE FROM idempotency_keys WHERE created_at < ?",
                &[before.into()],
            )
        })
    }
}
