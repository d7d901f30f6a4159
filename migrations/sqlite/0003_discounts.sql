-- Product discounts.
CREATE TABLE discounts (
    seq           INTEGER PRIMARY KEY,
    id            TEXT    NOT NULL UNIQUE,
    product_id    TEXT    NOT NULL REFERENCES products (id),
    percentage_bp INTEGER NOT NULL CHECK (percentage_bp BETWEEN 1 AND 10000),
    valid_from    TEXT    NOT NULL,
    valid_to      TEXT    NOT NULL,
    is_active     INTEGER NOT NULL CHECK (is_active IN (0, 1)),
    created_at    TEXT    NOT NULL,
    CHECK (valid_from < valid_to)
);

-- At most one active discount per product, enforced by the database too.
CREATE UNIQUE INDEX discounts_one_active ON discounts (product_id) WHERE is_active = 1;
CREATE INDEX discounts_by_product ON discounts (product_id, seq);
