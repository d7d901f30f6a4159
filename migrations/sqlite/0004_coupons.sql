-- Customer coupons; `code_key` is the upper-cased code, unique whatever
-- the case.
CREATE TABLE coupons (
    seq           INTEGER PRIMARY KEY,
    id            TEXT    NOT NULL UNIQUE,
    user_id       TEXT    NOT NULL,
    code          TEXT    NOT NULL,
    code_key      TEXT    NOT NULL UNIQUE,
    percentage_bp INTEGER NOT NULL CHECK (percentage_bp BETWEEN 1 AND 10000),
    valid_from    TEXT    NOT NULL,
    valid_to      TEXT    NOT NULL,
    is_active     INTEGER NOT NULL CHECK (is_active IN (0, 1)),
    created_at    TEXT    NOT NULL,
    CHECK (valid_from < valid_to)
);

CREATE INDEX coupons_best_for_user ON coupons (user_id, is_active, percentage_bp);
