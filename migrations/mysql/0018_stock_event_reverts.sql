-- `stock revert`: a ledger row may undo an earlier one, named here. The
-- unique key lets an event be reverted at most once, even by two reverts
-- racing each other (a NULL, every other row's value, is never a duplicate).
ALTER TABLE stock_events
    ADD COLUMN reverts VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NULL,
    ADD UNIQUE KEY stock_events_reverts (reverts),
    ADD CONSTRAINT stock_events_reverted_event FOREIGN KEY (reverts) REFERENCES stock_events (id);
