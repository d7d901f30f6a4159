//! The catalog life-cycle: `product update`, `archive`, `unarchive`,
//! `history`, `discount clear`, `discount list`.

use std::cell::Cell;
use std::ops::ControlFlow;

use milly::adapters::persistence::memory::MemoryStore;
use milly::app::ports::*;
use milly::app::usecases::{ListDiscounts, SetDiscount, UpdateProduct};
use milly::app::{AppError, Catalog};
use milly::domain::*;

use crate::{actor, at, money, no_wait, percent, rejected, World, T0};

fn price_to(product: &Product, price: &str) -> UpdateProduct {
    UpdateProduct {
        id: product.id.clone(),
        edit: ProductEdit {
            price: Some(money(price)),
            ..ProductEdit::default()
        },
    }
}

#[test]
fn an_update_changes_the_fields_given_and_records_old_and_new() {
    let world = World::new();
    let product = world.product("Mug", "5.00", "1");
    world.clock.set("2025-06-03T00:00:00Z");
    let updated = world
        .catalog()
        .update_product(UpdateProduct {
            id: product.id.clone(),
            edit: ProductEdit {
                name: Some(ProductName::parse("name", "Big mug").unwrap()),
                description: None,
                price: Some(money("6.50")),
            },
        })
        .unwrap();
    assert_eq!(updated.name.as_str(), "Big mug");
    assert_eq!(updated.price, money("6.50"));
    assert_eq!(updated.updated_at, at("2025-06-03"));
    assert_eq!(updated.description, product.description);
    let stored = world
        .store
        .product_details(&product.id, None, at("2025-06-04"))
        .unwrap()
        .unwrap();
    assert_eq!(stored.product, updated);
    let changes = world.store.product_changes(&product.id).unwrap();
    assert_eq!(changes.len(), 1);
    let change = &changes[0];
    assert_eq!(
        (change.kind, change.at),
        (ChangeKind::Updated, at("2025-06-03"))
    );
    assert_eq!(change.actor, Some(actor("tester")));
    assert_eq!(
        change.price.as_ref().map(|e| (e.old, e.new)),
        Some((Some(money("5.00")), money("6.50")))
    );
    assert_eq!(change.description, None);
}

#[test]
fn an_update_that_changes_nothing_writes_nothing() {
    let world = World::new();
    let product = world.product("Mug", "5.00", "1");
    let same = world
        .catalog()
        .update_product(price_to(&product, "5.00"))
        .unwrap();
    assert_eq!(same, product);
    assert!(world.store.product_changes(&product.id).unwrap().is_empty());
    let nothing = world.catalog().update_product(UpdateProduct {
        id: product.id.clone(),
        edit: ProductEdit::default(),
    });
    assert!(
        matches!(nothing, Err(AppError::Invalid(_))),
        "{:?}",
        nothing.err()
    );
}

#[test]
fn archived_and_unknown_products_cannot_be_updated() {
    let world = World::new();
    let product = world.product("Mug", "5.00", "1");
    world.catalog().archive_product(&product.id, true).unwrap();
    assert_eq!(
        rejected(world.catalog().update_product(price_to(&product, "9.00"))),
        "product_archived"
    );
    let ghost = Product {
        id: ProductId::generate(at(T0), 3),
        ..product.clone()
    };
    assert!(matches!(
        world.catalog().update_product(price_to(&ghost, "9.00")),
        Err(AppError::NotFound {
            what: "product",
            ..
        })
    ));
    assert_eq!(
        world.store.product_changes(&product.id).unwrap().len(),
        1,
        "only the archiving"
    );
}

/// Products read through a memory store, whose first update finds that
/// another writer changed the description since it was read.
struct Overtaken<'s> {
    store: &'s MemoryStore,
    rival_done: Cell<bool>,
}

