-- Who created each coupon, and when and by whom it was deactivated, so that
-- a price shown for a past moment applies the coupons that were on then.
-- Coupons deactivated before this version keep NULL and never apply, as
-- before. The index lists one customer's coupons in creation order.
ALTER TABLE coupons
    ADD COLUMN actor VARCHAR(64) NULL,
    ADD COLUMN deactivated_at DATETIME(6) NULL,
    ADD COLUMN deactivated_by VARCHAR(64) NULL,
    ADD KEY coupons_by_user (user_id, seq);
