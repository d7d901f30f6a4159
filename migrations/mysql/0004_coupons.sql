-- Customer coupons. `code_key` is the upper-cased code, so codes are unique
-- regardless of case; the (user_id, is_active, percentage_bp) index finds a
-- customer's best coupon without scanning everyone's.
CREATE TABLE coupons (
    seq           BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    id            VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NOT NULL UNIQUE,
    user_id       VARCHAR(64) NOT NULL,
    code          VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    code_key      VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL UNIQUE,
    percentage_bp SMALLINT    NOT NULL CHECK (percentage_bp BETWEEN 1 AND 10000),
    valid_from    DATETIME(6) NOT NULL,
    valid_to      DATETIME(6) NOT NULL,
    is_active     TINYINT     NOT NULL CHECK (is_active IN (0, 1)),
    created_at    DATETIME(6) NOT NULL,
    CONSTRAINT coupons_window CHECK (valid_from < valid_to),
    KEY coupons_best_for_user (user_id, is_active, percentage_bp)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
