//! The stories: every port method and every MUST of `CatalogStore`'s
//! documentation, each on a fresh database.

use std::cell::Cell;
use std::time::Duration;

use milly::app::ports::*;
use milly::app::usecases::AdjustStock;
use milly::app::{Catalog, Clock, RetryPolicy};
use milly::domain::text::fold_case;
use milly::domain::*;

use crate::backends::{Engine, Sql, TestDb};
use crate::ledger_stories::{
    a_revert_below_zero_or_of_nothing_is_refused_and_writes_nothing,
    an_event_is_found_by_its_id_with_the_row_that_reverts_it, an_event_is_reverted_at_most_once,
    reverts_race_and_only_one_wins, the_database_itself_refuses_changing_or_removing_ledger_rows,
    the_log_ends_before_until_and_its_tail_is_its_newest_events,
};
use crate::script_stories::{
    a_dry_run_store_checks_every_write_and_keeps_nothing, a_stock_batch_commits_all_or_nothing,
    a_stock_batch_holds_off_other_writers_of_its_products, ledger_scans_hand_over_rows_as_stored,
    the_log_pages_in_the_order_events_were_written,
};
use crate::time_stories::{
    a_server_tells_its_own_time, answers_for_a_moment_use_only_what_was_recorded_by_then,
};

pub type Story = fn(&TestDb);

/// Lists each story under its function's own name, so the name a run
/// reports is the one to look for in the source, and the two cannot drift.
macro_rules! stories {
    ($($story:ident),* $(,)?) => {
        &[$((stringify!($story), $story as Story)),*]
    };
}

pub const ALL: &[(&str, Story)] = stories![
    creates_a_product_with_its_opening_stock,
    writes_are_seen_by_other_connections,
    a_taken_version_is_a_conflict_and_writes_nothing,
    appends_extend_the_ledger_in_version_order,
    unknown_products_are_not_found,
    coupon_codes_are_unique_in_any_case,
    at_most_one_discount_applies_at_any_instant,
    lists_in_creation_order_and_pages_past_the_end,
    pages_continue_after_a_position,
    name_filters_are_literal_case_folded_substrings,
    name_searches_find_what_a_full_scan_finds,
    discount_windows_are_half_open,
    scheduled_discounts_coexist_and_an_overlap_cuts_and_cancels,
    concurrent_discount_sets_never_leave_overlapping_windows,
    clearing_switches_off_the_running_and_the_scheduled,
    coupon_windows_are_half_open,
    the_best_coupon_applies,
    deactivated_coupons_stop_applying,
    an_import_writes_every_row_in_order,
    an_aborted_import_writes_nothing,
    a_duplicate_code_in_an_import_writes_nothing,
    migrating_twice_applies_nothing_and_status_counts_rows,
    a_newer_schema_is_refused,
    a_unique_violation_on_append_is_retried,
    the_database_itself_refuses_deleting_products,
    the_database_itself_limits_text,
    the_database_itself_allows_active_discounts_one_per_schedule_version,
    a_unit_of_work_commits_its_writes_together_or_none,
    a_key_is_recorded_once_and_a_second_record_conflicts,
    a_key_recorded_by_a_concurrent_unit_is_a_conflict_and_rolls_back,
    pruning_forgets_only_older_keys,
    a_result_too_large_for_the_server_is_refused_before_writing,
    an_older_schema_is_upgraded_by_migrate_and_by_prepare_only_on_a_file,
    a_keyed_write_runs_once_and_replays_its_result,
    ledger_scans_hand_over_rows_as_stored,
    the_log_pages_in_the_order_events_were_written,
    a_stock_batch_commits_all_or_nothing,
    a_stock_batch_holds_off_other_writers_of_its_products,
    a_dry_run_store_checks_every_write_and_keeps_nothing,
    archived_products_are_hidden_and_read_only,
    updates_record_old_and_new_values_and_refuse_stale_reads,
    prices_in_force_at_past_instants,
    answers_for_a_moment_use_only_what_was_recorded_by_then,
    a_server_tells_its_own_time,
    replaced_and_cleared_discounts_apply_before_they_stopped,
    discounts_are_listed_in_creation_order,
    a_scan_gives_what_pages_give,
    coupons_are_listed_and_shown,
    every_row_written_records_its_actor,
    life_cycle_writes_join_a_unit_of_work_and_a_dry_run_unit_keeps_nothing,
    an_event_is_found_by_its_id_with_the_row_that_reverts_it,
    an_event_is_reverted_at_most_once,
    a_revert_below_zero_or_of_nothing_is_refused_and_writes_nothing,
    reverts_race_and_only_one_wins,
    the_database_itself_refuses_changing_or_removing_ledger_rows,
    the_log_ends_before_until_and_its_tail_is_its_newest_events,
];

// ---------------------------------------------------------------- helpers

fn at(raw: &str) -> Instant {
    Instant::parse("test time", raw).unwrap()
}

pub fn t0() -> Instant {
    at("2025-06-01T12:00:00Z")
}

/// When the fixtures' products, discounts and coupons are recorded: before
/// every moment a story asks about, since an answer for a moment uses only
/// what was recorded by then.
pub fn recorded() -> Instant {
    at("2024-01-01T00:00:00Z")
}

pub fn product_at(name: &str, cents: i64, stock: i64, created: Instant) -> (Product, StockEvent) {
    let product = Product {
        id: ProductId::generate(created, rand::random()),
        name: ProductName::parse("name", name).unwrap(),
        description: Description::parse("description", "about it").unwrap(),
        price: Money::from_cents(cents).unwrap(),
        created_at: created,
        updated_at: created,
        archived_at: None,
        actor: Some(Actor::parse("actor", "contract").unwrap()),
    };
    let opening = StockEvent::opening(
        EventId::generate(created, rand::random()),
        product.id.clone(),
        Quantity::parse("stock", &stock.to_string()).unwrap(),
        created,
    );
    (product, opening)
}

/// Creates a product through the port and returns it.
pub fn create(store: &dyn CatalogStore, name: &str, cents: i64, stock: i64) -> Product {
    let (product, opening) = product_at(name, cents, stock, recorded());
    store.create_product(&product, &opening).unwrap();
    product
}

pub fn next_event(latest: &StockEvent, change: i64) -> StockEvent {
    latest
        .next(
            EventId::generate(t0(), rand::random()),
            StockChange::parse("change", &change.to_string()).unwrap(),
            Some(Reason::parse("reason", "contract").unwrap()),
            t0(),
        )
        .unwrap()
}

fn window(from: &str, until: &str) -> Window {
    Window::new(at(from), at(until), "window").unwrap()
}

fn percent(raw: &str) -> Percentage {
    Percentage::parse("percent", raw).unwrap()
}

pub fn discount(product: &ProductId, pct: &str, window: Window) -> Discount {
    Discount {
        id: DiscountId::generate(recorded(), rand::random()),
        product_id: product.clone(),
        percentage: percent(pct),
        window,
        is_active: true,
        created_at: recorded(),
        actor: Some(Actor::parse("actor", "contract").unwrap()),
        deactivated: None,
        replaced_by: None,
    }
}

pub fn coupon(user: &str, code: &str, pct: &str, window: Window) -> Coupon {
    Coupon {
        id: CouponId::generate(recorded(), rand::random()),
        user_id: CustomerId::parse("user", user).unwrap(),
        code: CouponCode::parse("code", code).unwrap(),
        percentage: percent(pct),
        window,
        is_active: true,
        created_at: recorded(),
        actor: Some(Actor::parse("actor", "contract").unwrap()),
        deactivated: None,
    }
}

fn customer(raw: &str) -> CustomerId {
    CustomerId::parse("user", raw).unwrap()
}

fn page(name: Option<&str>, start: PageStart, limit: u32) -> ProductQuery {
    ProductQuery {
        name_contains: name.map(fold_case),
        start,
        limit,
        include_archived: false,
    }
}

fn names(listing: &[ProductListing]) -> Vec<String> {
    listing
        .iter()
        .map(|l| l.product.name.as_str().to_owned())
        .collect()
}

pub fn all_window() -> Window {
    window("2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z")
}

// ---------------------------------------------------------------- stories

fn creates_a_product_with_its_opening_stock(db: &TestDb) {
    let store = db.store();
    let (product, opening) = product_at("Green tea", 1_999, 100, t0());
    store.create_product(&product, &opening).unwrap();

    let details = store
        .product_details(&product.id, None, t0())
        .unwrap()
        .unwrap();
    assert_eq!(details.product, product);
    assert_eq!(details.stock, 100);
    assert_eq!(details.discount, None);
    assert_eq!(details.coupon, None);
    assert_eq!(
        store.latest_stock_event(&product.id).unwrap(),
        Some(opening.clone())
    );
    assert_eq!(
        store.stock_history(&product.id).unwrap(),
        Some(vec![opening])
    );

    // A product with no opening stock still has its version-1 event.
    let empty = create(store.as_ref(), "Empty", 100, 0);
    let history = store.stock_history(&empty.id).unwrap().unwrap();
    assert_eq!((history[0].version, history[0].total_after_change), (1, 0));
}

fn writes_are_seen_by_other_connections(db: &TestDb) {
    let writer = db.store();
    let product = create(writer.as_ref(), "Shared", 500, 3);
    let reader = db.store();
    assert_eq!(
        reader
            .latest_stock_event(&product.id)
            .unwrap()
            .unwrap()
            .total_after_change,
        3
    );
    let latest = writer.latest_stock_event(&product.id).unwrap().unwrap();
    writer.append_stock_event(&next_event(&latest, 4)).unwrap();
    assert_eq!(
        reader
            .latest_stock_event(&product.id)
            .unwrap()
            .unwrap()
            .version,
        2
    );
}

fn a_taken_version_is_a_conflict_and_writes_nothing(db: &TestDb) {
    let store = db.store();
    let product = create(store.as_ref(), "Contested", 100, 10);
    let v1 = store.latest_stock_event(&product.id).unwrap().unwrap();
    let first = next_event(&v1, 5);
    let second = next_event(&v1, -3);
    store.append_stock_event(&first).unwrap();

    let refused = db.store().append_stock_event(&second);
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(
        store.stock_history(&product.id).unwrap().unwrap(),
        vec![v1, first]
    );
}

fn appends_extend_the_ledger_in_version_order(db: &TestDb) {
    let store = db.store();
    let product = create(store.as_ref(), "Ledger", 100, 10);
    let mut latest = store.latest_stock_event(&product.id).unwrap().unwrap();
    for change in [5, -15, 7] {
        let next = next_event(&latest, change);
        store.append_stock_event(&next).unwrap();
        latest = next;
    }
    let history = store.stock_history(&product.id).unwrap().unwrap();
    let rows: Vec<(i64, i64, i64)> = history
        .iter()
        .map(|e| (e.version, e.change, e.total_after_change))
        .collect();
    assert_eq!(rows, vec![(1, 10, 10), (2, 5, 15), (3, -15, 0), (4, 7, 7)]);
    assert_eq!(history.last(), Some(&latest));
    assert_eq!(
        history[1].reason.as_ref().map(|r| r.as_str()),
        Some("contract")
    );
}

