-- Nor is a ledger row ever removed: current stock is the latest row, so
-- removing one would silently change it.
CREATE TRIGGER stock_events_no_delete BEFORE DELETE ON stock_events FOR EACH ROW
    SIGNAL SQLSTATE '45000'
    SET MESSAGE_TEXT = 'stock_events is append-only: a ledger row is never deleted; correct it with `milly stock revert` or `milly stock adjust`';
