-- The append-only stock ledger. Current stock is the row with the highest
-- version, one backward step on the unique (product_id, version) index,
-- which also turns two writers racing for one version into a duplicate-key
-- error instead of a lost update. `change` is a reserved word in MySQL.
CREATE TABLE stock_events (
    seq                BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    id                 VARCHAR(40)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL UNIQUE,
    product_id         VARCHAR(40)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    `change`           BIGINT       NOT NULL,
    total_after_change BIGINT       NOT NULL CHECK (total_after_change >= 0),
    version            BIGINT       NOT NULL CHECK (version >= 1),
    reason             VARCHAR(200) NULL,
    created_at         DATETIME(6)  NOT NULL,
    UNIQUE KEY stock_events_version (product_id, version),
    CONSTRAINT stock_events_product FOREIGN KEY (product_id) REFERENCES products (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
