-- The latest version of every ledger written before the trigger existed.
UPDATE products SET stock_version = COALESCE(
    (SELECT MAX(e.version) FROM stock_events e WHERE e.product_id = products.id), 0);
