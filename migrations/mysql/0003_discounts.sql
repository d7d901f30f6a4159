-- Product discounts; percentages are basis points (hundredths of a percent).
--
-- At most one active discount per product: MySQL has no partial index, so
-- `active_product_id` holds the product id only while the discount is
-- active (NULL otherwise, and NULLs never collide in a UNIQUE index). It
-- also makes "the active discount of this product" a unique-key lookup.
CREATE TABLE discounts (
    seq               BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    id                VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NOT NULL UNIQUE,
    product_id        VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    percentage_bp     SMALLINT    NOT NULL CHECK (percentage_bp BETWEEN 1 AND 10000),
    valid_from        DATETIME(6) NOT NULL,
    valid_to          DATETIME(6) NOT NULL,
    is_active         TINYINT     NOT NULL CHECK (is_active IN (0, 1)),
    created_at        DATETIME(6) NOT NULL,
    active_product_id VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin
                      AS (IF(is_active = 1, product_id, NULL)) STORED,
    CONSTRAINT discounts_window CHECK (valid_from < valid_to),
    UNIQUE KEY discounts_one_active (active_product_id),
    KEY discounts_by_product (product_id, seq),
    CONSTRAINT discounts_product FOREIGN KEY (product_id) REFERENCES products (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
