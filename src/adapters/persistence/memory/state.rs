//! The catalog's rows in memory, and every read and write of them.
//!
//! What the SQL schemas enforce (unique ids, one version per product and
//! ledger row, coupon codes unique without case, rows that refer to an existing product) is checked here before
//! anything changes, so each write is all or nothing on its own and refuses
//! with the same error the SQL adapters report for the same refusal.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap, HashSet};

use crate::app::ports::{
    CouponQuery, DiscountQuery, LedgerScan, LogQuery, LoggedEvent, PageStart, ProductDetails,
    ProductListing, ProductQuery, RecordedEvent, RecordedRequest, StoreError,
};
use crate::domain::schedule::{plan_replacement, Scheduled};
use crate::domain::{
    Actor, ChangeKind, Coupon, CouponCode, CouponId, CustomerId, Deactivation, Discount,
    DiscountId, EventId, IdempotencyKey, Instant, LedgerEntry, Money, Product, ProductChange,
    ProductId, Replacement, StockEvent, Window,
};

/// A product as stored: the row and its case-folded name, which name
/// filters match against.
#[derive(Debug, Clone)]
struct ProductRow {
    product: Product,
    folded: String,
}

/// A recorded idempotent request and when it was recorded.
#[derive(Debug, Clone)]
struct KeyRecord {
    request: RecordedRequest,
    at: Instant,
}

/// What a refused ledger row means to the write that tried it, as the
/// refusal table of the SQL adapters says: a taken version is a lost race
/// for an append, a row of a product that does not exist is that product's
/// absence for an append and a broken input for a bulk import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EventWrite {
    Append,
    Import,
}

/// Every row of one database. Positions are indexes plus one: products and
/// ledger rows are never deleted, so they number the rows densely in the
/// order they were written, as the SQL tables' `seq` columns do.
#[derive(Debug, Clone, Default)]
pub(super) struct State {
    products: Vec<ProductRow>,
    /// Index in `products` of each product.
    product_index: HashMap<ProductId, usize>,
    archived: usize,
    events: Vec<StockEvent>,
    /// Index in `events` of each ledger row.
    event_ids: HashMap<EventId, usize>,
    /// Each reverted row's id → the id of the row that reverts it.
    reverted: HashMap<EventId, EventId>,
    /// Each product's ledger: version → index in `events`. Ordered by
    /// product id, as the SQL ledger scans read their unique index.
    ledgers: BTreeMap<ProductId, BTreeMap<i64, usize>>,
    discounts: Vec<Discount>,
    discount_ids: HashSet<DiscountId>,
    /// Indexes in `discounts` of each product's discounts, in creation order.
    discounts_of: HashMap<ProductId, Vec<usize>>,
    coupons: Vec<Coupon>,
    coupon_ids: HashSet<CouponId>,
    /// Index in `coupons` by the code's case-free key.
    coupon_codes: HashMap<String, usize>,
    /// Each product's recorded changes, oldest first.
    changes: HashMap<ProductId, Vec<ProductChange>>,
    requests: HashMap<IdempotencyKey, KeyRecord>,
}

/// Row counts, for `db status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Counts {
    pub products: i64,
    pub stock_events: i64,
    pub discounts: i64,
    pub coupons: i64,
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn refused(what: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(format!("the database refused a write: {what}"))
}

/// An offset or position as an index into a list.
fn index_from(n: impl TryInto<usize>) -> usize {
    n.try_into().unwrap_or(usize::MAX)
}

// ------------------------------------------------------------------ reads

impl State {
    pub fn counts(&self) -> Counts {
        Counts {
            products: count(self.products.len()),
            stock_events: count(self.events.len()),
            discounts: count(self.discounts.len()),
            coupons: count(self.coupons.len()),
        }
    }

    fn row(&self, id: &ProductId) -> Option<&ProductRow> {
        self.product_index.get(id).map(|&i| &self.products[i])
    }

