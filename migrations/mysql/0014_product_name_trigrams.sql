-- milly's index of product names for `--name` (MariaDB has no n-gram
-- parser): a row says that some product whose position (seq) is in `block`
-- (seq DIV 4096) has `trigram`, three characters of its folded name, as
-- UTF-8 bytes. A search scans only the blocks holding all of a term's
-- trigrams, checking each name there with LOCATE, so a stale row (left by
-- a rename; rows are never deleted) costs time, never a wrong result.
-- Written by milly in the same transaction as the name (see
-- src/adapters/persistence/mysql/name_index.rs).
CREATE TABLE product_name_trigrams (
    trigram VARBINARY(12) NOT NULL,
    block   INT UNSIGNED  NOT NULL,
    PRIMARY KEY (trigram, block)
) ENGINE = InnoDB;
