-- Writes made under --idempotency-key: the key, a digest of the request and
-- what the command printed, recorded in the same transaction as the write.
-- Kept until `milly db prune-keys`, which deletes by age.
CREATE TABLE idempotency_keys (
    idem_key    VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
    fingerprint CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    result      MEDIUMTEXT NOT NULL,
    created_at  DATETIME(6) NOT NULL,
    INDEX idempotency_keys_created_at (created_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
