-- A product may hold several discounts at once, whose windows do not
-- overlap: the key that allowed one active discount per product goes, with
-- the column it was built on. `replaced_by` names the discount that cut
-- this one short or cancelled it, so its status tells "replaced" from
-- "ended" and "cleared". `schedule_version` numbers each product's
-- discounts as they are set (NULL for those set before this version): two
-- writers planning against the same discounts take the same number, and
-- the unique key turns the second into a conflict that is retried against
-- what the first wrote. A row lock alone would not do on Galera, where
-- only written keys are certified across nodes.
ALTER TABLE discounts
    DROP KEY discounts_one_active,
    DROP COLUMN active_product_id,
    ADD COLUMN replaced_by VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NULL,
    ADD COLUMN schedule_version BIGINT NULL,
    ADD UNIQUE KEY discounts_schedule (product_id, schedule_version);
