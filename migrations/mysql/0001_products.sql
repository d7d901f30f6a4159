-- Products. MySQL commits DDL implicitly, so each migration file holds one
-- statement and is recorded on its own.
--
-- `seq` is the product's position in creation order: milly assigns
-- MAX(seq) + 1 while holding the `products` row of milly_locks, and the
-- ledger's foreign key keeps products from being deleted, so positions are
-- dense (1..N) and page N of the catalog is a primary-key range, not a scan
-- (AUTO_INCREMENT leaves gaps on rollbacks and on clustered servers).
--
-- Ids are ASCII with a binary collation: exact, cheap comparisons. Text is
-- utf8mb4_bin: any Unicode stored verbatim and compared byte for byte, so
-- `name_folded` (lower-cased in Rust) is matched literally by LOCATE. Money
-- is integer cents; times are DATETIME(6) in UTC.
CREATE TABLE products (
    seq          BIGINT       NOT NULL PRIMARY KEY,
    id           VARCHAR(40)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL UNIQUE,
    name         VARCHAR(200) NOT NULL,
    -- Lower-casing can lengthen a name (e.g. U+0130 becomes two characters).
    name_folded  VARCHAR(400) NOT NULL,
    description  TEXT         NOT NULL,
    price_cents  BIGINT       NOT NULL CHECK (price_cents > 0),
    created_at   DATETIME(6)  NOT NULL,
    updated_at   DATETIME(6)  NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
