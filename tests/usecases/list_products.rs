//! `product list`: pages of the catalog, priced at an instant, and the
//! streamed listing for exports.

use milly::app::ports::ImportStore;
use milly::app::ports::{ImportItem, ProductStore};
use milly::app::usecases::{ListProducts, ProductSummary, SetDiscount};
use milly::app::AppError;
use milly::domain::*;

use crate::{at, money, percent, World, T0};

/// Products per query of a streamed name search (the use case's
/// `STREAM_PAGE`, not exported).
const STREAM_PAGE: u32 = 5_000;

fn page(name: Option<&str>, page: u64, size: u32) -> ListProducts {
    ListProducts {
        name_contains: name.map(str::to_owned),
        page,
        page_size: size,
        at: None,
        include_archived: false,
    }
}

fn names(rows: &[ProductSummary]) -> Vec<&str> {
    rows.iter().map(|r| r.product.name.as_str()).collect()
}

#[test]
fn pages_are_numbered_from_one_in_creation_order() {
    let world = World::new();
    for name in ["P1", "P2", "P3", "P4", "P5"] {
        world.product(name, "1.00", "1");
    }
    let catalog = world.catalog();
    let list = |n, size| catalog.list_products(page(None, n, size)).unwrap();
    assert_eq!(names(&list(1, 2)), ["P1", "P2"]);
    assert_eq!(names(&list(2, 2)), ["P3", "P4"]);
    assert_eq!(names(&list(3, 2)), ["P5"]);
    assert!(list(4, 2).is_empty());
    // Page 0 is read as the first page.
    assert_eq!(names(&list(0, 2)), ["P1", "P2"]);
}

