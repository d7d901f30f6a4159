-- Every ledger row written, by milly or anyone else, moves the product's
-- recorded latest version on. (MySQL then refuses an INSERT into the ledger
-- whose own statement reads `products`, error 1442: milly's appends are
-- plain INSERT … VALUES after a locking read of the product.)
CREATE TRIGGER stock_events_latest_version AFTER INSERT ON stock_events FOR EACH ROW
    UPDATE products SET stock_version = NEW.version
     WHERE id = NEW.product_id AND COALESCE(stock_version, 0) < NEW.version;
