-- Every ledger row written, by milly or anyone else, moves the product's
-- recorded latest version on.
CREATE TRIGGER stock_events_latest_version AFTER INSERT ON stock_events
BEGIN
    UPDATE products SET stock_version = NEW.version
     WHERE id = NEW.product_id AND COALESCE(stock_version, 0) < NEW.version;
END;