fn unknown_products_are_not_found(db: &TestDb) {
    let store = db.store();
    let known = create(store.as_ref(), "Known", 100, 1);
    let (ghost, ghost_opening) = product_at("Ghost", 100, 1, t0());
    let id = &ghost.id;
    assert_eq!(
        store
            .product_details(id, Some(&customer("42")), t0())
            .unwrap(),
        None
    );
    assert_eq!(store.latest_stock_event(id).unwrap(), None);
    assert_eq!(store.stock_history(id).unwrap(), None);
    assert_eq!(
        store.replace_discount(&discount(id, "10", all_window())),
        Err(StoreError::ProductNotFound(id.to_string()))
    );
    let orphan = next_event(&ghost_opening, 1);
    assert_eq!(
        store.append_stock_event(&orphan),
        Err(StoreError::ProductNotFound(id.to_string()))
    );
    assert_eq!(
        store
            .deactivate_coupon(&CouponCode::parse("code", "NOPE").unwrap(), t0(), None)
            .unwrap(),
        None
    );
    // Nothing was written by the refused calls.
    let status = store.status().unwrap();
    assert_eq!(
        (status.products, status.stock_events, status.discounts),
        (1, 1, 0)
    );
    assert!(store
        .product_details(&known.id, None, t0())
        .unwrap()
        .is_some());
}

fn coupon_codes_are_unique_in_any_case(db: &TestDb) {
    let store = db.store();
    store
        .create_coupon(&coupon("42", "Save10", "10", all_window()))
        .unwrap();
    for code in ["Save10", "SAVE10", "save10"] {
        assert_eq!(
            store.create_coupon(&coupon("7", code, "20", all_window())),
            Err(StoreError::DuplicateCouponCode(code.to_owned())),
            "{code}"
        );
    }
    assert_eq!(store.status().unwrap().coupons, 1);
}

fn at_most_one_discount_applies_at_any_instant(db: &TestDb) {
    let store = db.store();
    let product = create(store.as_ref(), "Discounted", 10_000, 1);
    let first = discount(&product.id, "10", all_window());
    // Set at t0, with a start before it.
    let second = Discount {
        created_at: t0(),
        ..discount(
            &product.id,
            "25",
            window("2025-05-01T00:00:00Z", "2025-07-01T00:00:00Z"),
        )
    };
    store.replace_discount(&first).unwrap();
    // The second starts before now: the first is cut at now.
    let replaced = store.replace_discount(&second).unwrap();
    assert_eq!(replaced.cut, std::slice::from_ref(&first.id));
    assert_eq!(replaced.cut_at, Some(t0()));

    let details = store
        .product_details(&product.id, None, t0())
        .unwrap()
        .unwrap();
    assert_eq!(details.discount, Some(second.clone()));
    // After the new discount's window the cut one no longer applies.
    let later = at("2025-08-01T00:00:00Z");
    assert_eq!(
        store
            .product_details(&product.id, None, later)
            .unwrap()
            .unwrap()
            .discount,
        None
    );
    let listed = store
        .list_products(&page(None, PageStart::Offset(0), 10), t0())
        .unwrap();
    assert_eq!(listed[0].discount, Some(second));
    assert_eq!(store.status().unwrap().discounts, 2);
}

fn lists_in_creation_order_and_pages_past_the_end(db: &TestDb) {
    let store = db.store();
    let created: Vec<Product> = (1..=5)
        .map(|i| create(store.as_ref(), &format!("P{i}"), 100 * i, i))
        .collect();
    let list = |skip: u64, limit: u32| {
        store
            .list_products(&page(None, PageStart::Offset(skip), limit), t0())
            .unwrap()
    };
    assert_eq!(names(&list(0, 2)), ["P1", "P2"]);
    assert_eq!(names(&list(2, 2)), ["P3", "P4"]);
    assert_eq!(names(&list(4, 2)), ["P5"]);
    assert!(list(6, 2).is_empty());
    assert!(list(u64::MAX, 2).is_empty());
    let all = list(0, 100);
    assert_eq!(all.len(), 5);
    for (listing, product) in all.iter().zip(&created) {
        assert_eq!(&listing.product, product);
        assert_eq!(listing.stock, product.price.cents() / 100);
    }
    let positions: Vec<i64> = all.iter().map(|l| l.position).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    // With a filter, pages are counted among the matches.
    let filtered = store
        .list_products(&page(Some("p"), PageStart::Offset(3), 10), t0())
        .unwrap();
    assert_eq!(names(&filtered), ["P4", "P5"]);
}

fn pages_continue_after_a_position(db: &TestDb) {
    let store = db.store();
    for i in 1..=5 {
        create(store.as_ref(), &format!("Tea {i}"), 100, 0);
    }
    let mut seen = Vec::new();
    let mut start = PageStart::Offset(0);
    loop {
        let chunk = store
            .list_products(&page(Some("tea"), start, 2), t0())
            .unwrap();
        let Some(last) = chunk.last() else { break };
        start = PageStart::After(last.position);
        seen.extend(names(&chunk));
    }
    assert_eq!(seen, ["Tea 1", "Tea 2", "Tea 3", "Tea 4", "Tea 5"]);
}

fn name_filters_are_literal_case_folded_substrings(db: &TestDb) {
    let store = db.store();
    for name in [
        "100% Cotton",
        "100 Cotton",
        "snake_case mug",
        "snakeXcase mug",
        "Édith's ÉCLAIR",
        "Tea",
    ] {
        create(store.as_ref(), name, 100, 0);
    }
    let find = |term: &str| {
        names(
            &store
                .list_products(&page(Some(term), PageStart::Offset(0), 50), t0())
                .unwrap(),
        )
    };
    assert_eq!(find("0%"), ["100% Cotton"]);
    assert_eq!(find("100%"), ["100% Cotton"]);
    assert_eq!(find("%"), ["100% Cotton"]);
    assert_eq!(find("_"), ["snake_case mug"]);
    assert_eq!(find("e_c"), ["snake_case mug"]);
    assert_eq!(find("COTTON"), ["100% Cotton", "100 Cotton"]);
    assert_eq!(find("éclair"), ["Édith's ÉCLAIR"]);
    assert_eq!(find("'s"), ["Édith's ÉCLAIR"]);
    assert_eq!(
        find("t"),
        ["100% Cotton", "100 Cotton", "Édith's ÉCLAIR", "Tea"]
    );
    assert_eq!(find("\"x"), Vec::<String>::new());
    assert_eq!(find("nothing like it"), Vec::<String>::new());
}

/// Names over several of the MySQL name index's blocks (4,096 positions):
/// a vocabulary with Unicode, `%` and `_`, and rare words at a few places.
fn search_catalog(n: usize) -> Vec<ImportItem> {
    let adjectives = ["Rustic", "Élégant", "100%", "snake_case", "Grand", "日本の"];
    let materials = ["Oak", "Steel", "ÉCLAIR", "茶碗", "Walnut", "x😀y"];
    let nouns = ["Mug", "Spoon", "Bowl", "セット", "Tray"];
    (0..n)
        .map(|i| {
            let mut name = format!(
                "{} {} {} {}",
                adjectives[i % adjectives.len()],
                materials[(i / 7) % materials.len()],
                nouns[(i / 3) % nouns.len()],
                i % 997
            );
            if i % 3_001 == 17 {
                name = format!("Quokka {name}");
            }
            if i % 2_500 == 5 {
                name.push_str(" zebra");
            }
            let (product, opening) = product_at(&name, 100, 1, t0());
            ImportItem::Product {
                product,
                events: vec![opening],
                discount: None,
            }
        })
        .collect()
}

fn name_searches_find_what_a_full_scan_finds(db: &TestDb) {
    let store = db.store();
    let mut items = search_catalog(9_000);
    let ids: Vec<ProductId> = items
        .iter()
        .filter_map(|i| match i {
            ImportItem::Product { product, .. } => Some(product.id.clone()),
            ImportItem::Coupon(_) => None,
        })
        .collect();
    store
        .import(&mut items.drain(..).map(Ok))
        .unwrap()
        .expect("not aborted");
    create(store.as_ref(), "A late quokka, 100% Oak", 100, 1);
    create(store.as_ref(), "Ünïcode ÉCLAIR zebra", 100, 1);
    // Renames: into a rare word in a block that had none, and out of one.
    for (position, new_name) in [(10, "Renamed Quokka"), (5, "No longer striped")] {
        let before = store
            .product_details(&ids[position], None, t0())
            .unwrap()
            .unwrap()
            .product;
        let edit = ProductEdit {
            name: Some(ProductName::parse("name", new_name).unwrap()),
            ..ProductEdit::default()
        };
        let (after, change) = before.edited(edit, t0(), None).unwrap();
        store.update_product(&before, &after, &change).unwrap();
    }
    for position in [17, 3_018, 8_000, 8_001] {
        let archive = archival(&ids[position], true, "2025-06-02", "ops");
        assert!(store.set_archived(&archive).unwrap());
    }

    let locate = match db.sql() {
        Sql::Sqlite => "instr(name_folded, ?) > 0",
        Sql::Mysql => "LOCATE(?, name_folded) > 0",
    };
    let terms = [
        "q",
        "%",
        "_",
        "é",
        "😀",
        "ok",
        "0%",
        "e_",
        "茶碗",
        "quokka",
        "zebra",
        "striped",
        "renamed",
        "100%",
        "e_c",
        "oak mug",
        "éclair",
        "ÉCLAIR",
        "x😀y",
        "茶碗 セ",
        "日本の",
        "steel spoon",
        "rustic oak mug 1",
        "mug 99",
        "no such name",
        "qqq",
    ];
    for term in terms {
        let folded = fold_case(term);
        for include_archived in [false, true] {
            let archived = if include_archived {
                ""
            } else {
                " AND archived_at IS NULL"
            };
            let expected = db.raw_strings(
                &format!("SELECT id FROM products WHERE {locate}{archived} ORDER BY seq"),
                &folded,
            );
            let limit = (expected.len() / 4 + 1).max(7) as u32;
            let listed = |start: PageStart| {
                let mut query = page(Some(term), start, limit);
                query.include_archived = include_archived;
                store.list_products(&query, t0()).unwrap()
            };
            let ids = |l: &[ProductListing]| -> Vec<String> {
                l.iter().map(|l| l.product.id.to_string()).collect()
            };
            // Page by page, by number and after the last position shown.
            let (mut by_number, mut by_position) = (Vec::new(), Vec::new());
            for number in 0.. {
                let found = listed(PageStart::Offset(number * u64::from(limit)));
                if found.is_empty() {
                    break;
                }
                by_number.extend(ids(&found));
            }
            let mut start = PageStart::Offset(0);
            loop {
                let found = listed(start);
                let Some(last) = found.last() else { break };
                start = PageStart::After(last.position);
                by_position.extend(ids(&found));
            }
            let context = format!("{term:?}, archived included: {include_archived}");
            assert_eq!(by_number, expected, "{context}");
            assert_eq!(by_position, expected, "{context}");
        }
    }
    // The terms meant to be rare are.
    let quokkas = store
        .list_products(&page(Some("QUOKKA"), PageStart::Offset(0), 50), t0())
        .unwrap();
    assert_eq!(names(&quokkas).len(), 3, "{:?}", names(&quokkas));
}

