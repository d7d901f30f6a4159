-- Before this version the only way a discount was switched off was being
-- replaced, at the moment its product's next discount was created: record
-- that moment. An inactive discount with no later one keeps NULL (when it
-- stopped is unknown) and never applies, as before. The replacement times
-- are computed in a derived table first: MySQL does not let an UPDATE read
-- the table it changes in a subquery.
UPDATE discounts d
  JOIN (SELECT o.seq, MIN(n.created_at) AS replaced_at
          FROM discounts o
          JOIN discounts n ON n.product_id = o.product_id AND n.seq > o.seq
         WHERE o.is_active = 0 AND o.deactivated_at IS NULL
         GROUP BY o.seq) r ON r.seq = d.seq
   SET d.deactivated_at = r.replaced_at;
