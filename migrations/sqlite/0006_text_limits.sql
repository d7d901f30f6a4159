-- Text limits, so that SQLite refuses the same rows as MySQL, whose column
-- types carry them (VARCHAR(n) counts characters, as length() does here).
-- milly validates every value before writing; these catch anything else
-- that writes to the file.
CREATE TRIGGER products_text_limits_on_insert BEFORE INSERT ON products
WHEN length(NEW.name) > 200 OR length(NEW.description) > 2000
BEGIN
    SELECT RAISE(ABORT, 'products: a name has at most 200 characters, a description at most 2000');
END;

CREATE TRIGGER products_text_limits_on_update BEFORE UPDATE OF name, description ON products
WHEN length(NEW.name) > 200 OR length(NEW.description) > 2000
BEGIN
    SELECT RAISE(ABORT, 'products: a name has at most 200 characters, a description at most 2000');
END;

CREATE TRIGGER stock_events_text_limits BEFORE INSERT ON stock_events
WHEN length(NEW.reason) > 200
BEGIN
    SELECT RAISE(ABORT, 'stock_events: a reason has at most 200 characters');
END;

CREATE TRIGGER coupons_text_limits BEFORE INSERT ON coupons
WHEN length(NEW.user_id) > 64 OR length(NEW.code) > 32
BEGIN
    SELECT RAISE(ABORT, 'coupons: a customer id has at most 64 characters, a code at most 32');
END;