    /// The product's archived state: `None` when it does not exist.
    pub fn archived_state(&self, id: &ProductId) -> Option<bool> {
        self.row(id).map(|row| row.product.is_archived())
    }

    /// Refuses a write to a product that is missing or archived.
    fn writable(&self, id: &ProductId) -> Result<(), StoreError> {
        match self.archived_state(id) {
            None => Err(StoreError::ProductNotFound(id.to_string())),
            Some(true) => Err(StoreError::ProductArchived(id.to_string())),
            Some(false) => Ok(()),
        }
    }

    pub fn latest_event(&self, id: &ProductId) -> Option<&StockEvent> {
        let ledger = self.ledgers.get(id)?;
        ledger.values().next_back().map(|&i| &self.events[i])
    }

    /// A ledger row by its id, and the id of the row that reverts it.
    pub fn recorded_event(&self, id: &EventId) -> Option<RecordedEvent> {
        let index = *self.event_ids.get(id)?;
        Some(RecordedEvent {
            event: self.events[index].clone(),
            reverted_by: self.reverted.get(id).cloned(),
        })
    }

    pub fn history(&self, id: &ProductId) -> Option<Vec<StockEvent>> {
        let ledger = self.ledgers.get(id)?;
        Some(ledger.values().map(|&i| self.events[i].clone()).collect())
    }

    /// The product's stock at `at`: its latest ledger row recorded by then,
    /// or 0 before its first (a product recorded later, which listings skip
    /// and `product show` refuses). Every product has its version-1 row;
    /// one without any (a bulk import given no ledger) cannot be listed, as
    /// the SQL adapters cannot read its stock either.
    fn stock(&self, id: &ProductId, at: Instant) -> Result<i64, StoreError> {
        let ledger = self
            .ledgers
            .get(id)
            .filter(|l| !l.is_empty())
            .ok_or_else(|| {
                StoreError::Internal(format!(
                    "unreadable stored value: product {id} has no stock ledger"
                ))
            })?;
        Ok(ledger
            .values()
            .rev()
            .map(|&i| &self.events[i])
            .find(|e| e.created_at <= at)
            .map_or(0, |e| e.total_after_change))
    }

    /// The price in force at `at`: today's when the product has not changed
    /// since; otherwise the last price set at or before `at`, else the price
    /// the first later change replaced, else today's.
    fn price_at(&self, product: &Product, at: Instant) -> Money {
        if product.updated_at <= at {
            return product.price;
        }
        let changes = self.changes.get(&product.id).map_or(&[][..], Vec::as_slice);
        let set_before = changes
            .iter()
            .enumerate()
            .filter(|(_, c)| c.at <= at)
            .filter_map(|(seq, c)| c.price.as_ref().map(|p| ((c.at, seq), p.new)))
            .max_by_key(|(order, _)| *order)
            .map(|(_, price)| price);
        let replaced_after = || {
            changes
                .iter()
                .enumerate()
                .filter(|(_, c)| c.at > at)
                .filter_map(|(seq, c)| {
                    c.price
                        .as_ref()
                        .and_then(|p| p.old)
                        .map(|old| ((c.at, seq), old))
                })
                .min_by_key(|(order, _)| *order)
                .map(|(_, price)| price)
        };
        set_before.or_else(replaced_after).unwrap_or(product.price)
    }

    /// The discount applying at `at`: inside its window and on then; the
    /// earliest set when several qualify.
    fn discount_at(&self, id: &ProductId, at: Instant) -> Option<Discount> {
        self.discounts_of
            .get(id)?
            .iter()
            .map(|&i| &self.discounts[i])
            .find(|d| d.applies_at(at))
            .cloned()
    }

    /// The customer's best coupon at `at`: the highest percentage, then the
    /// one that ends first, then the oldest.
    fn best_coupon(&self, customer: &CustomerId, at: Instant) -> Option<Coupon> {
        self.coupons
            .iter()
            .enumerate()
            .filter(|(_, c)| &c.user_id == customer && c.applies_at(at))
            .min_by_key(|(seq, c)| (Reverse(c.percentage), c.window.until(), *seq))
            .map(|(_, c)| c.clone())
    }

