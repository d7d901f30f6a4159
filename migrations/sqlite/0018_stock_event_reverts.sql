-- `stock revert`: a ledger row may undo an earlier one, named here. The
-- unique index lets an event be reverted at most once, even by two
-- reverts racing each other.
ALTER TABLE stock_events ADD COLUMN reverts TEXT REFERENCES stock_events (id);

CREATE UNIQUE INDEX stock_events_reverts ON stock_events (reverts);
