//! The floor on MySQL/MariaDB: connect over TCP (no second connection to a
//! Unix socket, as milly), no session set-up statements, and the workload's
//! statement(s) over the text protocol with quoted literals: one round trip
//! per statement, where a prepared statement takes two.

use mysql::prelude::Queryable;
use mysql::{Conn, Opts, OptsBuilder, Value};

use crate::output::{self, Row};
use crate::search;
use crate::sqlite_floor::keep_earliest_discount;
use crate::workload::Workload;

type Result<T> = std::result::Result<T, String>;

fn err(e: mysql::Error) -> String {
    e.to_string()
}

/// A string as an SQL literal, escaped.
fn lit(text: &str) -> String {
    Value::from(text).as_sql(false)
}

pub fn run(url: &str, workload: &Workload) -> Result<String> {
    let opts = Opts::from_url(url).map_err(|e| e.to_string())?;
    let mut conn = Conn::new(OptsBuilder::from_opts(opts).prefer_socket(false)).map_err(err)?;
    let at = lit(&chrono::Utc::now()
        .format("%Y-%m-%d %H:%M:%S%.6f")
        .to_string());
    match workload {
        Workload::Show { id, user } => show(&mut conn, &lit(id), &lit(user), &at),
        Workload::List { offset, limit } => {
            let pages = format!(
                "SELECT seq FROM products WHERE seq > {offset} AND archived_at IS NULL
                  ORDER BY seq LIMIT {limit}"
            );
            listing(&mut conn, &pages, &at)
        }
        Workload::Name { term, limit } => {
            let blocks: Option<Vec<i64>> =
                match search::mysql_blocks(term, |bytes| Value::from(bytes).as_sql(false)) {
                    Some(sql) => Some(conn.query(sql).map_err(err)?),
                    None => None,
                };
            listing(
                &mut conn,
                &search::mysql_candidates(&lit(term), blocks.as_deref(), *limit),
                &at,
            )
        }
        Workload::Adjust { id, change } => adjust(&mut conn, id, *change),
    }
}

/// milly's price in force at `at` (PRICE_AT in its MySQL adapter).
fn price_at(at: &str) -> String {
    format!(
        "CASE WHEN p.updated_at <= {at} THEN p.price_cents ELSE COALESCE(
          (SELECT c.new_price_cents FROM product_changes c
            WHERE c.product_id = p.id AND c.new_price_cents IS NOT NULL AND c.changed_at <= {at}
            ORDER BY c.changed_at DESC, c.seq DESC LIMIT 1),
          (SELECT c.old_price_cents FROM product_changes c
            WHERE c.product_id = p.id AND c.old_price_cents IS NOT NULL AND c.changed_at > {at}
            ORDER BY c.changed_at, c.seq LIMIT 1),
          p.price_cents) END"
    )
}

const STOCK: &str = "(SELECT e.total_after_change FROM stock_events e
      WHERE e.product_id = p.id ORDER BY e.version DESC LIMIT 1)";

fn discount_join(at: &str) -> String {
    format!(
        "LEFT JOIN discounts d
           ON d.product_id = p.id AND d.valid_from <= {at} AND d.valid_to > {at}
          AND (d.is_active = 1 OR d.deactivated_at > {at})"
    )
}

/// A shown product: id, name, stock, price, discount id and basis points,
/// coupon id and basis points.
type Shown = (
    String,
    String,
    i64,
    i64,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<i64>,
);