    fn listing(&self, index: usize, at: Instant) -> Result<ProductListing, StoreError> {
        let product = &self.products[index].product;
        Ok(ProductListing {
            position: count(index + 1),
            price: self.price_at(product, at),
            stock: self.stock(&product.id, at)?,
            discount: self.discount_at(&product.id, at),
            product: product.clone(),
        })
    }

    pub fn list_products(
        &self,
        query: &ProductQuery,
        at: Instant,
    ) -> Result<Vec<ProductListing>, StoreError> {
        let term = query.name_contains.as_deref();
        let hides_archived = !query.include_archived && self.archived > 0;
        // Positions are dense: without a filter, skipping n products is
        // starting at index n, whatever the page number.
        let (first, skip) = match query.start {
            PageStart::Offset(n) if term.is_none() && !hides_archived => (index_from(n), 0),
            PageStart::Offset(n) => (0, index_from(n)),
            PageStart::After(position) => (index_from(position.max(0)), 0),
        };
        let matches = |row: &&ProductRow| {
            row.product.created_at <= at
                && (query.include_archived || !row.product.is_archived())
                && term.is_none_or(|t| row.folded.contains(t))
        };
        let first = first.min(self.products.len());
        self.products[first..]
            .iter()
            .enumerate()
            .filter(|(_, row)| matches(row))
            .skip(skip)
            .take(query.limit as usize)
            .map(|(i, _)| self.listing(first + i, at))
            .collect()
    }

    /// Every product in creation order, archived ones only when asked.
    pub fn all_products(
        &self,
        include_archived: bool,
        at: Instant,
    ) -> Result<Vec<ProductListing>, StoreError> {
        (0..self.products.len())
            .filter(|&i| self.products[i].product.created_at <= at)
            .filter(|&i| include_archived || !self.products[i].product.is_archived())
            .map(|i| self.listing(i, at))
            .collect()
    }

    pub fn product_details(
        &self,
        id: &ProductId,
        customer: Option<&CustomerId>,
        at: Instant,
    ) -> Result<Option<ProductDetails>, StoreError> {
        let Some(row) = self.row(id) else {
            return Ok(None);
        };
        let product = &row.product;
        Ok(Some(ProductDetails {
            price: self.price_at(product, at),
            stock: self.stock(id, at)?,
            discount: self.discount_at(id, at),
            coupon: customer.and_then(|c| self.best_coupon(c, at)),
            product: product.clone(),
        }))
    }

    pub fn product_changes(&self, id: &ProductId) -> Vec<ProductChange> {
        self.changes.get(id).cloned().unwrap_or_default()
    }

    /// Every ledger row (or one product's), grouped by product in id order
    /// and in version order, then the products without any row.
    /// No row here is ever removed, so a ledger ends where its product
    /// says it does: at its highest version.
    pub fn scan_ledgers(&self, product: Option<&ProductId>) -> Vec<LedgerScan> {
        let entry = |&i: &usize| {
            let e: &StockEvent = &self.events[i];
            let latest = self.ledgers[&e.product_id].keys().next_back();
            LedgerScan::Entry(LedgerEntry {
                product_id: e.product_id.clone(),
                version: e.version,
                change: e.change,
                total_after_change: e.total_after_change,
                recorded_latest: latest.copied().unwrap_or(e.version),
            })
        };
        match product {
            None => {
                let rows = self.ledgers.values().flat_map(|l| l.values().map(entry));
                let bare = self
                    .products
                    .iter()
                    .filter(|row| !self.ledgers.contains_key(&row.product.id))
                    .map(|row| LedgerScan::NoLedger(row.product.id.clone()));
                rows.chain(bare).collect()
            }
            Some(id) => match (self.ledgers.get(id), self.row(id)) {
                (Some(ledger), _) => ledger.values().map(entry).collect(),
                (None, Some(_)) => vec![LedgerScan::NoLedger(id.clone())],
                (None, None) => Vec::new(),
            },
        }
    }

