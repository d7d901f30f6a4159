-- Indexes the names of the products that exist when version 14 is applied,
-- so that an upgraded catalog searches correctly at once: every trigram of
-- every folded name (SUBSTRING counts characters, as milly does), for the
-- product's block. Folded names are at most 400 characters.
INSERT IGNORE INTO product_name_trigrams (trigram, block)
WITH RECURSIVE positions (pos) AS (
    SELECT 1 UNION ALL SELECT pos + 1 FROM positions WHERE pos < 398
)
SELECT DISTINCT SUBSTRING(p.name_folded, n.pos, 3), p.seq DIV 4096
  FROM products p
  JOIN positions n ON n.pos + 2 <= CHAR_LENGTH(p.name_folded);