#[test]
fn names_match_without_case_and_literally() {
    let world = World::new();
    for name in ["Green tea", "TEA POT", "Coffee", "100% Tea"] {
        world.product(name, "1.00", "1");
    }
    let catalog = world.catalog();
    let found = |term| {
        names(&catalog.list_products(page(Some(term), 1, 10)).unwrap())
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(found("tea"), ["Green tea", "TEA POT", "100% Tea"]);
    assert_eq!(found("Tea P"), ["TEA POT"]);
    assert_eq!(found("%"), ["100% Tea"]);
    assert!(found("juice").is_empty());
}

#[test]
fn each_row_is_priced_with_its_discount_at_the_listing_instant() {
    let world = World::new();
    let product = world.product("Kettle", "40.00", "7");
    world
        .catalog()
        .set_discount(SetDiscount {
            product_id: product.id.clone(),
            percentage: percent("25"),
            from: Some(at("2025-06-10").into()),
            until: Some(at("2025-06-20").into()),
        })
        .unwrap();
    let priced = |when: Option<&str>| {
        let rows = world
            .catalog()
            .list_products(ListProducts {
                at: when.map(|w| at(w).into()),
                ..page(None, 1, 10)
            })
            .unwrap();
        let row = &rows[0];
        assert_eq!(row.stock, 7);
        (row.discount.is_some(), row.pricing.final_price)
    };
    // Now (T0) is before the window.
    assert_eq!(priced(None), (false, money("40.00")));
    assert_eq!(priced(Some("2025-06-15")), (true, money("30.00")));
    world.clock.set("2025-06-15T00:00:00Z");
    assert_eq!(priced(None), (true, money("30.00")));
}

#[test]
fn a_past_instant_lists_the_price_then() {
    let world = World::new();
    let product = world.product("Lamp", "10.00", "1");
    world.clock.set("2025-07-01T00:00:00Z");
    world
        .catalog()
        .update_product(milly::app::usecases::UpdateProduct {
            id: product.id.clone(),
            edit: ProductEdit {
                price: Some(money("12.00")),
                ..ProductEdit::default()
            },
        })
        .unwrap();
    let listed = |when: &str| {
        world
            .catalog()
            .list_products(ListProducts {
                at: Some(at(when).into()),
                ..page(None, 1, 10)
            })
            .unwrap()
            .remove(0)
    };
    let before = listed(T0);
    assert_eq!(
        (before.price, before.pricing.final_price),
        (money("10.00"), money("10.00"))
    );
    assert_eq!(before.product.price, money("12.00"), "today's price");
    assert_eq!(listed("2025-07-02").price, money("12.00"));
}

#[test]
fn archived_products_are_listed_only_when_asked() {
    let world = World::new();
    world.product("Kept", "1.00", "1");
    let gone = world.product("Gone", "1.00", "1");
    world.catalog().archive_product(&gone.id, true).unwrap();
    let catalog = world.catalog();
    assert_eq!(
        names(&catalog.list_products(page(None, 1, 10)).unwrap()),
        ["Kept"]
    );
    let all = catalog
        .list_products(ListProducts {
            include_archived: true,
            ..page(None, 1, 10)
        })
        .unwrap();
    assert_eq!(names(&all), ["Kept", "Gone"]);
    assert!(all[1].product.is_archived());
}

fn stream(world: &World, name: Option<&str>, include_archived: bool) -> (u64, Vec<String>) {
    let mut seen = Vec::new();
    let count = world
        .catalog()
        .stream_products(name, None, include_archived, &mut |row| {
            seen.push(row.product.name.as_str().to_owned());
            Ok(())
        })
        .unwrap();
    (count, seen)
}

#[test]
fn streaming_hands_over_every_match_in_order() {
    let world = World::new();
    for name in ["Tea 1", "Coffee", "Tea 2", "Tea 3"] {
        world.product(name, "1.00", "1");
    }
    let archived = world.product("Tea 4", "1.00", "1");
    world.catalog().archive_product(&archived.id, true).unwrap();
    assert_eq!(
        stream(&world, None, false),
        (
            4,
            vec![
                "Tea 1".into(),
                "Coffee".into(),
                "Tea 2".into(),
                "Tea 3".into()
            ]
        )
    );
    assert_eq!(stream(&world, None, true).0, 5);
    assert_eq!(
        stream(&world, Some("TEA"), false),
        (3, vec!["Tea 1".into(), "Tea 2".into(), "Tea 3".into()])
    );
    assert_eq!(stream(&world, Some("tea"), true).0, 4);
}

#[test]
fn a_streamed_name_search_continues_past_a_full_page() {
    let world = World::new();
    let items = (0..STREAM_PAGE as usize + 3).map(|i| {
        let name = if i % 2 == 0 {
            format!("Item {i}")
        } else {
            format!("Other {i}")
        };
        let when = at(T0);
        let product = Product {
            id: ProductId::generate(when, i as u128),
            name: ProductName::parse("name", &name).unwrap(),
            description: Description::empty(),
            price: money("1.00"),
            created_at: when,
            updated_at: when,
            archived_at: None,
            actor: None,
        };
        let opening = StockEvent::opening(
            EventId::generate(when, i as u128),
            product.id.clone(),
            Quantity::zero(),
            when,
        );
        Ok(ImportItem::Product {
            product,
            events: vec![opening],
            discount: None,
        })
    });
    world.store.import(&mut items.into_iter()).unwrap().unwrap();
    let (count, seen) = stream(&world, Some("item"), false);
    assert_eq!(count, u64::from(STREAM_PAGE) / 2 + 2);
    assert_eq!(seen.first().map(String::as_str), Some("Item 0"));
    assert_eq!(seen.last().map(String::as_str), Some("Item 5002"));
    let (all, _) = stream(&world, None, false);
    assert_eq!(all, u64::from(STREAM_PAGE) + 3);
    assert_eq!(
        world
            .store
            .list_products(
                &milly::app::ports::ProductQuery {
                    name_contains: Some("other".into()),
                    start: milly::app::ports::PageStart::Offset(0),
                    limit: 1,
                    include_archived: false,
                },
                at(T0)
            )
            .unwrap()[0]
            .product
            .name
            .as_str(),
        "Other 1"
    );
}

#[test]
fn a_failing_sink_stops_the_stream_with_its_error() {
    let world = World::new();
    for name in ["A", "B", "C"] {
        world.product(name, "1.00", "1");
    }
    for name in [None, Some("")] {
        let mut handed = 0;
        let stopped = world
            .catalog()
            .stream_products(name, None, false, &mut |_| {
                handed += 1;
                if handed == 2 {
                    Err(AppError::Unavailable("the output is closed".into()))
                } else {
                    Ok(())
                }
            });
        assert_eq!(
            stopped,
            Err(AppError::Unavailable("the output is closed".into()))
        );
        assert_eq!(handed, 2, "{name:?}");
    }
}
