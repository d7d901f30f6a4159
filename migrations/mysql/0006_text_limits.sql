-- Text limits: every other text column's VARCHAR(n) already bounds it as
-- milly does (n characters); a description is at most 2000 characters, not
-- the 64 KiB of TEXT. SQLite enforces the same limits with triggers in its
-- version of this migration.
ALTER TABLE products MODIFY description VARCHAR(2000) NOT NULL;
