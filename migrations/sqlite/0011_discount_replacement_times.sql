-- Before this version the only way a discount was switched off was being
-- replaced, at the moment its product's next discount was created: record
-- that moment. An inactive discount with no later one keeps NULL (when it
-- stopped is unknown) and never applies, as before.
UPDATE discounts
   SET deactivated_at = (SELECT MIN(n.created_at) FROM discounts n
                          WHERE n.product_id = discounts.product_id AND n.seq > discounts.seq)
 WHERE is_active = 0 AND deactivated_at IS NULL;
