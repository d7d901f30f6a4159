-- A product may hold several discounts at once, whose windows do not
-- overlap: the index that allowed one active discount per product goes.
-- `replaced_by` names the discount that cut this one short or cancelled
-- it, so its status tells "replaced" from "ended" and "cleared".
-- `schedule_version` numbers each product's discounts as they are set
-- (NULL for those set before this version): two writers planning against
-- the same discounts take the same number, and the unique index turns the
-- second into a conflict that is retried against what the first wrote.
DROP INDEX discounts_one_active;
ALTER TABLE discounts ADD COLUMN replaced_by TEXT;
ALTER TABLE discounts ADD COLUMN schedule_version INTEGER;
CREATE UNIQUE INDEX discounts_schedule ON discounts (product_id, schedule_version);
