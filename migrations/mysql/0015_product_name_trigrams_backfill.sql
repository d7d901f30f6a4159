-- Indexes the names of the products that exist when version 14 is applied,
-- so that an upgraded catalog searches correctly at once: every trigram of
-- every folded name (SUBSTRING counts characters, as milly does), for the
-- product's block. Positions go only as far as the longest name: joining
-- every name to all 398 positions a 400-character name has made this
-- statement three times slower (about 35 s at a million products).
INSERT IGNORE INTO product_name_trigrams (trigram, block)
WITH RECURSIVE longest (chars) AS (
    SELECT MAX(CHAR_LENGTH(name_folded)) FROM products
), positions (pos) AS (
    SELECT 1 UNION ALL
    SELECT pos + 1 FROM positions JOIN longest ON pos + 3 <= longest.chars
)
SELECT DISTINCT SUBSTRING(p.name_folded, n.pos, 3), p.seq DIV 4096
  FROM products p
  JOIN positions n ON n.pos + 2 <= CHAR_LENGTH(p.name_folded);