    /// The movement log's events after `query.after`, as (position,
    /// event): every event in the order written (position: its place in
    /// that order), or one product's in version order (position: the
    /// version), those outside `since` and `until` left out.
    fn log<'a>(&'a self, query: &'a LogQuery) -> Vec<(i64, &'a StockEvent)> {
        let kept = |e: &StockEvent| {
            query.since.is_none_or(|s| e.created_at >= s)
                && query.until.is_none_or(|u| e.created_at < u)
        };
        match &query.product {
            None => {
                let first = index_from(query.after.max(0)).min(self.events.len());
                self.events[first..]
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (count(first + i + 1), e))
                    .filter(|(_, e)| kept(e))
                    .collect()
            }
            Some(id) => self
                .ledgers
                .get(id)
                .into_iter()
                .flat_map(|ledger| ledger.range(query.after.saturating_add(1)..))
                .map(|(&version, &i)| (version, &self.events[i]))
                .filter(|(_, e)| kept(e))
                .collect(),
        }
    }

    /// A page of the movement log (see [`State::log`]).
    pub fn stock_log(&self, query: &LogQuery) -> Vec<LoggedEvent> {
        self.log(query)
            .into_iter()
            .take(query.limit as usize)
            .map(|(position, e)| LoggedEvent {
                position,
                event: e.clone(),
            })
            .collect()
    }

    /// The position just before the log's newest `query.limit` events.
    pub fn stock_log_tail(&self, query: &LogQuery) -> i64 {
        self.log(query)
            .into_iter()
            .rev()
            .nth(query.limit as usize)
            .map_or(query.after, |(position, _)| position)
    }

    pub fn list_discounts(&self, query: &DiscountQuery) -> Vec<Discount> {
        self.discounts
            .iter()
            .filter(|d| query.product_id.as_ref().is_none_or(|p| &d.product_id == p))
            .filter(|d| query.active_at.is_none_or(|at| d.applies_at(at)))
            .skip(index_from(query.offset))
            .take(query.limit as usize)
            .cloned()
            .collect()
    }

    pub fn list_coupons(&self, query: &CouponQuery) -> Vec<Coupon> {
        self.coupons
            .iter()
            .filter(|c| query.user_id.as_ref().is_none_or(|u| &c.user_id == u))
            .filter(|c| query.active_at.is_none_or(|at| c.applies_at(at)))
            .skip(index_from(query.offset))
            .take(query.limit as usize)
            .cloned()
            .collect()
    }

    pub fn coupon(&self, code: &CouponCode) -> Option<Coupon> {
        self.coupon_codes
            .get(&code.key())
            .map(|&i| self.coupons[i].clone())
    }

    pub fn recorded_request(&self, key: &IdempotencyKey) -> Option<RecordedRequest> {
        self.requests.get(key).map(|r| r.request.clone())
    }
}

// ----------------------------------------------------------------- writes

impl State {
    /// Refuses what the products table would.
    fn check_product(&self, product: &Product) -> Result<(), StoreError> {
        if self.product_index.contains_key(&product.id) {
            return Err(StoreError::Conflict(format!(
                "a product with id {} exists",
                product.id
            )));
        }
        if product.price.cents() <= 0 {
            return Err(refused("a product's price must be above zero"));
        }
        Ok(())
    }

    fn push_product(&mut self, product: &Product) {
        self.product_index
            .insert(product.id.clone(), self.products.len());
        self.archived += usize::from(product.is_archived());
        self.products.push(ProductRow {
            folded: product.name.folded(),
            product: product.clone(),
        });
    }

