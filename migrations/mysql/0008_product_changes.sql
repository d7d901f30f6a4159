-- Every change to a product after its creation: updates (old and new value
-- of each field changed, NULL for a field left alone), archiving and
-- unarchiving, with when and who. Prices in force at a past moment are read
-- from here: the last new price at or before it, else the first old price
-- after it, else the current price. Nothing is ever deleted or rewritten.
CREATE TABLE product_changes (
    seq             BIGINT        NOT NULL AUTO_INCREMENT PRIMARY KEY,
    product_id      VARCHAR(40)   CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    kind            VARCHAR(16)   CHARACTER SET ascii COLLATE ascii_bin NOT NULL
                    CHECK (kind IN ('updated', 'archived', 'unarchived')),
    changed_at      DATETIME(6)   NOT NULL,
    actor           VARCHAR(64)   NULL,
    old_name        VARCHAR(200)  NULL,
    new_name        VARCHAR(200)  NULL,
    old_description VARCHAR(2000) NULL,
    new_description VARCHAR(2000) NULL,
    old_price_cents BIGINT        NULL CHECK (old_price_cents > 0),
    new_price_cents BIGINT        NULL CHECK (new_price_cents > 0),
    KEY product_changes_by_product (product_id, seq),
    CONSTRAINT product_changes_product FOREIGN KEY (product_id) REFERENCES products (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
