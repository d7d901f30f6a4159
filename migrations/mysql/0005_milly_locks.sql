-- Rows that writers lock to take turns, created on first use by
-- INSERT ... ON DUPLICATE KEY UPDATE. Product creation and bulk imports lock
-- `products`, so that each new product takes MAX(seq) + 1 and no two
-- writers take the same position. The lock is an InnoDB row lock: it ends
-- with the transaction, bounded by innodb_lock_wait_timeout.
CREATE TABLE milly_locks (
    name VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY
) ENGINE = InnoDB;
