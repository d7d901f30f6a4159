use super::{random_bits, Catalog};
use crate::app::error::AppError;
use crate::app::retry::{self, AttemptError};
use crate::domain::{EventId, ProductId, Reason, StockChange, StockEvent};

pub struct AdjustStock {
    pub product_id: ProductId,
    pub change: StockChange,
    pub reason: Option<Reason>,
    /// Compare-and-set: apply only if the product's latest version is this
    /// one (`--expect-version`).
    pub expected_version: Option<i64>,
}

pub struct StockAdjusted {
    pub event: StockEvent,
    /// How many attempts the optimistic write took (1 = no conflict).
    pub attempts: u32,
}

impl Catalog<'_> {
    /// Optimistic locking: read the latest event, check the rule against it,
    /// append `version + 1`. If another writer took that version first the
    /// store reports a conflict and the whole read-check-write is retried with
    /// backoff, so the rule is always checked against the stock it changes.
    ///
    /// Each attempt is one unit of work, read and append together. The
    /// version check does not depend on it, but a store that takes its write
    /// lock when a unit begins (SQLite) then serves concurrent adjusters one
    /// after another instead of letting them all read the same version and
    /// all but one fail at the append: the first attempt succeeds, and a
    /// busy product costs a short wait in line rather than rounds of backoff.
    ///
    /// With an expected version, a ledger found at any other version is
    /// refused at once (`version_mismatch`): the caller decided on a stock
    /// it no longer holds, so applying the change anyway would be wrong, and
    /// so would retrying it. A lost race for the next version is re-read like
    /// any conflict, and then refused for the version it finds.
    pub fn adjust_stock(&self, input: AdjustStock) -> Result<StockAdjusted, AppError> {
        let outcome = retry::on_conflict(&self.retry, || {
            if self.in_unit {
                return self.adjust_once(&input);
            }
            self.store.begin_unit()?;
            let adjusted = self.adjust_once(&input);
            match &adjusted {
                Ok(_) => self.store.finish_unit(true)?,
                // The failure is what to report; a rollback over a lost
                // connection changes nothing.
                Err(_) => {
                    let _ = self.store.finish_unit(false);
                }
            }
            adjusted
        })?;
        Ok(StockAdjusted {
            event: outcome.value,
            attempts: outcome.attempts,
        })
    }

    fn adjust_once(&self, input: &AdjustStock) -> Result<StockEvent, AttemptError> {
        let latest = self
            .store
            .latest_stock_event(&input.product_id)?
            .ok_or_else(|| AppError::NotFound {
                what: "product",
                id: input.product_id.to_string(),
            })?;
        if let Some(expected) = input.expected_version {
            if latest.version != expected {
                return Err(version_mismatch(&latest, expected).into());
            }
        }
        let now = self.clock.now();
        let next = latest
            .next(
                EventId::generate(now, random_bits()),
                input.change,
                input.reason.clone(),
                now,
            )
            .map_err(AppError::from)?
            .by(self.actor());
        self.store.append_stock_event(&next)?;
        Ok(next)
    }
}

fn version_mismatch(latest: &StockEvent, expected: i64) -> AppError {
    AppError::Rejected {
        code: "version_mismatch",
        message: format!(
            "product {} is at version {} (stock {}), not at the expected version {expected}; nothing was written",
            latest.product_id, latest.version, latest.total_after_change
        ),
    }
}

#[cfg(test)]
mod tests {
    //! A stale read can only be staged precisely with a fake store: the real
    //! databases are exercised by the multi-process tests in `tests/`.

    use std::cell::RefCell;
    use std::time::Duration;

    use super::*;
    use crate::app::ports::*;
    use crate::app::{Clock, RetryPolicy};
    use crate::domain::*;

    struct FixedClock(Instant);

    impl Clock for FixedClock {
        fn now(&self) -> Instant {
            self.0
        }
    }

    /// A ledger whose reads return a snapshot taken before another writer's
    /// event, as a reader racing that writer would see it: once, or (when
    /// `stale_reads` is large) every time.
    struct StaleStore {
        events: RefCell<Vec<StockEvent>>,
        stale: StockEvent,
        stale_reads: RefCell<u32>,
        attempted_versions: RefCell<Vec<i64>>,
    }