fn discount_windows_are_half_open(db: &TestDb) {
    let store = db.store();
    let product = create(store.as_ref(), "Windowed", 10_000, 1);
    let d = discount(
        &product.id,
        "10",
        window("2025-06-01T00:00:00Z", "2025-06-02T00:00:00Z"),
    );
    store.replace_discount(&d).unwrap();
    let applies = |when: &str| {
        let instant = at(when);
        let details = store
            .product_details(&product.id, None, instant)
            .unwrap()
            .unwrap();
        let listed = store
            .list_products(&page(None, PageStart::Offset(0), 1), instant)
            .unwrap();
        assert_eq!(details.discount, listed[0].discount, "{when}");
        details.discount.is_some()
    };
    assert!(!applies("2025-05-31T23:59:59.999999Z"));
    assert!(applies("2025-06-01T00:00:00Z"));
    assert!(applies("2025-06-01T23:59:59.999999Z"));
    assert!(!applies("2025-06-02T00:00:00Z"));
}

fn coupon_windows_are_half_open(db: &TestDb) {
    let store = db.store();
    let product = create(store.as_ref(), "Any", 10_000, 1);
    store
        .create_coupon(&coupon(
            "42",
            "DAY1",
            "10",
            window("2025-06-01T00:00:00Z", "2025-06-02T00:00:00Z"),
        ))
        .unwrap();
    let applies = |when: &str| {
        store
            .product_details(&product.id, Some(&customer("42")), at(when))
            .unwrap()
            .unwrap()
            .coupon
            .is_some()
    };
    assert!(!applies("2025-05-31T23:59:59.999999Z"));
    assert!(applies("2025-06-01T00:00:00Z"));
    assert!(applies("2025-06-01T23:59:59.999999Z"));
    assert!(!applies("2025-06-02T00:00:00Z"));
}

fn the_best_coupon_applies(db: &TestDb) {
    let store = db.store();
    let product = create(store.as_ref(), "Any", 10_000, 1);
    let early_end = window("2025-01-01T00:00:00Z", "2025-07-01T00:00:00Z");
    let coupons = [
        coupon("42", "TEN", "10", all_window()),
        coupon("42", "TWENTYLATE", "20", all_window()),
        coupon("42", "TWENTYSOON", "20", early_end),
        coupon(
            "42",
            "EXPIRED50",
            "50",
            window("2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z"),
        ),
        coupon("42", "OFF60", "60", all_window()),
        coupon("7", "OTHER90", "90", all_window()),
    ];
    for c in &coupons {
        store.create_coupon(c).unwrap();
    }
    store
        .deactivate_coupon(&coupons[4].code, t0(), None)
        .unwrap()
        .unwrap();
    let best = |who: Option<&str>| {
        let who = who.map(customer);
        store
            .product_details(&product.id, who.as_ref(), t0())
            .unwrap()
            .unwrap()
            .coupon
            .map(|c| c.code.as_str().to_owned())
    };
    // Highest percentage; among equals, the one that ends first.
    assert_eq!(best(Some("42")).as_deref(), Some("TWENTYSOON"));
    assert_eq!(best(Some("7")).as_deref(), Some("OTHER90"));
    assert_eq!(best(Some("nobody")), None);
    assert_eq!(best(None), None);
}

fn deactivated_coupons_stop_applying(db: &TestDb) {
    let store = db.store();
    let product = create(store.as_ref(), "Any", 10_000, 1);
    let c = coupon("42", "Welcome", "10", all_window());
    store.create_coupon(&c).unwrap();
    let ops = Actor::parse("actor", "ops").unwrap();
    let off = store
        .deactivate_coupon(
            &CouponCode::parse("code", "WELCOME").unwrap(),
            t0(),
            Some(&ops),
        )
        .unwrap()
        .unwrap();
    assert_eq!(
        off,
        Coupon {
            is_active: false,
            deactivated: Some(Deactivation {
                at: t0(),
                by: Some(ops.clone()),
            }),
            ..c.clone()
        }
    );
    // Deactivating again changes nothing (not even when) and still returns
    // the coupon.
    assert_eq!(
        store
            .deactivate_coupon(&c.code, at("2025-07-01"), None)
            .unwrap(),
        Some(off)
    );
    let details = store
        .product_details(&product.id, Some(&customer("42")), t0())
        .unwrap()
        .unwrap();
    assert_eq!(details.coupon, None);
}

/// Import items for `n` products, each with three more ledger events and
/// every other one with a discount.
fn import_products(n: usize) -> Vec<ImportItem> {
    (0..n)
        .map(|i| {
            let (product, opening) = product_at(&format!("Imported {i}"), 100 + i as i64, 10, t0());
            let mut events = vec![opening];
            for change in [5, -3, 1] {
                let next = next_event(events.last().unwrap(), change);
                events.push(next);
            }
            let discount = (i % 2 == 0).then(|| discount(&product.id, "5", all_window()));
            ImportItem::Product {
                product,
                events,
                discount,
            }
        })
        .collect()
}

fn an_import_writes_every_row_in_order(db: &TestDb) {
    let store = db.store();
    let before = create(store.as_ref(), "Before", 100, 0);
    // More rows than one batch of any adapter.
    let mut items = import_products(1_203);
    items.push(ImportItem::Coupon(coupon(
        "42",
        "BULK1",
        "15",
        all_window(),
    )));
    let expected: Vec<Product> = items
        .iter()
        .filter_map(|i| match i {
            ImportItem::Product { product, .. } => Some(product.clone()),
            ImportItem::Coupon(_) => None,
        })
        .collect();
    let counts = store
        .import(&mut items.into_iter().map(Ok))
        .unwrap()
        .expect("not aborted");
    assert_eq!(
        counts,
        ImportCounts {
            products: 1_203,
            stock_events: 4 * 1_203,
            discounts: 602,
            coupons: 1
        }
    );
    let listed = store
        .list_products(&page(None, PageStart::Offset(0), 2_000), t0())
        .unwrap();
    assert_eq!(listed[0].product, before);
    let imported: Vec<Product> = listed[1..].iter().map(|l| l.product.clone()).collect();
    assert_eq!(imported, expected);
    assert!(listed.iter().skip(1).all(|l| l.stock == 13));
    assert_eq!(
        listed[1].discount.as_ref().map(|d| d.percentage),
        Some(percent("5"))
    );
    assert_eq!(listed[2].discount, None);
    // Imported names are searchable like created ones.
    let found = store
        .list_products(&page(Some("imported 1202"), PageStart::Offset(0), 10), t0())
        .unwrap();
    assert_eq!(names(&found), ["Imported 1202"]);
    // And the catalog goes on after them.
    let after = create(store.as_ref(), "After", 100, 0);
    let last = store
        .list_products(&page(None, PageStart::Offset(1_204), 10), t0())
        .unwrap();
    assert_eq!(
        last.iter().map(|l| &l.product).collect::<Vec<_>>(),
        vec![&after]
    );
}

fn an_aborted_import_writes_nothing(db: &TestDb) {
    let store = db.store();
    create(store.as_ref(), "Kept", 100, 0);
    let items = import_products(700)
        .into_iter()
        .map(Ok)
        .chain([Err(ImportAborted)]);
    let result = store.import(&mut items.chain(import_products(3).into_iter().map(Ok)));
    assert_eq!(result, Ok(None));
    let status = store.status().unwrap();
    assert_eq!(
        (
            status.products,
            status.stock_events,
            status.discounts,
            status.coupons
        ),
        (1, 1, 0, 0)
    );
    let found = store
        .list_products(&page(Some("imported"), PageStart::Offset(0), 10), t0())
        .unwrap();
    assert!(found.is_empty());
}

fn a_duplicate_code_in_an_import_writes_nothing(db: &TestDb) {
    let store = db.store();
    store
        .create_coupon(&coupon("1", "TAKEN", "10", all_window()))
        .unwrap();
    let mut items = import_products(10);
    items.push(ImportItem::Coupon(coupon("2", "Fresh", "10", all_window())));
    items.push(ImportItem::Coupon(coupon("3", "taken", "10", all_window())));
    let result = store.import(&mut items.into_iter().map(Ok));
    assert_eq!(result, Err(StoreError::DuplicateCouponCode("taken".into())));
    let within = vec![
        ImportItem::Coupon(coupon("2", "TWICE", "10", all_window())),
        ImportItem::Coupon(coupon("3", "Twice", "10", all_window())),
    ];
    let result = store.import(&mut within.into_iter().map(Ok));
    assert_eq!(result, Err(StoreError::DuplicateCouponCode("Twice".into())));
    let status = store.status().unwrap();
    assert_eq!((status.products, status.coupons), (0, 1));
}

fn migrating_twice_applies_nothing_and_status_counts_rows(db: &TestDb) {
    let store = db.open_unmigrated();
    let fresh = store.status().unwrap();
    assert_eq!(fresh.schema_version, 0);
    assert!(fresh.migrations.iter().all(|m| m.applied_at.is_none()));
    let applied = store.migrate().unwrap();
    let versions: Vec<i64> = fresh.migrations.iter().map(|m| m.version).collect();
    assert_eq!(applied, versions);
    assert_eq!(store.migrate().unwrap(), Vec::<i64>::new());
    assert_eq!(db.store().migrate().unwrap(), Vec::<i64>::new());

    let product = create(store.as_ref(), "Counted", 100, 5);
    let latest = store.latest_stock_event(&product.id).unwrap().unwrap();
    store.append_stock_event(&next_event(&latest, 1)).unwrap();
    store
        .replace_discount(&discount(&product.id, "10", all_window()))
        .unwrap();
    store
        .create_coupon(&coupon("1", "ONE", "10", all_window()))
        .unwrap();
    let status = store.status().unwrap();
    let expected_backend = match db.sql() {
        Sql::Sqlite => "sqlite",
        Sql::Mysql => "mysql",
    };
    assert_eq!(status.backend, expected_backend);
    assert_eq!(status.schema_version, status.supported_version);
    assert_eq!(status.schema_version, *versions.last().unwrap());
    assert!(status.migrations.iter().all(|m| m.applied_at.is_some()));
    assert_eq!(
        (
            status.products,
            status.stock_events,
            status.discounts,
            status.coupons
        ),
        (1, 2, 1, 1)
    );
    assert!(!status.location.is_empty());
}