    /// Refuses what the stock_events table would; `new_product` is a product
    /// written in the same step that the row may belong to.
    fn check_event(
        &self,
        event: &StockEvent,
        write: EventWrite,
        new_product: Option<&ProductId>,
    ) -> Result<(), StoreError> {
        let id = &event.product_id;
        if !self.product_index.contains_key(id) && new_product != Some(id) {
            return Err(match write {
                EventWrite::Append => StoreError::ProductNotFound(id.to_string()),
                EventWrite::Import => refused(format!("ledger row of unknown product {id}")),
            });
        }
        let taken = self
            .ledgers
            .get(id)
            .is_some_and(|l| l.contains_key(&event.version));
        if taken {
            return Err(StoreError::Conflict(format!(
                "version {} of product {id} is taken",
                event.version
            )));
        }
        if self.event_ids.contains_key(&event.id) {
            return Err(StoreError::Conflict(format!(
                "a ledger row with id {} exists",
                event.id
            )));
        }
        if let Some(reverted) = &event.reverts {
            if self.reverted.contains_key(reverted) {
                return Err(StoreError::Conflict(format!(
                    "ledger row {reverted} is already reverted"
                )));
            }
            if !self.event_ids.contains_key(reverted) {
                return Err(refused(format!(
                    "a ledger row reverts {reverted}, which does not exist"
                )));
            }
        }
        if event.version < 1 || event.total_after_change < 0 {
            return Err(refused(
                "a ledger row needs a version of at least 1 and a total of at least 0",
            ));
        }
        Ok(())
    }

    fn push_event(&mut self, event: &StockEvent) {
        self.ledgers
            .entry(event.product_id.clone())
            .or_default()
            .insert(event.version, self.events.len());
        self.event_ids.insert(event.id.clone(), self.events.len());
        if let Some(reverted) = &event.reverts {
            self.reverted.insert(reverted.clone(), event.id.clone());
        }
        self.events.push(event.clone());
    }

    /// Checks then writes one ledger row.
    pub fn insert_event(
        &mut self,
        event: &StockEvent,
        write: EventWrite,
    ) -> Result<(), StoreError> {
        self.check_event(event, write, None)?;
        self.push_event(event);
        Ok(())
    }

    pub fn create_product(
        &mut self,
        product: &Product,
        opening: &StockEvent,
    ) -> Result<(), StoreError> {
        self.check_product(product)?;
        self.check_event(opening, EventWrite::Import, Some(&product.id))?;
        self.push_product(product);
        self.push_event(opening);
        Ok(())
    }

    /// An append refused for an archived product, checked with the write.
    pub fn append_event(&mut self, event: &StockEvent) -> Result<(), StoreError> {
        if self.archived_state(&event.product_id) == Some(true) {
            return Err(StoreError::ProductArchived(event.product_id.to_string()));
        }
        self.insert_event(event, EventWrite::Append)
    }

    fn check_change(&self, change: &ProductChange) -> Result<(), StoreError> {
        if change.kind == ChangeKind::Created {
            return Err(StoreError::Internal(
                "a creation is the product row itself, not a recorded change".into(),
            ));
        }
        if !self.product_index.contains_key(&change.product_id) {
            return Err(refused(format!(
                "a change of unknown product {}",
                change.product_id
            )));
        }
        Ok(())
    }

    fn push_change(&mut self, change: &ProductChange) {
        self.changes
            .entry(change.product_id.clone())
            .or_default()
            .push(change.clone());
    }

    pub fn update_product(
        &mut self,
        before: &Product,
        after: &Product,
        change: &ProductChange,
    ) -> Result<(), StoreError> {
        self.writable(&before.id)?;
        let index = self.product_index[&before.id];
        let stored = &self.products[index].product;
        if stored.name != before.name
            || stored.description != before.description
            || stored.price != before.price
        {
            return Err(StoreError::Conflict(format!(
                "product {} changed since it was read",
                before.id
            )));
        }
        if after.price.cents() <= 0 {
            return Err(refused("a product's price must be above zero"));
        }
        self.check_change(change)?;
        let row = &mut self.products[index];
        row.product.name = after.name.clone();
        row.product.description = after.description.clone();
        row.product.price = after.price;
        row.product.updated_at = after.updated_at;
        row.folded = after.name.folded();
        self.push_change(change);
        Ok(())
    }

