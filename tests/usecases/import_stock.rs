//! `import stock`: a file of stock changes in one transaction.

use milly::app::usecases::{ImportRow, StockImportCounts, StockRow};
use milly::app::{AppError, RowError};
use milly::domain::*;

use crate::{actor, at, World, T0};

fn row(product: &Product, change: &str) -> (u64, Result<ImportRow, RowError>) {
    (
        0,
        Ok(ImportRow::Stock(StockRow {
            product_id: product.id.to_string(),
            change: change.into(),
            reason: Some("delivery".into()),
        })),
    )
}

/// Numbers the rows from line 2 (line 1 is the header).
fn numbered(
    rows: Vec<(u64, Result<ImportRow, RowError>)>,
) -> Vec<(u64, Result<ImportRow, RowError>)> {
    rows.into_iter()
        .enumerate()
        .map(|(i, (_, r))| (i as u64 + 2, r))
        .collect()
}

fn import(
    world: &World,
    rows: Vec<(u64, Result<ImportRow, RowError>)>,
) -> (Result<StockImportCounts, AppError>, Vec<(u64, i64)>) {
    let mut applied = Vec::new();
    let mut rows = numbered(rows).into_iter();
    let counts = world.catalog().import_stock(&mut rows, &mut |line, event| {
        applied.push((line, event.total_after_change))
    });
    (counts, applied)
}

#[test]
fn rows_apply_in_order_each_on_the_running_total() {
    let world = World::new();
    let a = world.product("A", "1.00", "5");
    let b = world.product("B", "1.00", "0");
    let (counts, applied) = import(
        &world,
        vec![row(&a, "+10"), row(&b, "+2"), row(&a, "-12"), row(&a, "+1")],
    );
    assert_eq!(
        counts,
        Ok(StockImportCounts {
            stock_events: 4,
            products: 2
        })
    );
    assert_eq!(applied, [(2, 15), (3, 2), (4, 3), (5, 4)]);
    assert_eq!((world.stock(&a), world.stock(&b)), (4, 2));
    let history = world.catalog().stock_history(&a.id).unwrap();
    assert_eq!(
        history.iter().map(|e| e.version).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert_eq!(
        history[1].reason.as_ref().map(Reason::as_str),
        Some("delivery")
    );
    assert_eq!(history[1].actor, Some(actor("tester")));
}

fn at_line(result: Result<StockImportCounts, AppError>) -> (u64, AppError) {
    match result {
        Err(AppError::AtLine { line, error }) => (line, *error),
        other => panic!("expected an error at a line, got {other:?}"),
    }
}

#[test]
fn a_row_that_would_go_below_zero_stops_the_import_and_nothing_is_written() {
    let world = World::new();
    let a = world.product("A", "1.00", "5");
    let (result, _) = import(&world, vec![row(&a, "+1"), row(&a, "-4"), row(&a, "-4")]);
    let (line, error) = at_line(result);
    assert_eq!(line, 4);
    assert!(
        matches!(
            error,
            AppError::Rejected {
                code: "insufficient_stock",
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(world.stock(&a), 5);
    assert_eq!(world.counts().1, 1);
}

#[test]
fn unknown_and_archived_products_stop_the_import() {
    let world = World::new();
    let a = world.product("A", "1.00", "5");
    let gone = world.product("Gone", "1.00", "5");
    world.catalog().archive_product(&gone.id, true).unwrap();
    let ghost = Product {
        id: ProductId::generate(at(T0), 4),
        ..a.clone()
    };
    let (result, _) = import(&world, vec![row(&a, "+1"), row(&ghost, "+1")]);
    let (line, error) = at_line(result);
    assert_eq!(line, 3);
    assert_eq!(
        error,
        AppError::NotFound {
            what: "product",
            id: ghost.id.to_string()
        }
    );
    let (result, _) = import(&world, vec![row(&a, "+1"), row(&gone, "+1")]);
    let (line, error) = at_line(result);
    assert_eq!(line, 3);
    assert!(
        matches!(
            error,
            AppError::Rejected {
                code: "product_archived",
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(world.counts().1, 2);
}

#[test]
fn an_invalid_row_is_reported_with_its_line_after_the_rows_before_it() {
    let world = World::new();
    let a = world.product("A", "1.00", "5");
    let bad_change = (
        0,
        Ok(ImportRow::Stock(StockRow {
            product_id: a.id.to_string(),
            change: "+0".into(),
            reason: None,
        })),
    );
    let (result, _) = import(&world, vec![row(&a, "+1"), bad_change, row(&a, "+1")]);
    assert!(
        matches!(
            result,
            Err(AppError::InvalidRow {
                line: 3,
                source: RowError::Invalid(_)
            })
        ),
        "{result:?}"
    );
    // An earlier row that breaks a rule is the one reported.
    let bad_change = (
        0,
        Ok(ImportRow::Stock(StockRow {
            product_id: "nonsense".into(),
            change: "+1".into(),
            reason: None,
        })),
    );
    let (result, _) = import(&world, vec![row(&a, "-9"), bad_change]);
    assert_eq!(at_line(result).0, 2);
    let product_row = (0, Ok(ImportRow::Product(Default::default())));
    let (result, _) = import(&world, vec![product_row]);
    assert!(
        matches!(
            result,
            Err(AppError::InvalidRow {
                line: 2,
                source: RowError::Unreadable(_)
            })
        ),
        "{result:?}"
    );
    assert_eq!(world.stock(&a), 5);
}
