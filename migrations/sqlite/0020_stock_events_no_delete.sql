-- Nor is a ledger row ever removed: current stock is the latest row, so
-- removing one would silently change it.
CREATE TRIGGER stock_events_no_delete BEFORE DELETE ON stock_events
BEGIN
    SELECT RAISE(ABORT, 'stock_events is append-only: a ledger row is never deleted; correct it with `milly stock revert` or `milly stock adjust`');
END;