    pub fn set_archived(&mut self, change: &ProductChange) -> Result<bool, StoreError> {
        let archive = change.kind.archives().ok_or_else(|| {
            StoreError::Internal(format!(
                "set_archived was given a {} change",
                change.kind.as_str()
            ))
        })?;
        let Some(&index) = self.product_index.get(&change.product_id) else {
            return Err(StoreError::ProductNotFound(change.product_id.to_string()));
        };
        let product = &mut self.products[index].product;
        if product.is_archived() == archive {
            return Ok(false);
        }
        product.archived_at = archive.then_some(change.at);
        product.updated_at = change.at;
        if archive {
            self.archived += 1;
        } else {
            self.archived -= 1;
        }
        self.push_change(change);
        Ok(true)
    }

    /// Refuses what the discounts table would: a taken id, an unknown
    /// product.
    fn check_discount(
        &self,
        discount: &Discount,
        new_product: Option<&ProductId>,
    ) -> Result<(), StoreError> {
        let product = &discount.product_id;
        if !self.product_index.contains_key(product) && new_product != Some(product) {
            return Err(refused(format!("a discount of unknown product {product}")));
        }
        if self.discount_ids.contains(&discount.id) {
            return Err(StoreError::Conflict(format!(
                "a discount with id {} exists",
                discount.id
            )));
        }
        Ok(())
    }

    fn push_discount(&mut self, discount: &Discount) {
        self.discount_ids.insert(discount.id.clone());
        self.discounts_of
            .entry(discount.product_id.clone())
            .or_default()
            .push(self.discounts.len());
        self.discounts.push(discount.clone());
    }

    /// Indexes of the product's discounts that are on and not over at
    /// `at`, earliest window first (as the SQL stores read them).
    fn open_discounts(&self, product: &ProductId, at: Instant) -> Vec<usize> {
        let mut open: Vec<usize> = self
            .discounts_of
            .get(product)
            .into_iter()
            .flatten()
            .copied()
            .filter(|&i| self.discounts[i].is_active && self.discounts[i].window.until() > at)
            .collect();
        open.sort_by_key(|&i| (self.discounts[i].window.from(), i));
        open
    }

    /// Switches off the discounts at `indexes`, naming `replaced_by`.
    fn switch_off(
        &mut self,
        indexes: &[usize],
        (at, actor): (Instant, Option<&Actor>),
        replaced_by: Option<&DiscountId>,
    ) -> Vec<DiscountId> {
        indexes
            .iter()
            .map(|&i| {
                let discount = &mut self.discounts[i];
                discount.is_active = false;
                discount.deactivated = Some(Deactivation {
                    at,
                    by: actor.cloned(),
                });
                discount.replaced_by = replaced_by.cloned();
                discount.id.clone()
            })
            .collect()
    }

    pub fn replace_discount(&mut self, discount: &Discount) -> Result<Replacement, StoreError> {
        let product = &discount.product_id;
        self.writable(product)?;
        if self.discount_ids.contains(&discount.id) {
            return Err(StoreError::Conflict(format!(
                "a discount with id {} exists",
                discount.id
            )));
        }
        let now = discount.created_at;
        let open = self.open_discounts(product, now);
        let plan = {
            let existing: Vec<Scheduled> = open
                .iter()
                .map(|&i| Scheduled {
                    id: &self.discounts[i].id,
                    window: self.discounts[i].window,
                    is_on: true,
                })
                .collect();
            let until = discount.window.until();
            plan_replacement(
                &existing,
                discount.window,
                now,
                "--until",
                &until.to_rfc3339(),
            )
            .map_err(|e| StoreError::Internal(format!("a discount set with {e}")))?
        };
        let index_of =
            |id: &DiscountId| open.iter().copied().find(|&i| &self.discounts[i].id == id);
        let cut: Vec<usize> = plan.cut.iter().filter_map(index_of).collect();
        let cancelled: Vec<usize> = plan.cancelled.iter().filter_map(index_of).collect();
        if let Some(cut_at) = plan.cut_at {
            for i in cut {
                let d = &mut self.discounts[i];
                d.window = Window::new(d.window.from(), cut_at, "valid_to")
                    .map_err(|e| StoreError::Internal(e.to_string()))?;
                d.replaced_by = Some(discount.id.clone());
            }
        }
        self.switch_off(
            &cancelled,
            (now, discount.actor.as_ref()),
            Some(&discount.id),
        );
        self.push_discount(discount);
        Ok(plan)
    }

