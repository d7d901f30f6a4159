-- Products. Money is integer cents, percentages are basis points
-- (hundredths of a percent), times are fixed-width RFC 3339 UTC text, which
-- sorts correctly. SQLite runs a whole migration in one transaction.

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
