-- The ledger is append-only in the database itself: a row, once written,
-- is never changed, whoever writes to the database. A mistake is corrected
-- by a new row (`stock revert`, `stock adjust`), which keeps the history.
CREATE TRIGGER stock_events_no_update BEFORE UPDATE ON stock_events FOR EACH ROW
    SIGNAL SQLSTATE '45000'
    SET MESSAGE_TEXT = 'stock_events is append-only: a ledger row is never updated; correct it with `milly stock revert` or `milly stock adjust`';
