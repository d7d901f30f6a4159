//! `product create`: the product and its opening ledger row together.

use milly::app::ports::{LedgerStore, ProductStore};
use milly::app::usecases::CreateProduct;
use milly::domain::*;

use crate::{actor, at, money, World, T0};

#[test]
fn creates_the_product_with_its_opening_stock_stamped_now_by_the_actor() {
    let world = World::new();
    let created = world
        .catalog()
        .create_product(CreateProduct {
            name: ProductName::parse("name", "  Green tea ").unwrap(),
            description: Description::parse("description", "Loose leaf").unwrap(),
            price: money("19.99"),
            stock: Quantity::parse("stock", "40").unwrap(),
        })
        .unwrap();
    let product = &created.product;
    assert_eq!(created.stock, 40);
    assert_eq!(product.name.as_str(), "Green tea");
    assert_eq!(product.price.cents(), 1_999);
    assert_eq!((product.created_at, product.updated_at), (at(T0), at(T0)));
    assert_eq!(product.archived_at, None);
    assert_eq!(product.actor, Some(actor("tester")));

    let stored = world
        .store
        .product_details(&product.id, None, at(T0))
        .unwrap()
        .unwrap();
    assert_eq!(&stored.product, product);
    assert_eq!(stored.stock, 40);
    let opening = world.store.stock_history(&product.id).unwrap().unwrap();
    assert_eq!(opening.len(), 1);
    assert_eq!(
        (
            opening[0].version,
            opening[0].change,
            opening[0].total_after_change
        ),
        (1, 40, 40)
    );
    assert_eq!(opening[0].actor, Some(actor("tester")));
}

#[test]
fn a_product_without_stock_still_has_its_version_one_row() {
    let world = World::new();
    let product = world.product("Empty shelf", "1.00", "0");
    let history = world.store.stock_history(&product.id).unwrap().unwrap();
    assert_eq!(
        history
            .iter()
            .map(|e| (e.version, e.total_after_change))
            .collect::<Vec<_>>(),
        [(1, 0)]
    );
}

#[test]
fn every_product_gets_its_own_id_and_position() {
    let world = World::new();
    let a = world.product("A", "1.00", "1");
    let b = world.product("B", "1.00", "1");
    assert_ne!(a.id, b.id);
    assert_eq!(world.counts(), (2, 2, 0, 0));
}
