-- The catalog: products, the stock ledger, discounts and coupons.
-- Money is integer cents, percentages are basis points (hundredths of a
-- percent), times are fixed-width RFC 3339 UTC text, which sorts correctly.

-- `seq` is the product's position in creation order: milly assigns it as
-- max + 1 inside the write transaction and products are never deleted, so it
-- is dense (1..N) and page N of the catalog is a range lookup, not a scan.
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

CREATE TRIGGER products_are_never_deleted BEFORE DELETE ON products
BEGIN
    SELECT RAISE(ABORT, 'products are never deleted: their position numbers the catalog pages');
END;

-- Substring search on the case-folded name: a trigram index answers
-- `--name` filters of three or more characters without scanning the catalog.
-- It indexes products.name_folded (external content). milly's store writes
-- it in the same transaction as every product it inserts: row by row, or in
-- one pass at the end of a bulk import, which is far cheaper than a per-row
-- trigger.
CREATE VIRTUAL TABLE products_name_search USING fts5 (
    name_folded,
    content = 'products',
    content_rowid = 'seq',
    tokenize = 'trigram case_sensitive 1'
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