fn show(conn: &mut Conn, id: &str, user: &str, at: &str) -> Result<String> {
    let sql = format!(
        "SELECT p.id, p.name, {STOCK}, {price}, d.id, d.percentage_bp, c.id, c.percentage_bp
           FROM products p
           {discounts}
           LEFT JOIN coupons c ON c.seq = (
                SELECT b.seq FROM coupons b
                 WHERE b.user_id = {user} AND (b.is_active = 1 OR b.deactivated_at > {at})
                   AND b.valid_from <= {at} AND b.valid_to > {at}
                 ORDER BY b.percentage_bp DESC, b.valid_to ASC, b.seq ASC LIMIT 1)
          WHERE p.id = {id}
          ORDER BY d.seq LIMIT 1",
        price = price_at(at),
        discounts = discount_join(at),
    );
    let found: Option<Shown> = conn.query_first(sql).map_err(err)?;
    let rows: Vec<Row> = found
        .into_iter()
        .map(
            |(id, name, stock, price_cents, d_id, d_bp, c_id, c_bp)| Row {
                id,
                name,
                stock,
                price_cents,
                discount: d_id.zip(d_bp),
                coupon: c_id.zip(c_bp),
            },
        )
        .collect();
    Ok(output::rows(&rows, true))
}

/// The page's positions first (`pages`), then stock, price and discount for
/// those rows only, as milly's `product list` does.
fn listing(conn: &mut Conn, pages: &str, at: &str) -> Result<String> {
    let sql = format!(
        "SELECT p.id, p.name, {STOCK}, {price}, d.id, d.percentage_bp, d.seq
           FROM ({pages}) page
           JOIN products p ON p.seq = page.seq
           {discounts}
          ORDER BY p.seq",
        price = price_at(at),
        discounts = discount_join(at),
    );
    let mut found: Vec<(Row, Option<i64>)> = Vec::new();
    type Listed = (
        String,
        String,
        i64,
        i64,
        Option<String>,
        Option<i64>,
        Option<i64>,
    );
    conn.query_map(
        sql,
        |(id, name, stock, price_cents, d_id, d_bp, d_seq): Listed| {
            (
                Row {
                    id,
                    name,
                    stock,
                    price_cents,
                    discount: d_id.zip(d_bp),
                    coupon: None,
                },
                d_seq,
            )
        },
    )
    .map_err(err)?
    .into_iter()
    .for_each(|(row, seq)| keep_earliest_discount(&mut found, row, seq));
    let rows: Vec<Row> = found.into_iter().map(|(r, _)| r).collect();
    Ok(output::rows(&rows, false))
}

/// Read and insert in one transaction: the locking read holds the latest
/// event (and the product row, whose archived flag it reads) until COMMIT,
/// which InnoDB makes durable (innodb_flush_log_at_trx_commit = 1, the
/// default). The insert is a plain VALUES: milly's schema moves the product
/// row's recorded latest version on in a trigger, and MySQL refuses a
/// trigger's update of a table its statement reads (error 1442), so the
/// archived check cannot ride along in an INSERT … SELECT.
fn adjust(conn: &mut Conn, id: &str, change: i64) -> Result<String> {
    let quoted = lit(id);
    conn.query_drop("START TRANSACTION").map_err(err)?;
    let result = (|| {
        let latest: Option<(i64, i64, i64)> = conn
            .query_first(format!(
                "SELECT e.total_after_change, e.version, p.archived_at IS NOT NULL
                   FROM stock_events e JOIN products p ON p.id = e.product_id
                  WHERE e.product_id = {quoted} ORDER BY e.version DESC LIMIT 1 FOR UPDATE"
            ))
            .map_err(err)?;
        let (total, version, archived) = latest.ok_or_else(|| format!("no product {id}"))?;
        if archived != 0 {
            return Err(format!("product {id} is archived"));
        }
        let (total, version) = (total + change, version + 1);
        let created_at = chrono::Utc::now()
            .format("%Y-%m-%d %H:%M:%S%.6f")
            .to_string();
        conn.query_drop(format!(
            "INSERT INTO stock_events (id, product_id, `change`, total_after_change, version, reason, created_at, actor)
             VALUES ({event}, {quoted}, {change}, {total}, {version}, NULL, {at}, NULL)",
            event = lit(&output::event_id()),
            at = lit(&created_at),
        ))
        .map_err(err)?;
        Ok(output::adjusted(version, total))
    })();
    let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
    conn.query_drop(end).map_err(err)?;
    result
}
