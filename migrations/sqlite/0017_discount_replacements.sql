-- Before version 16 a discount was replaced by being switched off at the
-- moment its product's next discount was created (version 11 recorded that
-- moment where it was missing): name that discount as its replacement. One
-- switched off at any other moment was cleared and keeps NULL.
UPDATE discounts
   SET replaced_by = (SELECT n.id FROM discounts n
                       WHERE n.product_id = discounts.product_id AND n.seq > discounts.seq
                         AND n.created_at = discounts.deactivated_at
                       ORDER BY n.seq LIMIT 1)
 WHERE is_active = 0 AND deactivated_at IS NOT NULL AND replaced_by IS NULL;
