//! `import`: products and coupons from a file, all or nothing.

use std::cell::Cell;

use milly::adapters::persistence::memory::MemoryStore;
use milly::app::ports::*;
use milly::app::usecases::{
    CouponRow, ImportRow, ImportedRow, ListProducts, ProductRow, RowSource, StockRow,
};
use milly::app::{AppError, Catalog, RowError};

use crate::{actor, at, code, money, no_wait, percent, World, T0};

type Rows = Vec<(u64, Result<ImportRow, RowError>)>;

fn product(name: &str, price: &str) -> ProductRow {
    ProductRow {
        name: name.into(),
        price: price.into(),
        ..ProductRow::default()
    }
}

fn coupon(user: &str, raw_code: &str) -> CouponRow {
    CouponRow {
        user: user.into(),
        percent: "10".into(),
        valid_to: "2025-12-31".into(),
        valid_from: None,
        code: Some(raw_code.into()),
    }
}

/// Rows numbered from line 2 (line 1 is the header).
fn lines(rows: Vec<ImportRow>) -> Rows {
    rows.into_iter()
        .enumerate()
        .map(|(i, r)| (i as u64 + 2, Ok(r)))
        .collect()
}

/// Imports what `rows` makes, readable again on every attempt; returns the
/// outcome and every row handed to the store with its attempt.
fn import_with(
    catalog: &Catalog<'_>,
    rows: impl Fn() -> Rows,
) -> (Result<ImportCounts, AppError>, Vec<(u32, ImportedRow)>) {
    let mut heard = Vec::new();
    let outcome = catalog.import(
        &mut |_attempt| Ok(Some(Box::new(rows().into_iter()) as Box<RowSource<'static>>)),
        &mut |attempt, row| heard.push((attempt, row)),
    );
    (outcome, heard)
}

fn listed(world: &World) -> Vec<milly::app::usecases::ProductSummary> {
    world
        .catalog()
        .list_products(ListProducts {
            name_contains: None,
            page: 1,
            page_size: 100,
            at: None,
            include_archived: true,
        })
        .unwrap()
}

#[test]
fn products_with_their_ledgers_and_discounts_and_coupons_are_written() {
    let world = World::new();
    let rows = || {
        lines(vec![
            ImportRow::Product(ProductRow {
                description: Some("Cast iron".into()),
                stock: Some("10".into()),
                stock_changes: vec!["+5".into(), "-3".into()],
                discount_percent: Some("20".into()),
                ..product("Teapot", "30.00")
            }),
            ImportRow::Coupon(coupon("42", "BULK1")),
            ImportRow::Product(product("Cup", "4.50")),
        ])
    };
    let (counts, heard) = import_with(&world.catalog(), rows);
    assert_eq!(
        counts,
        Ok(ImportCounts {
            products: 2,
            stock_events: 4,
            discounts: 1,
            coupons: 1
        })
    );
    let rows = listed(&world);
    assert_eq!(rows.len(), 2);
    let (teapot, cup) = (&rows[0], &rows[1]);
    assert_eq!(teapot.product.name.as_str(), "Teapot");
    assert_eq!(teapot.product.description.as_str(), "Cast iron");
    assert_eq!(teapot.product.actor, Some(actor("tester")));
    assert_eq!(teapot.stock, 12);
    assert_eq!(teapot.pricing.final_price, money("24.00"));
    let discount = teapot.discount.as_ref().unwrap();
    assert_eq!(
        (discount.window.from(), discount.window.until()),
        (at(T0), at(T0).plus_days(30))
    );
    assert_eq!((cup.stock, cup.discount.is_none()), (0, true));
    let history = world.catalog().stock_history(&teapot.product.id).unwrap();
    assert_eq!(
        history
            .iter()
            .map(|e| e.total_after_change)
            .collect::<Vec<_>>(),
        [10, 15, 12]
    );
    let stored = world.catalog().show_coupon(&code("bulk1")).unwrap();
    assert_eq!(
        (stored.percentage, stored.user_id.as_str()),
        (percent("10"), "42")
    );

    // Every row was heard once, with its line and the id it became.
    let summary: Vec<(u32, u64, String, Option<String>)> = heard
        .into_iter()
        .map(|(a, r)| (a, r.line, r.id, r.code))
        .collect();
    assert_eq!(
        summary,
        [
            (1, 2, teapot.product.id.to_string(), None),
            (1, 3, stored.id.to_string(), Some("BULK1".into())),
            (1, 4, cup.product.id.to_string(), None),
        ]
    );
}

#[test]
fn the_first_bad_row_stops_the_import_and_nothing_is_written() {
    let world = World::new();
    world.product("Before", "1.00", "1");
    let rows = || {
        lines(vec![
            ImportRow::Product(product("Fine", "1.00")),
            ImportRow::Coupon(coupon("42", "FINE1")),
            ImportRow::Product(product("Free", "0")),
            ImportRow::Product(product("Never read", "1.00")),
        ])
    };
    let (outcome, heard) = import_with(&world.catalog(), rows);
    assert!(
        matches!(
            &outcome,
            Err(AppError::InvalidRow {
                line: 4,
                source: RowError::Invalid(_)
            })
        ),
        "{outcome:?}"
    );
    assert_eq!(heard.len(), 2, "the rows before the bad one");
    assert_eq!(world.counts(), (1, 1, 0, 0));

    let unreadable = || {
        let mut rows = lines(vec![ImportRow::Product(product("Fine", "1.00"))]);
        rows.push((3, Err(RowError::Unreadable("bad JSON".into()))));
        rows
    };
    let (outcome, _) = import_with(&world.catalog(), unreadable);
    assert_eq!(
        outcome.err(),
        Some(AppError::InvalidRow {
            line: 3,
            source: RowError::Unreadable("bad JSON".into())
        })
    );
    let stock_row = || {
        lines(vec![ImportRow::Stock(StockRow {
            product_id: "whatever".into(),
            change: "+1".into(),
            reason: None,
        })])
    };
    let (outcome, _) = import_with(&world.catalog(), stock_row);
    assert!(matches!(
        outcome,
        Err(AppError::InvalidRow {
            line: 2,
            source: RowError::Unreadable(_)
        })
    ));
    assert_eq!(world.counts(), (1, 1, 0, 0));
}

#[test]
fn a_code_repeated_in_the_file_or_taken_is_refused_with_its_lines() {
    let world = World::new();
    let repeated = || {
        lines(vec![
            ImportRow::Coupon(coupon("1", "TWICE")),
            ImportRow::Product(product("Fine", "1.00")),
            ImportRow::Coupon(coupon("2", "twice")),
        ])
    };
    let (outcome, _) = import_with(&world.catalog(), repeated);
    let Err(AppError::Rejected {
        code: "duplicate_coupon_code",
        message,
    }) = outcome
    else {
        panic!("expected a duplicate code, got {outcome:?}");
    };
    assert!(
        message.starts_with("line 4:") && message.contains("line 2"),
        "{message}"
    );
    assert_eq!(world.counts(), (0, 0, 0, 0));

    world
        .catalog()
        .create_coupon(milly::app::usecases::CreateCoupon {
            user_id: crate::customer("9"),
            percentage: percent("5"),
            valid_from: None,
            valid_to: at("2025-12-31").into(),
            code: Some(code("TAKEN")),
        })
        .unwrap();
    let taken = || {
        lines(vec![
            ImportRow::Product(product("Fine", "1.00")),
            ImportRow::Coupon(coupon("1", "Taken")),
        ])
    };
    let (outcome, _) = import_with(&world.catalog(), taken);
    let Err(AppError::Rejected {
        code: "duplicate_coupon_code",
        message,
    }) = outcome
    else {
        panic!("expected a taken code, got {outcome:?}");
    };
    assert!(
        message.starts_with("line 3:") && message.contains("already exists"),
        "{message}"
    );
    assert_eq!(world.counts(), (0, 0, 0, 1));
}

/// An import store whose first import loses a race after writing a row.
struct LosesOnce<'s> {
    store: &'s MemoryStore,
    lost: Cell<bool>,
}

impl ImportStore for LosesOnce<'_> {
    fn import(
        &self,
        items: &mut dyn Iterator<Item = Result<ImportItem, ImportAborted>>,
    ) -> Result<Option<ImportCounts>, StoreError> {
        if !self.lost.replace(true) {
            let first = items.next();
            assert!(matches!(first, Some(Ok(_))), "the first item is read");
            return Err(StoreError::Conflict(
                "another writer took a position".into(),
            ));
        }
        self.store.import(items)
    }
}

