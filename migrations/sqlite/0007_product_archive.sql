-- Archiving and actors. An archived product (archived_at set) is hidden
-- from lists unless asked for and refuses every write but unarchive.
-- `actor` is who created the row (NULL on rows written before milly
-- recorded it). The partial index answers "is anything archived?" at once,
-- so lists of a catalog without archived products stay range lookups.
ALTER TABLE products ADD COLUMN archived_at TEXT;
ALTER TABLE products ADD COLUMN actor TEXT;
CREATE INDEX products_archived ON products (seq) WHERE archived_at IS NOT NULL;