    pub fn clear_discount(
        &mut self,
        product: &ProductId,
        at: Instant,
        actor: Option<&Actor>,
    ) -> Result<Vec<DiscountId>, StoreError> {
        self.writable(product)?;
        let open = self.open_discounts(product, at);
        Ok(self.switch_off(&open, (at, actor), None))
    }

    /// A taken code (without case) or id is `DuplicateCouponCode`.
    fn check_coupon(&self, coupon: &Coupon) -> Result<(), StoreError> {
        if self.coupon_codes.contains_key(&coupon.code.key())
            || self.coupon_ids.contains(&coupon.id)
        {
            return Err(StoreError::DuplicateCouponCode(
                coupon.code.as_str().to_owned(),
            ));
        }
        Ok(())
    }

    pub fn create_coupon(&mut self, coupon: &Coupon) -> Result<(), StoreError> {
        self.check_coupon(coupon)?;
        self.coupon_ids.insert(coupon.id.clone());
        self.coupon_codes
            .insert(coupon.code.key(), self.coupons.len());
        self.coupons.push(coupon.clone());
        Ok(())
    }

    pub fn deactivate_coupon(
        &mut self,
        code: &CouponCode,
        at: Instant,
        actor: Option<&Actor>,
    ) -> Option<Coupon> {
        let coupon = &mut self.coupons[*self.coupon_codes.get(&code.key())?];
        if coupon.is_active {
            coupon.is_active = false;
            coupon.deactivated = Some(Deactivation {
                at,
                by: actor.cloned(),
            });
        }
        Some(coupon.clone())
    }

    /// One imported product with its ledger and discount, all or nothing.
    pub fn import_product(
        &mut self,
        product: &Product,
        events: &[StockEvent],
        discount: Option<&Discount>,
    ) -> Result<(), StoreError> {
        self.check_product(product)?;
        let new = Some(&product.id);
        for (i, event) in events.iter().enumerate() {
            self.check_event(event, EventWrite::Import, new)?;
            let repeated = events[..i].iter().any(|e| {
                e.id == event.id || (e.product_id == event.product_id && e.version == event.version)
            });
            if repeated {
                return Err(StoreError::Conflict(format!(
                    "version {} of product {} is taken",
                    event.version, event.product_id
                )));
            }
        }
        if let Some(discount) = discount {
            self.check_discount(discount, new)?;
        }
        self.push_product(product);
        for event in events {
            self.push_event(event);
        }
        if let Some(discount) = discount {
            self.push_discount(discount);
        }
        Ok(())
    }

    pub fn record_request(
        &mut self,
        key: &IdempotencyKey,
        request: &RecordedRequest,
        at: Instant,
    ) -> Result<(), StoreError> {
        if self.requests.contains_key(key) {
            return Err(StoreError::Conflict(format!(
                "idempotency key {key} is already recorded"
            )));
        }
        self.requests.insert(
            key.clone(),
            KeyRecord {
                request: request.clone(),
                at,
            },
        );
        Ok(())
    }

    pub fn prune_requests(&mut self, before: Instant) -> u64 {
        let was = self.requests.len();
        self.requests.retain(|_, r| r.at >= before);
        (was - self.requests.len()) as u64
    }
}
