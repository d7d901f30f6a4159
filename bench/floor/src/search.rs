//! The one place that says how `--name` finds its candidates on each
//! backend. It copies what milly's adapters do at the time of writing
//! (src/adapters/persistence/{sqlite,mysql}/mod.rs): when milly's search
//! changes (MySQL is getting an index), change it here and nowhere else.
//! Each function returns a sub-select of the page's `seq` values, in
//! position order, at most `limit`.

/// SQLite: the FTS5 trigram table for terms of three characters or more,
/// read in rowid (= position) order so a common term stops after a page; a
/// shorter term has no trigram and scans names. Binds `:term` (the FTS5
/// phrase, or the bare folded term for the scan) and `:limit`.
pub fn sqlite_candidates(folded: &str) -> (&'static str, String) {
    if folded.chars().count() >= 3 {
        (
            "SELECT rowid FROM products_name_search
              WHERE products_name_search MATCH :term
                AND rowid NOT IN (SELECT seq FROM products WHERE archived_at IS NOT NULL)
              ORDER BY rowid LIMIT :limit",
            format!("\"{}\"", folded.replace('"', "\"\"")),
        )
    } else {
        (
            "SELECT seq FROM products
              WHERE instr(name_folded, :term) > 0 AND archived_at IS NULL
              ORDER BY seq LIMIT :limit",
            folded.to_owned(),
        )
    }
}

/// MySQL/MariaDB: no substring index (yet), so names are scanned in
/// position order with LOCATE until the page is full. `term` is an SQL
/// literal already quoted.
pub fn mysql_candidates(term: &str, limit: i64) -> String {
    format!(
        "SELECT seq FROM products
          WHERE LOCATE({term}, name_folded) > 0 AND archived_at IS NULL
          ORDER BY seq LIMIT {limit}"
    )
}