    impl StaleStore {
        /// Product at 100 (v1); another writer has added 100 (v2) after the
        /// stale snapshot of v1 was taken.
        fn raced(stale_reads: u32) -> (StaleStore, ProductId) {
            let at = Instant::parse("at", "2025-01-01").unwrap();
            let product = ProductId::generate(at, 1);
            let opening = StockEvent::opening(
                EventId::generate(at, 2),
                product.clone(),
                Quantity::parse("s", "100").unwrap(),
                at,
            );
            let theirs = opening
                .next(
                    EventId::generate(at, 3),
                    StockChange::parse("c", "+100").unwrap(),
                    None,
                    at,
                )
                .unwrap();
            let store = StaleStore {
                events: RefCell::new(vec![opening.clone(), theirs]),
                stale: opening,
                stale_reads: RefCell::new(stale_reads),
                attempted_versions: RefCell::new(Vec::new()),
            };
            (store, product)
        }
    }

    impl CatalogStore for StaleStore {
        fn latest_stock_event(&self, _: &ProductId) -> Result<Option<StockEvent>, StoreError> {
            let mut stale_reads = self.stale_reads.borrow_mut();
            if *stale_reads > 0 {
                *stale_reads -= 1;
                return Ok(Some(self.stale.clone()));
            }
            Ok(self.events.borrow().last().cloned())
        }

        fn append_stock_event(&self, event: &StockEvent) -> Result<(), StoreError> {
            self.attempted_versions.borrow_mut().push(event.version);
            let mut events = self.events.borrow_mut();
            if events.iter().any(|e| e.version == event.version) {
                return Err(StoreError::Conflict("version taken".into()));
            }
            events.push(event.clone());
            Ok(())
        }

        fn create_product(&self, _: &Product, _: &StockEvent) -> Result<(), StoreError> {
            unreachable!("not used by adjust_stock")
        }
        fn list_products(
            &self,
            _: &ProductQuery,
            _: Instant,
        ) -> Result<Vec<ProductListing>, StoreError> {
            unreachable!("not used by adjust_stock")
        }
        fn scan_products(
            &self,
            _: bool,
            _: Instant,
            _: &mut dyn FnMut(ProductListing) -> std::ops::ControlFlow<()>,
        ) -> Result<(), StoreError> {
            unreachable!("not used by adjust_stock")
        }
        fn product_details(
            &self,
            _: &ProductId,
            _: Option<&CustomerId>,
            _: Instant,
        ) -> Result<Option<ProductDetails>, StoreError> {
            unreachable!("not used by adjust_stock")
        }
        fn stock_history(&self, _: &ProductId) -> Result<Option<Vec<StockEvent>>, StoreError> {
            unreachable!("not used by adjust_stock")
        }
        fn replace_discount(&self, _: &Discount) -> Result<Option<DiscountId>, StoreError> {
            unreachable!("not used by adjust_stock")
        }
        fn create_coupon(&self, _: &Coupon) -> Result<(), StoreError> {
            unreachable!("not used by adjust_stock")
        }
        fn deactivate_coupon(
            &self,
            _: &CouponCode,
            _: Instant,
            _: Option<&Actor>,
        ) -> Result<Option<Coupon>, StoreError> {
            unreachable!("not used by adjust_stock")
        }
        fn import(
            &self,
            _: &mut dyn Iterator<Item = Result<ImportItem, ImportAborted>>,
        ) -> Result<Option<ImportCounts>, StoreError> {
            unreachable!("not used by adjust_stock")
        }
        fn migrate(&self) -> Result<Vec<i64>, StoreError> {
            unreachable!("not used by adjust_stock")
        }
        fn status(&self) -> Result<StoreStatus, StoreError> {
            unreachable!("not used by adjust_stock")
        }
        // Each attempt is a unit; this ledger applies appends at once.
        fn begin_unit(&self) -> Result<(), StoreError> {
            Ok(())
        }
        fn finish_unit(&self, _: bool) -> Result<(), StoreError> {
            Ok(())
        }
        fn recorded_request(
            &self,
            _: &IdempotencyKey,
        ) -> Result<Option<RecordedRequest>, StoreError> {
            unreachable!("not used by adjust_stock")
        }
        fn record_request(
            &self,
            _: &IdempotencyKey,
            _: &RecordedRequest,
            _: Instant,
        ) -> Result<(), StoreError> {
            unreachable!("not used by adjust_stock")
        }
        fn prune_requests(&self, _: Instant) -> Result<u64, StoreError> {
            unreachable!("not used by adjust_stock")
        }
        fn scan_ledgers(
            &self,
            _: Option<&ProductId>,
            _: &mut dyn FnMut(LedgerScan) -> std::ops::ControlFlow<()>,
        ) -> Result<(), StoreError> {
            unreachable!("not used by adjust_stock")
        }
        fn stock_log(&self, _: &LogQuery) -> Result<Vec<LoggedEvent>, StoreError> {
            unreachable!("not used by adjust_stock")
        }
        fn change_stock(
            &self,
            _: &mut dyn FnMut(&mut dyn StockBatch) -> Result<bool, StoreError>,
        ) -> Result<bool, StoreError> {
            unreachable!("not used by adjust_stock")
        }
        fn update_product(
            &self,
            _: &Product,
            _: &Product,
            _: &ProductChange,
        ) -> Result<(), StoreError> {
            unreachable!("not used by adjust_stock")
        }
        fn set_archived(&self, _: &ProductChange) -> Result<bool, StoreError> {
            unreachable!("not used by adjust_stock")
        }
        fn product_changes(&self, _: &ProductId) -> Result<Vec<ProductChange>, StoreError> {
            unreachable!("not used by adjust_stock")
        }
        fn clear_discount(
            &self,
            _: &ProductId,
            _: Instant,
            _: Option<&Actor>,
        ) -> Result<Option<DiscountId>, StoreError> {
            unreachable!("not used by adjust_stock")
        }
        fn list_discounts(&self, _: &DiscountQuery) -> Result<Vec<Discount>, StoreError> {
            unreachable!("not used by adjust_stock")
        }
        fn list_coupons(&self, _: &CouponQuery) -> Result<Vec<Coupon>, StoreError> {
            unreachable!("not used by adjust_stock")
        }
        fn coupon(&self, _: &CouponCode) -> Result<Option<Coupon>, StoreError> {
            unreachable!("not used by adjust_stock")
        }
    }

