"""The baselines: hand-written SQL that gives the same result as each milly
command, for the `sqlite3` and `mariadb` clients.

Each query returns the rows milly prints (same products, stock, discount,
coupon and final price, computed in SQL with the same half-up rounding), so
the runner can check that both sides agree before timing them. "Now" is a
literal taken when the run starts; milly reads its clock.
"""

import os


def q(text):
    """An SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


class Sql:
    def __init__(self, backend, now):
        self.backend = backend
        self.mysql = backend == "mysql"
        if self.mysql:
            self.now = q(now.strftime("%Y-%m-%d %H:%M:%S.%f"))
        else:
            self.now = q(now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))

    # ----------------------------------------------------------------- reads

    def _stock(self):
        """Current stock: one backward step on the unique (product_id,
        version) index."""
        return ("(SELECT e.total_after_change FROM stock_events e "
                "WHERE e.product_id = p.id ORDER BY e.version DESC LIMIT 1)")

    def _discount_join(self):
        """The discount running now: a product may hold several whose
        windows do not overlap, found on the (product_id, seq) index."""
        return (f"LEFT JOIN discounts d ON d.product_id = p.id "
                f"AND d.valid_from <= {self.now} AND d.valid_to > {self.now} "
                f"AND (d.is_active = 1 OR d.deactivated_at > {self.now})")

    def _listing(self):
        """Columns of a list row: milly's fields, money in cents."""
        off = "(p.price_cents * COALESCE(d.percentage_bp, 0) + 5000) DIV 10000" if self.mysql else \
            "(p.price_cents * COALESCE(d.percentage_bp, 0) + 5000) / 10000"
        return (f"p.id, p.name, p.description, p.price_cents, {self._stock()} AS stock_count, "
                f"d.id AS discount_id, d.percentage_bp AS discount_bp, {off} AS discount_cents, "
                f"p.price_cents - {off} AS final_cents, p.created_at, p.updated_at")

    def show(self, product_id, user):
        """The product, its stock, its applicable discount and the customer's
        best valid coupon in one statement; prices as milly computes them
        (discount first, then the coupon on what is left)."""
        div = "DIV" if self.mysql else "/"
        stock = self._stock()
        inner = f"""SELECT p.id, p.name, p.description, p.price_cents, {stock} AS stock_count,
       d.id AS discount_id, d.percentage_bp AS discount_bp,
       (p.price_cents * COALESCE(d.percentage_bp, 0) + 5000) {div} 10000 AS discount_cents,
       c.id AS coupon_id, c.code AS coupon_code, c.percentage_bp AS coupon_bp,
       p.created_at, p.updated_at
  FROM products p
  {self._discount_join()}
  LEFT JOIN coupons c ON c.seq = (
       SELECT b.seq FROM coupons b
        WHERE b.user_id = {q(user)} AND b.is_active = 1 AND b.valid_from <= {self.now} AND b.valid_to > {self.now}
        ORDER BY b.percentage_bp DESC, b.valid_to, b.seq LIMIT 1)
 WHERE p.id = {q(product_id)}"""
        return f"""SELECT x.*,
       ((x.price_cents - x.discount_cents) * COALESCE(x.coupon_bp, 0) + 5000) {div} 10000 AS coupon_cents,
       x.price_cents - x.discount_cents
         - ((x.price_cents - x.discount_cents) * COALESCE(x.coupon_bp, 0) + 5000) {div} 10000 AS final_cents
  FROM ({inner}) x;
"""

    def list_page(self, after, limit):
        """A page of the catalog: positions are dense, so page N is the range
        after position (N-1)*size on the primary key."""
        return f"""SELECT {self._listing()}
  FROM products p
  {self._discount_join()}
 WHERE p.seq > {after}
 ORDER BY p.seq LIMIT {limit};
"""

    def list_name(self, term, limit):
        folded = term.lower()
        if self.mysql:
            # No trigram index on MariaDB (InnoDB's ngram parser is MySQL's
            # only): names are scanned in position order until the page is
            # full, as milly does.
            return f"""SELECT {self._listing()}
  FROM products p
  {self._discount_join()}
 WHERE LOCATE({q(folded)}, p.name_folded) > 0
 ORDER BY p.seq LIMIT {limit};
"""
        phrase = '"' + folded.replace('"', '""') + '"'
        return f"""SELECT {self._listing()}
  FROM products_name_search s
  JOIN products p ON p.seq = s.rowid
  {self._discount_join()}
 WHERE products_name_search MATCH {q(phrase)}
 ORDER BY s.rowid LIMIT {limit};
"""

    def list_all(self):
        return f"""SELECT {self._listing()}
  FROM products p
  {self._discount_join()}
 ORDER BY p.seq;
"""

    # ---------------------------------------------------------------- writes

    def adjust(self, product_id):
        """Read the latest event and append version + 1 in one transaction,
        with a durable commit (SQLite: WAL and synchronous = FULL, as milly;
        InnoDB: innodb_flush_log_at_trx_commit = 1, the server default)."""
        pid = q(product_id)
        if self.mysql:
            return f"""START TRANSACTION;
SELECT total_after_change, version INTO @total, @version
  FROM stock_events WHERE product_id = {pid} ORDER BY version DESC LIMIT 1 FOR UPDATE;
INSERT INTO stock_events (id, product_id, `change`, total_after_change, version, reason, created_at)
VALUES (CONCAT('EVT', HEX(RANDOM_BYTES(13))), {pid}, 1, @total + 1, @version + 1, NULL, UTC_TIMESTAMP(6));
COMMIT;
SELECT @version + 1 AS version, @total + 1 AS total_after_change;
"""
        return f"""PRAGMA busy_timeout = 5000;
PRAGMA synchronous = FULL;
PRAGMA foreign_keys = ON;
BEGIN IMMEDIATE;
SELECT total_after_change, version FROM stock_events
 WHERE product_id = {pid} ORDER BY version DESC LIMIT 1;
INSERT INTO stock_events (id, product_id, change, total_after_change, version, reason, created_at)
SELECT 'EVT' || hex(randomblob(13)), product_id, 1, total_after_change + 1, version + 1, NULL,
       strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')
  FROM stock_events WHERE product_id = {pid} ORDER BY version DESC LIMIT 1
RETURNING version, total_after_change;
COMMIT;
"""

    def bulk_load(self, csv_dir, migration_files):
        """A fresh catalog: the schema from milly's migrations, then the same
        products, stock events and discounts from CSV in one transaction,
        with the same constraints checked (foreign keys on), and the name
        index built in one pass as milly's import does."""
        csv = lambda name: os.path.join(csv_dir, f"{name}.csv")  # noqa: E731
        if self.mysql:
            schema = "\n".join(f"source {path}" for path in migration_files)
            load = lambda table, columns: (  # noqa: E731
                f"LOAD DATA LOCAL INFILE {q(csv(table))} INTO TABLE {table} CHARACTER SET utf8mb4 "
                f"FIELDS TERMINATED BY ',' LINES TERMINATED BY '\\n' ({columns});")
            return f"""{schema}
SET autocommit = 0;
{load("products", "seq, id, name, name_folded, description, price_cents, created_at, updated_at")}
{load("stock_events", "seq, id, product_id, `change`, total_after_change, version, reason, created_at")}
{load("discounts", "seq, id, product_id, percentage_bp, valid_from, valid_to, is_active, created_at")}
COMMIT;
"""
        schema = "\n".join(f".read {path}" for path in migration_files)
        return f"""PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA foreign_keys = ON;
PRAGMA cache_size = -262144;
{schema}
BEGIN IMMEDIATE;
.import --csv {csv("products")} products
.import --csv {csv("stock_events")} stock_events
.import --csv {csv("discounts")} discounts
INSERT INTO products_name_search (rowid, name_folded) SELECT seq, name_folded FROM products;
COMMIT;
"""
