-- The version of the product's latest ledger row, as the product row
-- records it: `stock verify` compares it with the ledger, so a latest row
-- removed behind milly's back (the only rows whose removal leaves no gap)
-- is found too. Kept by the trigger of the next version, filled in for
-- existing rows by the one after. NULL, as a bulk loader that names no
-- value for it may store, counts as 0: no row recorded yet.
ALTER TABLE products ADD COLUMN stock_version BIGINT NULL DEFAULT 0;
