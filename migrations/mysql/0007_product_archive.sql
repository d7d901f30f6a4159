-- Archiving and actors. An archived product (archived_at set) is hidden
-- from lists unless asked for and refuses every write but unarchive.
-- `actor` is who created the row (NULL on rows written before milly
-- recorded it). The index answers "is anything archived?" at once, so lists
-- of a catalog without archived products stay primary-key ranges.
ALTER TABLE products
    ADD COLUMN archived_at DATETIME(6) NULL,
    ADD COLUMN actor VARCHAR(64) NULL,
    ADD KEY products_archived (archived_at);