impl ProductStore for Overtaken<'_> {
    fn create_product(&self, product: &Product, opening: &StockEvent) -> Result<(), StoreError> {
        self.store.create_product(product, opening)
    }
    fn update_product(
        &self,
        before: &Product,
        after: &Product,
        change: &ProductChange,
    ) -> Result<(), StoreError> {
        if !self.rival_done.replace(true) {
            let edit = ProductEdit {
                description: Some(Description::parse("d", "Changed by a colleague").unwrap()),
                ..ProductEdit::default()
            };
            let (theirs, their_change) = before.edited(edit, before.updated_at, None).unwrap();
            self.store.update_product(before, &theirs, &their_change)?;
        }
        self.store.update_product(before, after, change)
    }
    fn set_archived(&self, change: &ProductChange) -> Result<bool, StoreError> {
        self.store.set_archived(change)
    }
    fn product_changes(&self, id: &ProductId) -> Result<Vec<ProductChange>, StoreError> {
        self.store.product_changes(id)
    }
    fn list_products(
        &self,
        query: &ProductQuery,
        at: Instant,
    ) -> Result<Vec<ProductListing>, StoreError> {
        self.store.list_products(query, at)
    }
    fn scan_products(
        &self,
        include_archived: bool,
        at: Instant,
        sink: &mut dyn FnMut(ProductListing) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
        self.store.scan_products(include_archived, at, sink)
    }
    fn product_details(
        &self,
        id: &ProductId,
        customer: Option<&CustomerId>,
        at: Instant,
    ) -> Result<Option<ProductDetails>, StoreError> {
        self.store.product_details(id, customer, at)
    }
}

#[test]
fn an_update_overtaken_by_another_reads_again_and_keeps_both_changes() {
    let world = World::new();
    let product = world.product("Mug", "5.00", "1");
    let products = Overtaken {
        store: &world.store,
        rival_done: Cell::new(false),
    };
    let stores = Stores {
        products: &products,
        ..Stores::of(&world.store)
    };
    let updated = Catalog::with_stores(stores, &world.clock, no_wait(3))
        .update_product(price_to(&product, "7.00"))
        .unwrap();
    assert_eq!(updated.price, money("7.00"));
    assert_eq!(updated.description.as_str(), "Changed by a colleague");
    assert_eq!(world.store.product_changes(&product.id).unwrap().len(), 2);
}

#[test]
fn archiving_and_unarchiving_twice_change_things_once() {
    let world = World::new();
    let product = world.product("Mug", "5.00", "1");
    world.clock.set("2025-06-02T00:00:00Z");
    let archived = world.catalog().archive_product(&product.id, true).unwrap();
    assert!(archived.changed);
    assert_eq!(archived.product.archived_at, Some(at("2025-06-02")));
    world.clock.set("2025-06-03T00:00:00Z");
    let again = world.catalog().archive_product(&product.id, true).unwrap();
    assert!(!again.changed);
    assert_eq!(
        again.product.archived_at,
        Some(at("2025-06-02")),
        "still the first time"
    );
    let back = world.catalog().archive_product(&product.id, false).unwrap();
    assert!(back.changed);
    assert_eq!(
        (back.product.archived_at, back.product.updated_at),
        (None, at("2025-06-03"))
    );
    assert!(
        !world
            .catalog()
            .archive_product(&product.id, false)
            .unwrap()
            .changed
    );
    let ghost = ProductId::generate(at(T0), 4);
    assert!(matches!(
        world.catalog().archive_product(&ghost, true),
        Err(AppError::NotFound {
            what: "product",
            ..
        })
    ));
}

#[test]
fn a_dry_run_archive_reports_the_product_as_it_would_be_and_keeps_nothing() {
    let world = World::new();
    let product = world.product("Mug", "5.00", "1");
    let dry = world.store.clone().dry_run(true);
    let archived = Catalog::new(&dry, &world.clock, no_wait(1))
        .archive_product(&product.id, true)
        .unwrap();
    assert!(archived.changed);
    assert_eq!(archived.product.archived_at, Some(at(T0)));
    let stored = world
        .store
        .product_details(&product.id, None, at(T0))
        .unwrap()
        .unwrap();
    assert_eq!(stored.product.archived_at, None);
    assert!(world.store.product_changes(&product.id).unwrap().is_empty());
}