    fn add_20(
        store: &StaleStore,
        product: ProductId,
        attempts: u32,
    ) -> Result<StockAdjusted, AppError> {
        add_20_expecting(store, product, attempts, None)
    }

    fn add_20_expecting(
        store: &StaleStore,
        product: ProductId,
        attempts: u32,
        expected_version: Option<i64>,
    ) -> Result<StockAdjusted, AppError> {
        let clock = FixedClock(Instant::parse("at", "2025-01-02").unwrap());
        let retry = RetryPolicy {
            attempts,
            base_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
            time_budget: None,
        };
        Catalog::new(store, &clock, retry).adjust_stock(AdjustStock {
            product_id: product,
            change: StockChange::parse("c", "+20").unwrap(),
            reason: None,
            expected_version,
        })
    }

    #[test]
    fn a_stale_read_conflicts_and_the_retry_applies_the_change_on_the_fresh_total() {
        let (store, product) = StaleStore::raced(1);
        let adjusted = add_20(&store, product, 3).unwrap();
        assert_eq!(*store.attempted_versions.borrow(), vec![2, 3]);
        assert_eq!(adjusted.attempts, 2);
        assert_eq!(
            (adjusted.event.version, adjusted.event.total_after_change),
            (3, 220)
        );
        let totals: Vec<i64> = store
            .events
            .borrow()
            .iter()
            .map(|e| e.total_after_change)
            .collect();
        assert_eq!(totals, vec![100, 200, 220]);
    }

    #[test]
    fn conflicts_on_every_attempt_give_up_and_write_nothing() {
        let (store, product) = StaleStore::raced(u32::MAX);
        let err = add_20(&store, product, 4).err();
        assert_eq!(err, Some(AppError::Conflict { attempts: 4 }));
        assert_eq!(*store.attempted_versions.borrow(), vec![2, 2, 2, 2]);
        assert_eq!(store.events.borrow().len(), 2);
    }

    #[test]
    fn a_lost_race_with_an_expected_version_is_refused_not_applied_on_top() {
        let (store, product) = StaleStore::raced(1);
        let err = add_20_expecting(&store, product, 5, Some(1)).err().unwrap();
        let AppError::Rejected { code, message } = err else {
            panic!("expected a rejection, got {err:?}");
        };
        assert_eq!(code, "version_mismatch");
        assert!(message.contains("at version 2"), "{message}");
        // One write was tried (and lost); nothing was written after the re-read.
        assert_eq!(*store.attempted_versions.borrow(), vec![2]);
        assert_eq!(store.events.borrow().len(), 2);
    }

    #[test]
    fn the_expected_version_applies_when_it_is_current() {
        let (store, product) = StaleStore::raced(0);
        let adjusted = add_20_expecting(&store, product.clone(), 5, Some(2)).unwrap();
        assert_eq!(adjusted.event.version, 3);
        let err = add_20_expecting(&store, product, 5, Some(2)).err().unwrap();
        assert!(matches!(
            err,
            AppError::Rejected {
                code: "version_mismatch",
                ..
            }
        ));
    }
}