#[test]
fn a_lost_race_imports_again_from_the_first_row_with_new_ids() {
    let world = World::new();
    let imports = LosesOnce {
        store: &world.store,
        lost: Cell::new(false),
    };
    let stores = Stores {
        imports: &imports,
        ..Stores::of(&world.store)
    };
    let catalog = Catalog::with_stores(stores, &world.clock, no_wait(3));
    let rows = || {
        lines(vec![
            ImportRow::Product(product("A", "1.00")),
            ImportRow::Product(product("B", "1.00")),
        ])
    };
    let (counts, heard) = import_with(&catalog, rows);
    assert_eq!(counts.map(|c| c.products), Ok(2));
    let attempts: Vec<(u32, u64)> = heard.iter().map(|(a, r)| (*a, r.line)).collect();
    assert_eq!(attempts, [(1, 2), (2, 2), (2, 3)]);
    let kept: Vec<String> = listed(&world)
        .iter()
        .map(|r| r.product.id.to_string())
        .collect();
    assert_eq!(kept, [heard[1].1.id.clone(), heard[2].1.id.clone()]);
    assert_ne!(heard[0].1.id, heard[1].1.id, "a new attempt, new ids");

    // Input that cannot be read again (standard input) gives up instead.
    imports.lost.set(false);
    let once_only = Cell::new(true);
    let outcome = catalog.import(
        &mut |_| {
            Ok(once_only
                .replace(false)
                .then(|| Box::new(rows().into_iter()) as Box<RowSource<'static>>))
        },
        &mut |_, _| {},
    );
    assert_eq!(outcome.err(), Some(AppError::Conflict { attempts: 1 }));
    assert_eq!(world.counts().0, 2);
}