fn a_newer_schema_is_refused(db: &TestDb) {
    let store = db.store();
    let product = create(store.as_ref(), "Old data", 100, 5);
    let marker = "INSERT INTO milly_migrations (version, name, checksum, applied_at)
                  VALUES (999, 'from the future', '0', '2030-01-01 00:00:00')";
    db.raw_exec(marker).unwrap();
    match db.sql() {
        Sql::Sqlite => db.raw_exec("PRAGMA user_version = 999").unwrap(),
        Sql::Mysql => {}
    }
    let newer = db.open_unmigrated();
    match newer.migrate() {
        Err(StoreError::Unavailable(message)) => {
            assert!(
                message.contains("999") && message.contains("newer"),
                "{message}"
            )
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Refusing changed nothing.
    db.raw_exec("DELETE FROM milly_migrations WHERE version = 999")
        .unwrap();
    match db.sql() {
        Sql::Sqlite => {
            let latest = store.status().unwrap().supported_version;
            db.raw_exec(&format!("PRAGMA user_version = {latest}"))
                .unwrap();
        }
        Sql::Mysql => {}
    }
    assert_eq!(
        db.store()
            .latest_stock_event(&product.id)
            .unwrap()
            .unwrap()
            .total_after_change,
        5
    );
}

// ------------------------------------------------- a precisely timed race

pub struct FixedClock(pub Instant);

impl Clock for FixedClock {
    fn now(&self) -> Instant {
        self.0
    }
}

/// A ledger in front of which a rival writer, on another connection of the
/// same database, makes its move just before the first append: the
/// database, not the use case, must then turn the lost race into a
/// conflict, and the use case's retry must see what the rival did. Only
/// the ledger and the unit of work are put in front of the real store.
pub struct RacedOnce {
    pub inner: Box<dyn CatalogStore>,
    rival: Box<dyn CatalogStore>,
    /// What the rival does, given the event about to be appended.
    rival_move: fn(&dyn CatalogStore, &StockEvent),
    raced: Cell<bool>,
}

impl RacedOnce {
    pub fn new(db: &TestDb, rival_move: fn(&dyn CatalogStore, &StockEvent)) -> Self {
        RacedOnce {
            inner: db.store(),
            rival: db.store(),
            rival_move,
            raced: Cell::new(false),
        }
    }

    /// The ports a catalog works with: this ledger and unit of work in
    /// front of the real store.
    pub fn stores(&self) -> Stores<'_> {
        Stores {
            ledger: self,
            units: self,
            ..Stores::of(&*self.inner)
        }
    }
}

impl LedgerStore for RacedOnce {
    fn latest_stock_event(&self, id: &ProductId) -> Result<Option<StockEvent>, StoreError> {
        self.inner.latest_stock_event(id)
    }
    fn stock_event(&self, id: &EventId) -> Result<Option<RecordedEvent>, StoreError> {
        self.inner.stock_event(id)
    }
    fn append_stock_event(&self, event: &StockEvent) -> Result<(), StoreError> {
        if !self.raced.replace(true) {
            (self.rival_move)(self.rival.as_ref(), event);
        }
        self.inner.append_stock_event(event)
    }
    fn stock_history(&self, id: &ProductId) -> Result<Option<Vec<StockEvent>>, StoreError> {
        self.inner.stock_history(id)
    }
    fn scan_ledgers(
        &self,
        product: Option<&ProductId>,
        sink: &mut dyn FnMut(LedgerScan) -> std::ops::ControlFlow<()>,
    ) -> Result<(), StoreError> {
        self.inner.scan_ledgers(product, sink)
    }
    fn stock_log(&self, query: &LogQuery) -> Result<Vec<LoggedEvent>, StoreError> {
        self.inner.stock_log(query)
    }
    fn stock_log_tail(&self, query: &LogQuery) -> Result<i64, StoreError> {
        self.inner.stock_log_tail(query)
    }
    fn change_stock(
        &self,
        work: &mut dyn FnMut(&mut dyn StockBatch) -> Result<bool, StoreError>,
    ) -> Result<bool, StoreError> {
        self.inner.change_stock(work)
    }
}

// `adjust_stock` runs each attempt as a unit, which on SQLite holds the
// write lock from the read to the append, so no rival could get in
// between. The rival must, for the database's own checks to be what is
// tested: here every call commits on its own, as it does on a database
// whose reads never wait for writers.
impl UnitOfWork for RacedOnce {
    fn unit(
        &self,
        work: &mut dyn FnMut() -> Result<UnitEnd, StoreError>,
    ) -> Result<UnitEnd, StoreError> {
        work()
    }
}

/// The rival takes the version about to be appended, with a change of +1.
fn take_the_version(rival: &dyn CatalogStore, event: &StockEvent) {
    let taken = StockEvent {
        id: EventId::generate(t0(), rand::random()),
        change: 1,
        total_after_change: event.total_after_change - event.change + 1,
        ..event.clone()
    };
    rival.append_stock_event(&taken).unwrap();
}

fn a_unique_violation_on_append_is_retried(db: &TestDb) {
    let store = RacedOnce::new(db, take_the_version);
    let product = create(&*store.inner, "Raced", 100, 10);
    let clock = FixedClock(t0());
    let retry = RetryPolicy {
        attempts: 3,
        base_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
        time_budget: None,
    };
    let adjusted = Catalog::with_stores(store.stores(), &clock, retry)
        .adjust_stock(AdjustStock {
            product_id: product.id.clone(),
            change: StockChange::parse("change", "-4").unwrap(),
            reason: None,
            expected_version: None,
        })
        .unwrap();
    assert_eq!(
        adjusted.attempts, 2,
        "the first attempt must have conflicted"
    );
    let history = store.stock_history(&product.id).unwrap().unwrap();
    let rows: Vec<(i64, i64, i64)> = history
        .iter()
        .map(|e| (e.version, e.change, e.total_after_change))
        .collect();
    // The rival's +1 took version 2; the retried -4 was checked against it.
    assert_eq!(rows, vec![(1, 10, 10), (2, 1, 11), (3, -4, 7)]);
    assert_eq!(adjusted.event, history[2]);
}

// ------------------------------- constraints the schema enforces on its own
//
// What milly validates before writing, each backend's schema refuses as
// well, with the same effect, so that another client writing to the
// database cannot break a rule milly relies on. These use a raw connection:
// the port cannot even express the rows they try.

/// A product row written as another client would, in SQL both dialects take.
fn raw_product(seq: i64, name: &str, description: &str) -> String {
    let id = ProductId::generate(t0(), rand::random());
    format!(
        "INSERT INTO products (seq, id, name, name_folded, description, price_cents, created_at, updated_at)
         VALUES ({seq}, '{id}', '{name}', '{folded}', '{description}', 100, '2025-06-01 12:00:00', '2025-06-01 12:00:00')",
        folded = name.to_lowercase(),
    )
}

fn the_database_itself_refuses_deleting_products(db: &TestDb) {
    let store = db.store();
    let product = create(store.as_ref(), "Permanent", 100, 1);
    let refused = db.raw_exec(&format!("DELETE FROM products WHERE id = '{}'", product.id));
    assert!(refused.is_err(), "a product was deleted");
    assert_eq!(db.raw_i64("SELECT COUNT(*) FROM products"), 1);
}

fn the_database_itself_limits_text(db: &TestDb) {
    db.store();
    let x = |n: usize| "x".repeat(n);
    // At the limit: accepted (so the refusals below are about length).
    db.raw_exec(&raw_product(100, &x(200), &"é".repeat(2000)))
        .unwrap();
    assert!(
        db.raw_exec(&raw_product(101, &x(201), "")).is_err(),
        "201-character name"
    );
    assert!(
        db.raw_exec(&raw_product(102, "ok", &x(2001))).is_err(),
        "2001-character description"
    );
    let product_id: String = {
        let store = db.store();
        create(store.as_ref(), "Ledgered", 100, 1).id.to_string()
    };
    let event = |version: i64, reason: &str| {
        format!(
            "INSERT INTO stock_events (id, product_id, `change`, total_after_change, version, reason, created_at)
             VALUES ('{}', '{product_id}', 1, 2, {version}, '{reason}', '2025-06-01 12:00:00')",
            EventId::generate(t0(), rand::random())
        )
    };
    db.raw_exec(&event(2, &x(200))).unwrap();
    assert!(
        db.raw_exec(&event(3, &x(201))).is_err(),
        "201-character reason"
    );
    let coupon = |user: &str, code: &str| {
        format!(
            "INSERT INTO coupons (id, user_id, code, code_key, percentage_bp, valid_from, valid_to, is_active, created_at)
             VALUES ('{}', '{user}', '{code}', '{key}', 100, '2025-01-01 00:00:00', '2026-01-01 00:00:00', 1, '2025-06-01 12:00:00')",
            CouponId::generate(t0(), rand::random()),
            key = code.to_uppercase(),
        )
    };
    db.raw_exec(&coupon(&x(64), &"c".repeat(32))).unwrap();
    assert!(
        db.raw_exec(&coupon(&x(65), "CODE65")).is_err(),
        "65-character customer id"
    );
    assert!(
        db.raw_exec(&coupon("u", &"d".repeat(33))).is_err(),
        "33-character code"
    );
    assert_eq!(db.raw_i64("SELECT COUNT(*) FROM products"), 2);
    assert_eq!(db.raw_i64("SELECT COUNT(*) FROM coupons"), 1);
}

fn the_database_itself_allows_active_discounts_one_per_schedule_version(db: &TestDb) {
    let store = db.store();
    let product = create(store.as_ref(), "Discounted", 100, 1);
    // Times as each engine stores them, so the store can read the rows.
    let time = |day: &str| match db.engine() {
        Engine::Sqlite | Engine::Memory => format!("{day}T00:00:00.000000Z"),
        Engine::Mysql => format!("{day} 00:00:00"),
    };
    let row = |active: i64, version: &str| {
        format!(
            "INSERT INTO discounts (id, product_id, percentage_bp, valid_from, valid_to, is_active, created_at, schedule_version)
             VALUES ('{}', '{}', 1000, '{}', '{}', {active}, '{}', {version})",
            DiscountId::generate(t0(), rand::random()),
            product.id,
            time("2025-01-01"),
            time("2025-02-01"),
            time("2025-01-01"),
        )
    };
    // Several active discounts of one product: the old one-active rule is
    // gone (rows from before version 16 have no schedule version).
    db.raw_exec(&row(1, "NULL")).unwrap();
    db.raw_exec(&row(1, "NULL")).unwrap();
    db.raw_exec(&row(1, "1")).unwrap();
    db.raw_exec(&row(0, "2")).unwrap();
    assert!(
        db.raw_exec(&row(1, "1")).is_err(),
        "a schedule version taken twice"
    );
    assert_eq!(
        db.raw_i64("SELECT COUNT(*) FROM discounts WHERE is_active = 1"),
        3
    );
    // The store numbers on from the newest.
    let set = store
        .replace_discount(&discount(
            &product.id,
            "5",
            window("2026-02-01", "2026-03-01"),
        ))
        .unwrap();
    assert_eq!(set, Replacement::default());
    assert_eq!(db.raw_i64("SELECT MAX(schedule_version) FROM discounts"), 3);
}

// ------------------------------------------- units of work and idempotency

fn key(raw: &str) -> IdempotencyKey {
    IdempotencyKey::parse("key", raw).unwrap()
}

fn request(fingerprint: &str, result: &str) -> RecordedRequest {
    RecordedRequest {
        fingerprint: fingerprint.into(),
        result: result.into(),
    }
}

/// Runs `work` as one unit of work of `store`, ended as `end` says.
fn unit<T>(store: &dyn CatalogStore, end: UnitEnd, work: impl FnOnce() -> T) -> T {
    in_unit(store, || Ok::<_, StoreError>((work(), end))).unwrap()
}

fn a_unit_of_work_commits_its_writes_together_or_none(db: &TestDb) {
    let store = db.store();
    let other = db.store();
    // Rolled back: nothing of the unit is left, whatever methods it used.
    let dropped = unit(store.as_ref(), UnitEnd::Rollback, || {
        let dropped = create(store.as_ref(), "Rolled back", 100, 5);
        let latest = store.latest_stock_event(&dropped.id).unwrap().unwrap();
        store.append_stock_event(&next_event(&latest, 1)).unwrap();
        // A unit inside a unit joins it: its commit is the outer unit's.
        unit(store.as_ref(), UnitEnd::Commit, || {
            store
                .create_coupon(&coupon(
                    "u1",
                    "UNIT1",
                    "10",
                    window("2025-01-01", "2026-01-01"),
                ))
                .unwrap();
        });
        store
            .record_request(&key("k1"), &request("f", "r"), t0())
            .unwrap();
        dropped
    });
    assert_eq!(
        store.product_details(&dropped.id, None, t0()).unwrap(),
        None
    );
    assert_eq!(store.recorded_request(&key("k1")).unwrap(), None);
    assert_eq!(store.status().unwrap().coupons, 0);

    // Committed: every write at once, seen by other connections.
    let kept = unit(store.as_ref(), UnitEnd::Commit, || {
        let kept = create(store.as_ref(), "Committed", 100, 5);
        let latest = store.latest_stock_event(&kept.id).unwrap().unwrap();
        store.append_stock_event(&next_event(&latest, 2)).unwrap();
        store
            .replace_discount(&discount(
                &kept.id,
                "10",
                window("2025-01-01", "2026-01-01"),
            ))
            .unwrap();
        store
            .record_request(&key("k1"), &request("f", "r"), t0())
            .unwrap();
        kept
    });
    let details = other
        .product_details(&kept.id, None, t0())
        .unwrap()
        .unwrap();
    assert_eq!(details.stock, 7);
    assert!(details.discount.is_some());
    assert_eq!(
        other.recorded_request(&key("k1")).unwrap(),
        Some(request("f", "r"))
    );
}

fn a_key_is_recorded_once_and_a_second_record_conflicts(db: &TestDb) {
    let store = db.store();
    unit(store.as_ref(), UnitEnd::Commit, || {
        store
            .record_request(&key("once"), &request("f1", "r1"), t0())
            .unwrap();
    });
    let again = unit(store.as_ref(), UnitEnd::Rollback, || {
        store.record_request(&key("once"), &request("f2", "r2"), t0())
    });
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_eq!(
        store.recorded_request(&key("once")).unwrap(),
        Some(request("f1", "r1"))
    );
    // Keys are compared exactly.
    assert_eq!(store.recorded_request(&key("ONCE")).unwrap(), None);
    // A long result (what an import printed) is kept whole.
    let long = "x".repeat(200_000);
    unit(store.as_ref(), UnitEnd::Commit, || {
        store
            .record_request(&key("long"), &request("f", &long), t0())
            .unwrap();
    });
    assert_eq!(
        store
            .recorded_request(&key("long"))
            .unwrap()
            .unwrap()
            .result,
        long
    );
}

/// The second unit's attempt in the race below: find the key, or record
/// it; the unit commits only what succeeded.
fn find_or_record_race_key(
    store: &dyn CatalogStore,
) -> Result<Option<RecordedRequest>, StoreError> {
    in_unit(store, || {
        let found = match store.recorded_request(&key("race"))? {
            Some(found) => Some(found),
            None => {
                store.record_request(&key("race"), &request("f", "second"), t0())?;
                None
            }
        };
        Ok::<_, StoreError>((found, UnitEnd::Commit))
    })
}

/// Two units record one key. While the first is open the second cannot get
/// past it: on SQLite it cannot even begin (the first holds the write
/// lock), on MySQL its insert waits for the first's row. So a second unit
/// with a short lock timeout gives up, writing nothing; one with time to
/// wait, once seen waiting, conflicts when the first commits (MySQL), or
/// begins after the commit and finds the key recorded (SQLite). Either way
/// one key, one write.
fn a_key_recorded_by_a_concurrent_unit_is_a_conflict_and_rolls_back(db: &TestDb) {
    let first = db.store();
    let product = create(first.as_ref(), "Keyed", 100, 0);
    // Opened before the first unit takes its locks: opening is not the race.
    let impatient = crate::backends::open_url(&db.url, Duration::from_millis(200));
    let second = unit(first.as_ref(), UnitEnd::Commit, || {
        let latest = first.latest_stock_event(&product.id).unwrap().unwrap();
        first.append_stock_event(&next_event(&latest, 1)).unwrap();
        first
            .record_request(&key("race"), &request("f", "first"), t0())
            .unwrap();

        // Held off: run to its end while the first unit is still open.
        let gave_up = find_or_record_race_key(impatient.as_ref());
        match db.engine() {
            Engine::Sqlite | Engine::Memory => assert!(
                matches!(&gave_up, Err(StoreError::Conflict(m)) if m.contains("lock")),
                "the second unit cannot begin while the first holds the write lock: {gave_up:?}"
            ),
            Engine::Mysql => assert!(
                matches!(&gave_up, Err(StoreError::Unavailable(m)) if m.contains("lock timeout")),
                "the second unit's insert waits for the first's row, past its lock timeout: {gave_up:?}"
            ),
        }

        let url = db.url.clone();
        let (ready, started) = std::sync::mpsc::channel();
        let second = std::thread::spawn(move || {
            let store = crate::backends::open_url(&url, Duration::from_secs(20));
            ready.send(()).unwrap();
            find_or_record_race_key(store.as_ref())
        });
        started.recv().unwrap();
        match db.engine() {
            Engine::Mysql => db.await_a_lock_wait(),
            // A waiting writer is invisible from outside: the impatient
            // rival has shown the hold-off already.
            Engine::Sqlite | Engine::Memory => {}
        }
        second
    });
    let outcome = second.join().unwrap();
    match db.engine() {
        Engine::Sqlite | Engine::Memory => assert!(
            matches!(&outcome, Ok(Some(found)) if found.result == "first"),
            "the second unit began after the first committed: {outcome:?}"
        ),
        Engine::Mysql => assert!(
            matches!(&outcome, Err(StoreError::Conflict(_))),
            "the second unit waited for the first's row and conflicts once it commits: {outcome:?}"
        ),
    }
    assert_eq!(
        first
            .recorded_request(&key("race"))
            .unwrap()
            .unwrap()
            .result,
        "first"
    );
    assert_eq!(
        first
            .latest_stock_event(&product.id)
            .unwrap()
            .unwrap()
            .version,
        2
    );
}

fn pruning_forgets_only_older_keys(db: &TestDb) {
    let store = db.store();
    unit(store.as_ref(), UnitEnd::Commit, || {
        store
            .record_request(&key("old"), &request("f", "r"), at("2025-01-01"))
            .unwrap();
        store
            .record_request(&key("new"), &request("f", "r"), at("2025-03-01"))
            .unwrap();
    });
    assert_eq!(store.prune_requests(at("2025-02-01")).unwrap(), 1);
    assert_eq!(store.recorded_request(&key("old")).unwrap(), None);
    assert!(store.recorded_request(&key("new")).unwrap().is_some());
    assert_eq!(store.prune_requests(at("2025-02-01")).unwrap(), 0);
}

/// A schema one version behind, as a colleague's newer milly finds it.
fn an_older_schema_is_upgraded_by_migrate_and_by_prepare_only_on_a_file(db: &TestDb) {
    let store = db.store();
    let product = create(store.as_ref(), "Before", 100, 3);
    let latest = migrations_latest();
    // The latest version fills in each product's recorded latest ledger
    // version: undo what it did.
    db.raw_exec("UPDATE products SET stock_version = 0")
        .unwrap();
    db.raw_exec(&format!(
        "DELETE FROM milly_migrations WHERE version = {latest}"
    ))
    .unwrap();
    match db.sql() {
        Sql::Sqlite => db
            .raw_exec(&format!("PRAGMA user_version = {}", latest - 1))
            .unwrap(),
        Sql::Mysql => {}
    }
    let store = db.open_unmigrated();
    assert_eq!(store.status().unwrap().schema_version, latest - 1);
    match db.sql() {
        // A file is upgraded on use.
        Sql::Sqlite => assert_eq!(store.prepare().unwrap(), vec![latest]),
        Sql::Mysql => {
            let refused = store.prepare();
            assert!(
                matches!(&refused, Err(StoreError::SchemaOutdated(m)) if m.contains("milly db migrate")),
                "{refused:?}"
            );
            assert_eq!(
                store.status().unwrap().schema_version,
                latest - 1,
                "nothing changed"
            );
            assert_eq!(store.migrate().unwrap(), vec![latest]);
            assert_eq!(store.prepare().unwrap(), Vec::<i64>::new());
        }
    }
    assert_eq!(store.status().unwrap().schema_version, latest);
    let found = store
        .list_products(&page(Some("before"), PageStart::Offset(0), 10), t0())
        .unwrap();
    assert_eq!(names(&found), ["Before"]);
    assert_eq!(
        store
            .latest_stock_event(&product.id)
            .unwrap()
            .unwrap()
            .total_after_change,
        3
    );
    assert_eq!(db.raw_i64("SELECT stock_version FROM products"), 1);
}

fn migrations_latest() -> i64 {
    milly::adapters::persistence::migrations::LATEST
}

fn a_keyed_write_runs_once_and_replays_its_result(db: &TestDb) {
    use milly::app::usecases::{Keyed, Once};
    let store = db.store();
    let product = create(store.as_ref(), "Once", 100, 10);
    let clock = FixedClock(t0());
    let catalog = Catalog::new(store.as_ref(), &clock, RetryPolicy::default());
    let k = key("nightly:1");
    let adjust = |fingerprint: &str| {
        catalog.once(
            Some(Keyed {
                key: &k,
                fingerprint: fingerprint.into(),
            }),
            |c| {
                c.adjust_stock(AdjustStock {
                    product_id: product.id.clone(),
                    change: StockChange::parse("change", "-4").unwrap(),
                    reason: None,
                    expected_version: None,
                })
            },
            |adjusted| Ok(adjusted.event.id.to_string()),
        )
    };
    let Ok(Once::Done(first)) = adjust("adjust -4") else {
        panic!("the first run does the work")
    };
    let Ok(Once::Replayed(recorded)) = adjust("adjust -4") else {
        panic!("the rerun replays")
    };
    assert_eq!(recorded, first.event.id.to_string());
    let reused = adjust("adjust -5");
    assert!(
        matches!(
            &reused,
            Err(milly::app::AppError::Rejected {
                code: "idempotency_key_reused",
                ..
            })
        ),
        "{:?}",
        reused.err()
    );
    let history = store.stock_history(&product.id).unwrap().unwrap();
    assert_eq!(history.len(), 2, "applied once");
    assert_eq!(history[1].total_after_change, 6);
}

/// MySQL takes one statement of at most `max_allowed_packet` (and a
/// MEDIUMTEXT of 16 MB): a larger result is refused up front, the unit left
/// usable to roll back. SQLite keeps it.
fn a_result_too_large_for_the_server_is_refused_before_writing(db: &TestDb) {
    let store = db.store();
    let huge = "x".repeat(17 * 1024 * 1024);
    // SQLite keeps a result of any size; MySQL refuses one past its
    // largest packet before writing, leaving the unit to roll back.
    let end = match db.sql() {
        Sql::Sqlite => UnitEnd::Commit,
        Sql::Mysql => UnitEnd::Rollback,
    };
    let recorded = unit(store.as_ref(), end, || {
        store.record_request(&key("huge"), &request("f", &huge), t0())
    });
    match end {
        UnitEnd::Commit => {
            recorded.unwrap();
            assert_eq!(
                store
                    .recorded_request(&key("huge"))
                    .unwrap()
                    .unwrap()
                    .result
                    .len(),
                huge.len()
            );
        }
        UnitEnd::Rollback => {
            assert!(
                matches!(&recorded, Err(StoreError::Unavailable(m)) if m.contains("too large to record")),
                "{recorded:?}"
            );
            assert_eq!(store.recorded_request(&key("huge")).unwrap(), None);
        }
    }
}

// ------------------------------------------------ the catalog life-cycle

fn actor(name: &str) -> Actor {
    Actor::parse("actor", name).unwrap()
}

fn archival(id: &ProductId, archive: bool, when: &str, by: &str) -> ProductChange {
    ProductChange::archival(id.clone(), archive, at(when), Some(actor(by)))
}

fn listed_ids(store: &dyn CatalogStore, include_archived: bool, start: PageStart) -> Vec<String> {
    let mut query = page(None, start, 10);
    query.include_archived = include_archived;
    store
        .list_products(&query, t0())
        .unwrap()
        .iter()
        .map(|l| l.product.name.as_str().to_owned())
        .collect()
}

fn archived_products_are_hidden_and_read_only(db: &TestDb) {
    let store = db.store();
    let a = create(store.as_ref(), "Alpha", 100, 5);
    let b = create(store.as_ref(), "Bravo", 100, 5);
    create(store.as_ref(), "Charlie", 100, 5);
    let ghost = product_at("Ghost", 100, 1, t0()).0;

    assert!(store
        .set_archived(&archival(&b.id, true, "2025-06-02", "ops"))
        .unwrap());
    // Archiving twice changes nothing the second time.
    assert!(!store
        .set_archived(&archival(&b.id, true, "2025-06-03", "ops"))
        .unwrap());
    assert_eq!(
        store.set_archived(&archival(&ghost.id, true, "2025-06-02", "ops")),
        Err(StoreError::ProductNotFound(ghost.id.to_string()))
    );

    assert_eq!(
        listed_ids(store.as_ref(), false, PageStart::Offset(0)),
        ["Alpha", "Charlie"]
    );
    assert_eq!(
        listed_ids(store.as_ref(), true, PageStart::Offset(0)),
        ["Alpha", "Bravo", "Charlie"]
    );
    // Pages count past hidden products, and streaming skips them too.
    let mut second = page(None, PageStart::Offset(1), 1);
    second.include_archived = false;
    assert_eq!(
        names(&store.list_products(&second, t0()).unwrap()),
        ["Charlie"]
    );
    assert_eq!(
        listed_ids(store.as_ref(), false, PageStart::After(1)),
        ["Charlie"]
    );
    let mut filtered = page(Some("bravo"), PageStart::Offset(0), 10);
    assert!(store.list_products(&filtered, t0()).unwrap().is_empty());
    filtered.include_archived = true;
    assert_eq!(
        names(&store.list_products(&filtered, t0()).unwrap()),
        ["Bravo"]
    );
    let mut short = page(Some("br"), PageStart::Offset(0), 10);
    assert!(store.list_products(&short, t0()).unwrap().is_empty());
    short.include_archived = true;
    assert_eq!(
        names(&store.list_products(&short, t0()).unwrap()),
        ["Bravo"]
    );

    // Still shown, with when it was archived.
    let shown = store.product_details(&b.id, None, t0()).unwrap().unwrap();
    assert_eq!(shown.product.archived_at, Some(at("2025-06-02")));
    assert_eq!(shown.product.updated_at, at("2025-06-02"));

    // Read-only: every write refused, nothing written.
    let refused = || Err(StoreError::ProductArchived(b.id.to_string()));
    let latest = store.latest_stock_event(&b.id).unwrap().unwrap();
    assert_eq!(store.append_stock_event(&next_event(&latest, 1)), refused());
    assert_eq!(
        store.replace_discount(&discount(&b.id, "10", all_window())),
        refused().map(|()| Replacement::default())
    );
    assert_eq!(
        store.clear_discount(&b.id, t0(), None),
        refused().map(|()| Vec::new())
    );
    let (after, change) = shown
        .product
        .edited(
            ProductEdit {
                price: Some(Money::from_cents(200).unwrap()),
                ..ProductEdit::default()
            },
            t0(),
            None,
        )
        .unwrap();
    assert_eq!(
        store.update_product(&shown.product, &after, &change),
        refused()
    );
    assert_eq!(store.stock_history(&b.id).unwrap().unwrap().len(), 1);
    let status = store.status().unwrap();
    assert_eq!((status.stock_events, status.discounts), (3, 0));

    // Unarchived, it takes writes again.
    assert!(store
        .set_archived(&archival(&b.id, false, "2025-06-04", "lead"))
        .unwrap());
    assert!(!store
        .set_archived(&archival(&b.id, false, "2025-06-05", "lead"))
        .unwrap());
    store.append_stock_event(&next_event(&latest, 1)).unwrap();
    let changes = store.product_changes(&b.id).unwrap();
    let kinds: Vec<_> = changes
        .iter()
        .map(|c| {
            (
                c.kind,
                c.at,
                c.actor.as_ref().map(|a| a.as_str().to_owned()),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (ChangeKind::Archived, at("2025-06-02"), Some("ops".into())),
            (
                ChangeKind::Unarchived,
                at("2025-06-04"),
                Some("lead".into())
            ),
        ]
    );
    assert!(store.product_changes(&a.id).unwrap().is_empty());
}

fn updates_record_old_and_new_values_and_refuse_stale_reads(db: &TestDb) {
    let store = db.store();
    let mug = create(store.as_ref(), "Blue mug", 1_000, 5);
    let edit = ProductEdit {
        name: Some(ProductName::parse("name", "Green teapot").unwrap()),
        description: None,
        price: Some(Money::from_cents(1_250).unwrap()),
    };
    let (after, change) = mug
        .edited(edit.clone(), at("2025-06-02"), Some(actor("ops")))
        .unwrap();
    store.update_product(&mug, &after, &change).unwrap();

    let now = store
        .product_details(&mug.id, None, at("2025-06-03"))
        .unwrap()
        .unwrap();
    assert_eq!(now.product, after);
    assert_eq!(now.price.cents(), 1_250);
    assert_eq!(store.product_changes(&mug.id).unwrap(), vec![change]);

    // The name index follows the new name, whatever the filter's length.
    for (term, found) in [("teapot", 1), ("te", 1), ("blue", 0), ("bl", 0)] {
        let listed = store
            .list_products(&page(Some(term), PageStart::Offset(0), 10), t0())
            .unwrap();
        assert_eq!(listed.len(), found, "{term}");
    }

    // A write based on a stale read is a conflict and writes nothing.
    let (stale, stale_change) = mug
        .edited(
            ProductEdit {
                price: Some(Money::from_cents(999).unwrap()),
                ..ProductEdit::default()
            },
            at("2025-06-04"),
            None,
        )
        .unwrap();
    let refused = store.update_product(&mug, &stale, &stale_change);
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(store.product_changes(&mug.id).unwrap().len(), 1);

    let (ghost, _) = product_at("Ghost", 100, 1, t0());
    let (ghost_after, ghost_change) = ghost.edited(edit, t0(), None).unwrap();
    assert_eq!(
        store.update_product(&ghost, &ghost_after, &ghost_change),
        Err(StoreError::ProductNotFound(ghost.id.to_string()))
    );
}

fn prices_in_force_at_past_instants(db: &TestDb) {
    let store = db.store();
    let product = create(store.as_ref(), "Priced", 10_000, 1);
    let mut current = product.clone();
    for (when, cents) in [("2025-07-01", 12_000), ("2025-08-01", 15_000)] {
        let (after, change) = current
            .edited(
                ProductEdit {
                    price: Some(Money::from_cents(cents).unwrap()),
                    ..ProductEdit::default()
                },
                at(when),
                None,
            )
            .unwrap();
        store.update_product(&current, &after, &change).unwrap();
        current = after;
    }
    for (when, cents) in [
        ("2025-05-01", 10_000),
        ("2025-06-01T12:00:00Z", 10_000),
        ("2025-06-30T23:59:59.999999Z", 10_000),
        ("2025-07-01", 12_000),
        ("2025-07-15", 12_000),
        ("2025-08-01", 15_000),
        ("2026-01-01", 15_000),
    ] {
        let shown = store
            .product_details(&product.id, None, at(when))
            .unwrap()
            .unwrap();
        assert_eq!(shown.price.cents(), cents, "{when}");
        assert_eq!(shown.product.price.cents(), 15_000, "today's price");
        let listed = store
            .list_products(&page(None, PageStart::Offset(0), 10), at(when))
            .unwrap();
        assert_eq!(listed[0].price.cents(), cents, "{when}");
    }
}

fn replaced_and_cleared_discounts_apply_before_they_stopped(db: &TestDb) {
    let store = db.store();
    let product = create(store.as_ref(), "Discounted", 10_000, 1);
    let wide = window("2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z");
    let first = discount(&product.id, "10", wide);
    assert_eq!(
        store.replace_discount(&first).unwrap(),
        Replacement::default()
    );
    // Set on July 1st with a window from August: the first is cut to end
    // where the second starts, and runs until then.
    let second = Discount {
        id: DiscountId::generate(at("2025-07-01"), rand::random()),
        created_at: at("2025-07-01"),
        actor: Some(actor("lead")),
        ..discount(
            &product.id,
            "20",
            window("2025-08-01T00:00:00Z", "2025-12-01T00:00:00Z"),
        )
    };
    let replaced = store.replace_discount(&second).unwrap();
    assert_eq!(replaced.in_force(), Some(&first.id));
    assert_eq!(replaced.cut_at, Some(at("2025-08-01")));
    assert_eq!(
        store
            .clear_discount(&product.id, at("2025-09-01"), Some(&actor("ops")))
            .unwrap(),
        std::slice::from_ref(&second.id)
    );
    // Clearing when nothing is on is not an error.
    assert_eq!(
        store
            .clear_discount(&product.id, at("2025-09-02"), None)
            .unwrap(),
        []
    );
    let (ghost, _) = product_at("Ghost", 100, 1, t0());
    assert_eq!(
        store.clear_discount(&ghost.id, t0(), None),
        Err(StoreError::ProductNotFound(ghost.id.to_string()))
    );

    for (when, expected) in [
        ("2025-06-15", Some(&first.id)),
        ("2025-07-15", Some(&first.id)),
        ("2025-07-31T23:59:59.999999Z", Some(&first.id)),
        ("2025-08-01", Some(&second.id)),
        ("2025-08-15", Some(&second.id)),
        ("2025-09-01", None),
        ("2025-10-01", None),
    ] {
        let shown = store
            .product_details(&product.id, None, at(when))
            .unwrap()
            .unwrap();
        assert_eq!(shown.discount.as_ref().map(|d| &d.id), expected, "{when}");
        let listed = store
            .list_products(&page(None, PageStart::Offset(0), 1), at(when))
            .unwrap();
        assert_eq!(listed[0].discount, shown.discount, "{when}");
    }
    // A discount recorded later, with a window reaching back, changes no
    // answer for a moment before it was recorded: neither where one was
    // on, nor where none was. From its recording on, it applies where no
    // other does.
    let backdated = Discount {
        id: DiscountId::generate(at("2025-10-01"), rand::random()),
        created_at: at("2025-10-01"),
        ..discount(&product.id, "50", wide)
    };
    assert_eq!(
        store.replace_discount(&backdated).unwrap(),
        Replacement::default()
    );
    for (when, expected) in [
        ("2025-06-15", Some(&first.id)),
        ("2025-07-15", Some(&first.id)),
        ("2025-08-15", Some(&second.id)),
        ("2025-09-30T23:59:59.999999Z", None),
        ("2025-10-01", Some(&backdated.id)),
        ("2025-10-15", Some(&backdated.id)),
    ] {
        let shown = store
            .product_details(&product.id, None, at(when))
            .unwrap()
            .unwrap();
        assert_eq!(shown.discount.as_ref().map(|d| &d.id), expected, "{when}");
        let listed = store
            .list_products(&page(None, PageStart::Offset(0), 1), at(when))
            .unwrap();
        assert_eq!(listed[0].discount, shown.discount, "{when}");
    }
    let mut kept = store
        .list_discounts(&DiscountQuery {
            product_id: Some(product.id.clone()),
            active_at: None,
            offset: 0,
            limit: 10,
        })
        .unwrap();
    assert_eq!(kept.pop(), Some(backdated));
    assert_eq!(
        kept,
        vec![
            Discount {
                window: window("2025-01-01T00:00:00Z", "2025-08-01T00:00:00Z"),
                replaced_by: Some(second.id.clone()),
                ..first
            },
            Discount {
                is_active: false,
                deactivated: Some(Deactivation {
                    at: at("2025-09-01"),
                    by: Some(actor("ops")),
                }),
                ..second
            },
        ]
    );
}

/// The December/February schedule: next season's discount leaves this
/// month's running; one overlapping both cuts the first and cancels the
/// second; one outside every window is left alone.
fn scheduled_discounts_coexist_and_an_overlap_cuts_and_cancels(db: &TestDb) {
    let store = db.store();
    let product = create(store.as_ref(), "Seasonal", 10_000, 1);
    let set_on = |when: &str, pct: &str, w: Window, by: &str| Discount {
        id: DiscountId::generate(at(when), rand::random()),
        created_at: at(when),
        actor: Some(actor(by)),
        ..discount(&product.id, pct, w)
    };
    let december = set_on(
        "2025-12-01",
        "10",
        window("2025-12-01", "2026-01-01"),
        "ops",
    );
    let february = set_on(
        "2025-12-01",
        "20",
        window("2026-02-01", "2026-03-01"),
        "ops",
    );
    let april = set_on(
        "2025-12-01",
        "30",
        window("2026-04-01", "2026-05-01"),
        "ops",
    );
    for d in [&december, &february, &april] {
        assert_eq!(store.replace_discount(d).unwrap(), Replacement::default());
    }
    let applying = |when: &str| {
        let shown = store
            .product_details(&product.id, None, at(when))
            .unwrap()
            .unwrap();
        let listed = store
            .list_products(&page(None, PageStart::Offset(0), 1), at(when))
            .unwrap();
        assert_eq!(listed[0].discount, shown.discount, "{when}");
        shown.discount.map(|d| d.id)
    };
    let running = |when: &str| {
        store
            .list_discounts(&DiscountQuery {
                product_id: Some(product.id.clone()),
                active_at: Some(at(when)),
                offset: 0,
                limit: 10,
            })
            .unwrap()
            .into_iter()
            .map(|d| d.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(applying("2025-12-15"), Some(december.id.clone()));
    assert_eq!(running("2025-12-15"), std::slice::from_ref(&december.id));
    assert_eq!(applying("2026-01-15"), None);
    assert_eq!(applying("2026-02-15"), Some(february.id.clone()));
    assert_eq!(running("2026-02-15"), std::slice::from_ref(&february.id));

    // On December 10th, a window from the 20th to mid-February.
    let winter = set_on(
        "2025-12-10",
        "15",
        window("2025-12-20", "2026-02-15"),
        "lead",
    );
    let replaced = store.replace_discount(&winter).unwrap();
    assert_eq!(replaced.cut, std::slice::from_ref(&december.id));
    assert_eq!(replaced.cancelled, std::slice::from_ref(&february.id));
    assert_eq!(replaced.cut_at, Some(at("2025-12-20")));
    assert_eq!(replaced.in_force(), Some(&december.id));
    for (when, expected) in [
        ("2025-12-15", Some(&december.id)),
        ("2025-12-20", Some(&winter.id)),
        ("2026-02-01", Some(&winter.id)),
        ("2026-02-15", None),
        ("2026-04-15", Some(&april.id)),
    ] {
        assert_eq!(applying(when).as_ref(), expected, "{when}");
    }
    let listed = store
        .list_discounts(&DiscountQuery {
            product_id: Some(product.id.clone()),
            active_at: None,
            offset: 0,
            limit: 10,
        })
        .unwrap();
    let status = |d: &Discount, when: &str| d.status_at(at(when)).name();
    assert_eq!(
        listed[0],
        Discount {
            window: window("2025-12-01", "2025-12-20"),
            replaced_by: Some(winter.id.clone()),
            ..december.clone()
        },
        "cut short, still active"
    );
    assert_eq!(status(&listed[0], "2025-12-15"), "running");
    assert_eq!(status(&listed[0], "2025-12-20"), "replaced");
    assert_eq!(
        listed[1],
        Discount {
            is_active: false,
            deactivated: Some(Deactivation {
                at: at("2025-12-10"),
                by: Some(actor("lead")),
            }),
            replaced_by: Some(winter.id.clone()),
            ..february.clone()
        },
        "cancelled"
    );
    assert_eq!(status(&listed[1], "2025-12-09"), "scheduled");
    assert_eq!(status(&listed[1], "2025-12-10"), "replaced");
    assert_eq!(listed[2], april, "outside the window: untouched");
    assert_eq!(status(&listed[2], "2025-12-10"), "scheduled");
    assert_eq!(listed[3], winter);
}

/// Effective windows of a product's discounts: when each was on and
/// inside its window (an active one's whole window, a switched-off one's
/// up to when it was switched off), the empty ones left out.
fn effective_windows(store: &dyn CatalogStore, product: &ProductId) -> Vec<(Instant, Instant)> {
    store
        .list_discounts(&DiscountQuery {
            product_id: Some(product.clone()),
            active_at: None,
            offset: 0,
            limit: 1_000,
        })
        .unwrap()
        .into_iter()
        .filter_map(|d| {
            let end = match (&d.deactivated, d.is_active) {
                (_, true) => d.window.until(),
                (Some(off), false) => off.at.min(d.window.until()),
                (None, false) => return None,
            };
            let start = d.window.from().max(d.created_at);
            (start < end).then_some((start, end))
        })
        .collect()
}

fn concurrent_discount_sets_never_leave_overlapping_windows(db: &TestDb) {
    let setup = db.store();
    let product = create(setup.as_ref(), "Contested", 10_000, 1);
    let writers = 4;
    let rounds = 5;
    let start = std::sync::Barrier::new(writers);
    std::thread::scope(|scope| {
        for w in 0..writers {
            let (url, product, start) = (&db.url, &product.id, &start);
            scope.spawn(move || {
                let store = crate::backends::open_url(url, Duration::from_secs(20));
                start.wait();
                for r in 0..rounds {
                    // Every window overlaps every other.
                    let day = 1 + (w * rounds + r) % 20;
                    let d = discount(
                        product,
                        "10",
                        window(
                            &format!("2025-07-{day:02}T00:00:00Z"),
                            &format!("2025-08-{day:02}T00:00:00Z"),
                        ),
                    );
                    let mut attempts = 0;
                    loop {
                        attempts += 1;
                        match store.replace_discount(&d) {
                            Err(StoreError::Conflict(_)) if attempts < 100 => {
                                std::thread::sleep(Duration::from_millis(5 + attempts));
                            }
                            other => {
                                other.unwrap();
                                break;
                            }
                        }
                    }
                }
            });
        }
    });
    let mut spans = effective_windows(setup.as_ref(), &product.id);
    spans.sort();
    for pair in spans.windows(2) {
        assert!(pair[0].1 <= pair[1].0, "overlapping windows: {pair:?}");
    }
    assert_eq!(
        setup.status().unwrap().discounts,
        (writers * rounds) as i64,
        "every set was written"
    );
}

fn clearing_switches_off_the_running_and_the_scheduled(db: &TestDb) {
    let store = db.store();
    let product = create(store.as_ref(), "Cleared", 10_000, 1);
    let ended = Discount {
        created_at: at("2025-05-01"),
        ..discount(&product.id, "5", window("2025-05-01", "2025-06-01"))
    };
    let running = discount(&product.id, "10", window("2025-06-01", "2025-07-01"));
    let scheduled = discount(&product.id, "20", window("2025-08-01", "2025-09-01"));
    for d in [&ended, &running, &scheduled] {
        store.replace_discount(d).unwrap();
    }
    assert_eq!(
        store
            .clear_discount(&product.id, t0(), Some(&actor("ops")))
            .unwrap(),
        [running.id.clone(), scheduled.id.clone()],
        "the running one first; the ended one is left as it was"
    );
    let listed = store
        .list_discounts(&DiscountQuery {
            product_id: Some(product.id.clone()),
            active_at: None,
            offset: 0,
            limit: 10,
        })
        .unwrap();
    let states: Vec<_> = listed.iter().map(|d| d.status_at(t0()).name()).collect();
    assert_eq!(states, ["ended", "cleared", "cleared"]);
    assert!(listed[0].is_active && !listed[1].is_active && !listed[2].is_active);
    assert!(listed.iter().all(|d| d.replaced_by.is_none()));
}

fn discounts_are_listed_in_creation_order(db: &TestDb) {
    let store = db.store();
    let a = create(store.as_ref(), "A", 100, 1);
    let b = create(store.as_ref(), "B", 100, 1);
    let d1 = discount(&a.id, "10", all_window());
    let d2 = discount(&b.id, "20", all_window());
    let d3 = discount(
        &a.id,
        "30",
        window("2025-09-01T00:00:00Z", "2025-10-01T00:00:00Z"),
    );
    for d in [&d1, &d2, &d3] {
        store.replace_discount(d).unwrap();
    }
    let ids = |product: Option<&ProductId>, active_at: Option<Instant>, offset, limit| {
        store
            .list_discounts(&DiscountQuery {
                product_id: product.cloned(),
                active_at,
                offset,
                limit,
            })
            .unwrap()
            .into_iter()
            .map(|d| d.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(None, None, 0, 10),
        [d1.id.clone(), d2.id.clone(), d3.id.clone()]
    );
    assert_eq!(ids(None, None, 1, 1), std::slice::from_ref(&d2.id));
    assert!(ids(None, None, 3, 10).is_empty());
    assert_eq!(
        ids(Some(&a.id), None, 0, 10),
        [d1.id.clone(), d3.id.clone()]
    );
    // d3 cut d1 at its start in September: d1 and d2 run now; in
    // September d2 and d3.
    assert_eq!(ids(None, Some(t0()), 0, 10), [d1.id.clone(), d2.id.clone()]);
    assert_eq!(
        ids(None, Some(at("2025-09-15")), 0, 10),
        [d2.id.clone(), d3.id.clone()]
    );
}

fn coupons_are_listed_and_shown(db: &TestDb) {
    let store = db.store();
    let c1 = coupon("42", "FIRST", "10", all_window());
    let c2 = coupon("7", "SECOND", "20", all_window());
    let c3 = coupon(
        "42",
        "LATER",
        "30",
        window("2025-09-01T00:00:00Z", "2025-10-01T00:00:00Z"),
    );
    let c4 = coupon("42", "GONE", "40", all_window());
    for c in [&c1, &c2, &c3, &c4] {
        store.create_coupon(c).unwrap();
    }
    store
        .deactivate_coupon(&c4.code, at("2025-07-01"), None)
        .unwrap();
    let codes = |user: Option<&str>, active_at: Option<Instant>, offset, limit| {
        store
            .list_coupons(&CouponQuery {
                user_id: user.map(customer),
                active_at,
                offset,
                limit,
            })
            .unwrap()
            .into_iter()
            .map(|c| c.code.as_str().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        codes(None, None, 0, 10),
        ["FIRST", "SECOND", "LATER", "GONE"]
    );
    assert_eq!(codes(Some("42"), None, 0, 10), ["FIRST", "LATER", "GONE"]);
    assert_eq!(codes(Some("42"), None, 1, 1), ["LATER"]);
    assert_eq!(codes(Some("42"), Some(t0()), 0, 10), ["FIRST", "GONE"]);
    assert_eq!(codes(Some("42"), Some(at("2025-07-15")), 0, 10), ["FIRST"]);
    assert_eq!(
        codes(Some("42"), Some(at("2025-09-15")), 0, 10),
        ["FIRST", "LATER"]
    );
    assert!(codes(Some("nobody"), None, 0, 10).is_empty());

    // A coupon deactivated later still applied before that.
    let product = create(store.as_ref(), "Any", 10_000, 1);
    let best = |when| {
        store
            .product_details(&product.id, Some(&customer("42")), at(when))
            .unwrap()
            .unwrap()
            .coupon
            .map(|c| c.code.as_str().to_owned())
    };
    assert_eq!(best("2025-06-15").as_deref(), Some("GONE"));
    assert_eq!(best("2025-07-15").as_deref(), Some("FIRST"));

    let shown = store
        .coupon(&CouponCode::parse("code", "second").unwrap())
        .unwrap();
    assert_eq!(shown, Some(c2));
    assert_eq!(
        store
            .coupon(&CouponCode::parse("code", "NOPE").unwrap())
            .unwrap(),
        None
    );
}

fn every_row_written_records_its_actor(db: &TestDb) {
    let store = db.store();
    let product = create(store.as_ref(), "Stamped", 100, 1);
    let latest = store.latest_stock_event(&product.id).unwrap().unwrap();
    store
        .append_stock_event(&next_event(&latest, 1).by(Some(actor("clerk"))))
        .unwrap();
    store
        .replace_discount(&discount(&product.id, "10", all_window()))
        .unwrap();
    store
        .create_coupon(&coupon("42", "STAMPED", "10", all_window()))
        .unwrap();
    let count = |sql: &str| db.raw_i64(sql);
    assert_eq!(
        count("SELECT COUNT(*) FROM products WHERE actor = 'contract'"),
        1
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM stock_events WHERE actor = 'clerk'"),
        1
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM discounts WHERE actor = 'contract'"),
        1
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM coupons WHERE actor = 'contract'"),
        1
    );
    let history = store.stock_history(&product.id).unwrap().unwrap();
    assert_eq!(history[1].actor, Some(actor("clerk")));
    let shown = store
        .product_details(&product.id, None, t0())
        .unwrap()
        .unwrap();
    assert_eq!(shown.product.actor, Some(actor("contract")));
}

// ------------------------------- life-cycle writes inside a unit of work

/// Every life-cycle write and a stock batch, in one unit on `store`, on a
/// product made for it; returns the product.
fn lifecycle_writes_in_a_unit(
    store: &dyn CatalogStore,
    end: UnitEnd,
    name: &str,
    code: &str,
) -> Product {
    unit(store, end, || lifecycle_writes(store, name, code))
}

fn lifecycle_writes(store: &dyn CatalogStore, name: &str, code: &str) -> Product {
    let mug = create(store, name, 1_000, 5);
    let edit = ProductEdit {
        name: None,
        description: None,
        price: Some(Money::from_cents(1_250).unwrap()),
    };
    let (after, change) = mug
        .edited(edit, at("2025-06-02"), Some(actor("ops")))
        .unwrap();
    store.update_product(&mug, &after, &change).unwrap();
    let latest = store.latest_stock_event(&mug.id).unwrap().unwrap();
    store.append_stock_event(&next_event(&latest, 2)).unwrap();
    let batched = store.change_stock(&mut |batch| {
        let tip = batch
            .latest_events(std::slice::from_ref(&mug.id))?
            .pop()
            .unwrap();
        batch.append(next_event(&tip, 3))?;
        Ok(true)
    });
    assert_eq!(batched, Ok(true));
    let first = discount(&mug.id, "10", all_window());
    assert_eq!(store.replace_discount(&first), Ok(Replacement::default()));
    let second = discount(&mug.id, "20", all_window());
    assert_eq!(
        store.replace_discount(&second).map(|r| r.replaced()),
        Ok(vec![first.id.clone()])
    );
    assert_eq!(
        store.clear_discount(&mug.id, at("2025-06-03"), Some(&actor("ops"))),
        Ok(vec![second.id.clone()])
    );
    store
        .create_coupon(&coupon("u1", code, "10", all_window()))
        .unwrap();
    let code = CouponCode::parse("code", code).unwrap();
    assert!(store
        .deactivate_coupon(&code, at("2025-06-03"), Some(&actor("ops")))
        .unwrap()
        .is_some());
    assert_eq!(
        store.set_archived(&archival(&mug.id, true, "2025-06-04", "ops")),
        Ok(true)
    );
    store
        .record_request(&key(code.as_str()), &request("f", "r"), t0())
        .unwrap();
    mug
}

/// The life-cycle writes and stock batches join an open unit of work (they
/// neither commit it nor open a transaction of their own): rolled back,
/// nothing is left; committed, everything is; and on a dry-run store even a
/// committed unit keeps nothing.
fn life_cycle_writes_join_a_unit_of_work_and_a_dry_run_unit_keeps_nothing(db: &TestDb) {
    let store = db.store();
    let other = db.store();
    let dropped =
        lifecycle_writes_in_a_unit(store.as_ref(), UnitEnd::Rollback, "Rolled back", "UNITA");
    assert_eq!(
        other.product_details(&dropped.id, None, t0()).unwrap(),
        None
    );
    assert_eq!(other.status().unwrap().coupons, 0);
    assert_eq!(other.recorded_request(&key("UNITA")).unwrap(), None);

    let dry = db.open_dry_run();
    let ghost = lifecycle_writes_in_a_unit(dry.as_ref(), UnitEnd::Commit, "Dry run", "UNITB");
    assert_eq!(other.product_details(&ghost.id, None, t0()).unwrap(), None);
    assert_eq!(other.status().unwrap().coupons, 0);
    assert_eq!(other.recorded_request(&key("UNITB")).unwrap(), None);

    let kept = lifecycle_writes_in_a_unit(store.as_ref(), UnitEnd::Commit, "Committed", "UNITC");
    let history = other.stock_history(&kept.id).unwrap().unwrap();
    assert_eq!(history.last().unwrap().total_after_change, 10);
    assert_eq!(other.product_changes(&kept.id).unwrap().len(), 2);
    assert_eq!(other.status().unwrap().coupons, 1);
    assert_eq!(other.status().unwrap().discounts, 2);
    assert_eq!(
        other.recorded_request(&key("UNITC")).unwrap(),
        Some(request("f", "r"))
    );
}

/// `scan_products` (one streamed query in the adapters) hands over exactly
/// what paging through `list_products` gives: the same products in the same
/// order, each with the same stock, price and discount, the earliest
/// qualifying discount when several qualify at the instant, archived
/// products only when asked; and it stops when the sink says so.
fn a_scan_gives_what_pages_give(db: &TestDb) {
    let store = db.store();
    let products: Vec<Product> = (0..23)
        .map(|i| create(store.as_ref(), &format!("Scanned {i}"), 1_000 + i, i))
        .collect();
    let wide = window("2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z");
    for product in products.iter().step_by(4) {
        store
            .replace_discount(&discount(&product.id, "15", wide))
            .unwrap();
    }
    // Two discounts qualify at some instants for this one: the earliest
    // set applies (see `replaced_and_cleared_discounts_apply_before_they_stopped`).
    let replaced = &products[5];
    let first = discount(&replaced.id, "10", wide);
    store.replace_discount(&first).unwrap();
    let second = Discount {
        id: DiscountId::generate(at("2025-07-01"), rand::random()),
        created_at: at("2025-07-01"),
        ..discount(&replaced.id, "20", wide)
    };
    store.replace_discount(&second).unwrap();
    for position in [2, 9, 22] {
        let archive = archival(&products[position].id, true, "2025-06-02", "ops");
        assert!(store.set_archived(&archive).unwrap());
    }
    let summary = |l: &ProductListing| {
        (
            l.product.id.to_string(),
            l.position,
            l.stock,
            l.price,
            l.discount.as_ref().map(|d| d.id.to_string()),
            l.product.archived_at.is_some(),
        )
    };
    for include_archived in [false, true] {
        for when in ["2025-06-15", "2025-08-01", "2026-06-01"] {
            let mut paged = Vec::new();
            let mut start = PageStart::After(0);
            loop {
                let query = ProductQuery {
                    include_archived,
                    ..page(None, start, 7)
                };
                let rows = store.list_products(&query, at(when)).unwrap();
                let Some(last) = rows.last() else { break };
                start = PageStart::After(last.position);
                paged.extend(rows.iter().map(summary));
            }
            let mut scanned = Vec::new();
            store
                .scan_products(include_archived, at(when), &mut |l| {
                    scanned.push(summary(&l));
                    std::ops::ControlFlow::Continue(())
                })
                .unwrap();
            assert_eq!(scanned, paged, "archived {include_archived}, at {when}");
            assert_eq!(scanned.len(), if include_archived { 23 } else { 20 });
        }
    }
    let mut handed = 0;
    store
        .scan_products(true, at("2025-06-15"), &mut |_| {
            handed += 1;
            if handed == 3 {
                std::ops::ControlFlow::Break(())
            } else {
                std::ops::ControlFlow::Continue(())
            }
        })
        .unwrap();
    assert_eq!(handed, 3, "the scan stops when the sink breaks");
}
