-- The catalog: products, the stock ledger, discounts and coupons.
-- Money is integer cents, percentages are basis points (hundredths of a
-- percent), times are fixed-width RFC 3339 UTC text, which sorts correctly.

CREATE TABLE products (
    seq          INTEGER PRIMARY KEY,
    id           TEXT    NOT NULL UNIQUE,
    name         TEXT    NOT NULL,
    name_folded  TEXT    NOT NULL,
    description  TEXT    NOT NULL,
    price_cents  INTEGER NOT NULL CHECK (price_cents > 0),
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL
);

-- Append-only; current stock is the row with the highest version, found
-- through the unique index below in one lookup.
CREATE TABLE stock_events (
    seq                INTEGER PRIMARY KEY,
    id                 TEXT    NOT NULL UNIQUE,
    product_id         TEXT    NOT NULL REFERENCES products (id),
    change             INTEGER NOT NULL,
    total_after_change INTEGER NOT NULL CHECK (total_after_change >= 0),
    version            INTEGER NOT NULL CHECK (version >= 1),
    reason             TEXT,
    created_at         TEXT    NOT NULL,
    UNIQUE (product_id, version)
);

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

CREATE TABLE coupons (
    seq           INTEGER PRIMARY KEY,
    id            TEXT    NOT NULL UNIQUE,
    user_id       TEXT    NOT NULL,
    code          TEXT    NOT NULL,
    code_key      TEXT    NOT NULL UNIQUE,
    percentage_bp INTEGER NOT NULL CHECK (percentage_bp BETWEEN 1 AND 10000),
    valid_from    TEXT    NOT NULL,
    valid_to      TEXT    NOT NULL,
    is_active     INTEGER NOT NULL CHECK (is_active IN (0, 1)),
    created_at    TEXT    NOT NULL,
    CHECK (valid_from < valid_to)
);

CREATE INDEX coupons_best_for_user ON coupons (user_id, is_active, percentage_bp);
