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
