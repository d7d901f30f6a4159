//! Rows as JSON, written by hand: the floor links no serializer.

use std::fmt::Write;

/// One listed (or shown) product, money in cents and basis points.
pub struct Row {
    pub id: String,
    pub name: String,
    pub stock: i64,
    pub price_cents: i64,
    pub discount: Option<(String, i64)>,
    pub coupon: Option<(String, i64)>,
}

/// `amount × bp / 10000`, rounded half up, as milly rounds.
fn share(amount: i64, bp: i64) -> i64 {
    (amount * bp + 5000) / 10000
}

impl Row {
    /// The discount comes off first, the coupon off what is left.
    fn final_cents(&self) -> i64 {
        let after_discount = self.price_cents
            - self
                .discount
                .as_ref()
                .map_or(0, |d| share(self.price_cents, d.1));
        after_discount
            - self
                .coupon
                .as_ref()
                .map_or(0, |c| share(after_discount, c.1))
    }
}

pub fn rows(rows: &[Row], with_coupon: bool) -> String {
    let mut out = String::with_capacity(64 + rows.len() * 160);
    out.push('[');
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("\n{\"id\":");
        string(&mut out, &r.id);
        out.push_str(",\"name\":");
        string(&mut out, &r.name);
        let _ = write!(out, ",\"stock_count\":{},\"discount_id\":", r.stock);
        optional(&mut out, r.discount.as_ref().map(|d| d.0.as_str()));
        let _ = write!(out, ",\"final_cents\":{}", r.final_cents());
        if with_coupon {
            out.push_str(",\"coupon_id\":");
            optional(&mut out, r.coupon.as_ref().map(|c| c.0.as_str()));
        }
        out.push('}');
    }
    out.push_str("\n]\n");
    out
}

pub fn adjusted(version: i64, total: i64) -> String {
    format!("{{\"version\":{version},\"total_after_change\":{total}}}\n")
}

fn optional(out: &mut String, value: Option<&str>) {
    match value {
        Some(v) => string(out, v),
        None => out.push_str("null"),
    }
}

fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A fresh stock event id as milly makes them: `EVT` and a ULID (48 bits
/// of milliseconds, 80 random bits, Crockford base 32).
pub fn event_id() -> String {
    const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let millis = chrono::Utc::now().timestamp_millis().max(0) as u128;
    let value = (millis << 80) | (rand::random::<u128>() & ((1u128 << 80) - 1));
    let mut id = String::from("EVT");
    for i in (0..26).rev() {
        id.push(CROCKFORD[((value >> (i * 5)) & 0x1F) as usize] as char);
    }
    id
}
