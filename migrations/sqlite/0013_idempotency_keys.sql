-- Writes made under --idempotency-key: the key, a digest of the request and
-- what the command printed, recorded in the same transaction as the write.
-- Kept until `milly db prune-keys`, which deletes by age.
CREATE TABLE idempotency_keys (
    idem_key    TEXT NOT NULL PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    result      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
