-- Every change to a product after its creation: updates (old and new value
-- of each field changed, NULL for a field left alone), archiving and
-- unarchiving, with when and who. Prices in force at a past moment are read
-- from here: the last new price at or before it, else the first old price
-- after it, else the current price. Nothing is ever deleted or rewritten.
CREATE TABLE product_changes (
    seq             INTEGER PRIMARY KEY,
    product_id      TEXT    NOT NULL REFERENCES products (id),
    kind            TEXT    NOT NULL CHECK (kind IN ('updated', 'archived', 'unarchived')),
    changed_at      TEXT    NOT NULL,
    actor           TEXT,
    old_name        TEXT,
    new_name        TEXT,
    old_description TEXT,
    new_description TEXT,
    old_price_cents INTEGER CHECK (old_price_cents > 0),
    new_price_cents INTEGER CHECK (new_price_cents > 0)
);

CREATE INDEX product_changes_by_product ON product_changes (product_id, seq);
