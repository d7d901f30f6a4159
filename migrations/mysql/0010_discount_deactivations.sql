-- A discount that is replaced or cleared keeps its row, with when and by
-- whom it was switched off, so that a price shown for a past moment applies
-- the discount that was on then. `actor` is who set it.
ALTER TABLE discounts
    ADD COLUMN actor VARCHAR(64) NULL,
    ADD COLUMN deactivated_at DATETIME(6) NULL,
    ADD COLUMN deactivated_by VARCHAR(64) NULL;
