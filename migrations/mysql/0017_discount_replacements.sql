-- Before version 16 a discount was replaced by being switched off at the
-- moment its product's next discount was created (version 11 recorded that
-- moment where it was missing): name that discount as its replacement. One
-- switched off at any other moment was cleared and keeps NULL. The next
-- discount is found in a derived table first: MySQL does not let an UPDATE
-- read the table it changes in a subquery.
UPDATE discounts d
  JOIN (SELECT o.seq, MIN(n.seq) AS next_seq
          FROM discounts o
          JOIN discounts n ON n.product_id = o.product_id AND n.seq > o.seq
                          AND n.created_at = o.deactivated_at
         WHERE o.is_active = 0 AND o.replaced_by IS NULL
         GROUP BY o.seq) r ON r.seq = d.seq
  JOIN discounts s ON s.seq = r.next_seq
   SET d.replaced_by = s.id;
