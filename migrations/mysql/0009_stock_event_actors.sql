-- Who wrote each ledger row (NULL on rows written before milly recorded it).
ALTER TABLE stock_events ADD COLUMN actor VARCHAR(64) NULL;