#[test]
fn the_history_starts_with_the_creation() {
    let world = World::new();
    let product = world.product("Mug", "5.00", "1");
    world.clock.set("2025-06-02T00:00:00Z");
    world
        .catalog()
        .update_product(price_to(&product, "6.00"))
        .unwrap();
    world.clock.set("2025-06-03T00:00:00Z");
    world.catalog().archive_product(&product.id, true).unwrap();
    let history = world.catalog().product_history(&product.id).unwrap();
    assert_eq!(history.product.price, money("6.00"));
    let kinds: Vec<(ChangeKind, Instant)> =
        history.changes.iter().map(|c| (c.kind, c.at)).collect();
    assert_eq!(
        kinds,
        [
            (ChangeKind::Created, at(T0)),
            (ChangeKind::Updated, at("2025-06-02")),
            (ChangeKind::Archived, at("2025-06-03")),
        ]
    );
    // The creation carries the values the product was created with.
    assert_eq!(
        history.changes[0].price.as_ref().map(|e| e.new),
        Some(money("5.00"))
    );
    assert!(matches!(
        world
            .catalog()
            .product_history(&ProductId::generate(at(T0), 8)),
        Err(AppError::NotFound {
            what: "product",
            ..
        })
    ));
}

#[test]
fn clearing_switches_off_the_running_discount_once() {
    let world = World::new();
    let product = world.product("Mug", "5.00", "1");
    let set = world
        .catalog()
        .set_discount(SetDiscount {
            product_id: product.id.clone(),
            percentage: percent("10"),
            from: None,
            until: None,
        })
        .unwrap();
    world.clock.set("2025-06-02T00:00:00Z");
    assert_eq!(
        world.catalog().clear_discount(&product.id).unwrap(),
        std::slice::from_ref(&set.discount.id)
    );
    assert_eq!(world.catalog().clear_discount(&product.id).unwrap(), []);
    let listed = world
        .catalog()
        .list_discounts(ListDiscounts {
            product_id: Some(product.id.clone()),
            active: false,
            page: 1,
            page_size: 10,
        })
        .unwrap();
    assert_eq!(listed.at, at("2025-06-02"));
    assert_eq!(listed.items[0].status_at(listed.at).name(), "cleared");
    assert_eq!(
        listed.items[0].deactivated,
        Some(Deactivation {
            at: at("2025-06-02"),
            by: Some(actor("tester"))
        })
    );
    let ghost = ProductId::generate(at(T0), 6);
    assert!(matches!(
        world.catalog().clear_discount(&ghost),
        Err(AppError::NotFound {
            what: "product",
            ..
        })
    ));
    world.catalog().archive_product(&product.id, true).unwrap();
    assert_eq!(
        rejected(world.catalog().clear_discount(&product.id)),
        "product_archived"
    );
}

#[test]
fn discounts_are_listed_by_product_activity_and_page() {
    let world = World::new();
    let a = world.product("A", "5.00", "1");
    let b = world.product("B", "5.00", "1");
    let set = |product: &Product, pct: &str| {
        world
            .catalog()
            .set_discount(SetDiscount {
                product_id: product.id.clone(),
                percentage: percent(pct),
                from: None,
                until: None,
            })
            .unwrap()
            .discount
            .id
    };
    let a1 = set(&a, "10");
    let b1 = set(&b, "20");
    let a2 = set(&a, "30");
    let list = |product: Option<&Product>, active: bool, page: u64, page_size: u32| {
        world
            .catalog()
            .list_discounts(ListDiscounts {
                product_id: product.map(|p| p.id.clone()),
                active,
                page,
                page_size,
            })
            .unwrap()
            .items
            .into_iter()
            .map(|d| d.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        list(None, false, 1, 10),
        [a1.clone(), b1.clone(), a2.clone()]
    );
    assert_eq!(list(Some(&a), false, 1, 10), [a1, a2.clone()]);
    assert_eq!(list(None, true, 1, 10), [b1.clone(), a2]);
    assert_eq!(list(None, false, 2, 1), [b1]);
    let ghost = Product {
        id: ProductId::generate(at(T0), 2),
        ..a.clone()
    };
    assert!(matches!(
        world.catalog().list_discounts(ListDiscounts {
            product_id: Some(ghost.id),
            active: false,
            page: 1,
            page_size: 10,
        }),
        Err(AppError::NotFound {
            what: "product",
            ..
        })
    ));
}
