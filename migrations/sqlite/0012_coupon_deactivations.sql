-- Who created each coupon, and when and by whom it was deactivated, so that
-- a price shown for a past moment applies the coupons that were on then.
-- Coupons deactivated before this version keep NULL and never apply, as before.
ALTER TABLE coupons ADD COLUMN actor TEXT;
ALTER TABLE coupons ADD COLUMN deactivated_at TEXT;
ALTER TABLE coupons ADD COLUMN deactivated_by TEXT;
CREATE INDEX coupons_by_user ON coupons (user_id, seq);
