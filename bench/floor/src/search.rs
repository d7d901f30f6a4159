//! The one place that says how `--name` finds its candidates on each
//! backend. It copies what milly's adapters do at the time of writing
//! (src/adapters/persistence/{sqlite,mysql}/mod.rs): when milly's search
//! changes, change it here and nowhere else.
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

/// MySQL/MariaDB, a term of three characters or more: milly's
/// block-granular trigram index (`product_name_trigrams`,
/// src/adapters/persistence/mysql/name_index.rs). First the blocks of 4,096
/// positions holding every trigram of the term (this statement); then the
/// names in those blocks, in position order, with LOCATE until the page is
/// full (`mysql_candidates` with the blocks). `None` for a shorter term,
/// which has no trigram. `quote` makes an SQL literal.
pub fn mysql_blocks(folded: &str, quote: impl Fn(&[u8]) -> String) -> Option<String> {
    let trigrams = trigrams(folded);
    if trigrams.is_empty() {
        return None;
    }
    let wanted: Vec<String> = trigrams.iter().map(|t| quote(t.as_bytes())).collect();
    Some(format!(
        "SELECT block FROM product_name_trigrams WHERE trigram IN ({})
          GROUP BY block HAVING COUNT(*) = {} ORDER BY block",
        wanted.join(", "),
        wanted.len()
    ))
}

/// The page's positions: the names in `blocks` (from `mysql_blocks`; all
/// names when `None`) that contain the term, at most `limit`. `term` is an
/// SQL literal already quoted.
pub fn mysql_candidates(term: &str, blocks: Option<&[i64]>, limit: i64) -> String {
    let within = match blocks {
        None => "TRUE".to_owned(),
        Some([]) => "FALSE".to_owned(),
        Some(blocks) => blocks
            .iter()
            .map(|b| format!("seq BETWEEN {} AND {}", b * 4096, b * 4096 + 4095))
            .collect::<Vec<_>>()
            .join(" OR "),
    };
    format!(
        "SELECT seq FROM products FORCE INDEX (PRIMARY)
          WHERE ({within}) AND LOCATE({term}, name_folded) > 0 AND archived_at IS NULL
          ORDER BY seq LIMIT {limit}"
    )
}

/// The distinct three-character substrings of `text` (characters, not
/// bytes), as milly's index keeps them.
fn trigrams(text: &str) -> Vec<&str> {
    let bounds: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .collect();
    let mut all: Vec<&str> = bounds
        .iter()
        .zip(bounds.iter().skip(3))
        .map(|(&a, &b)| &text[a..b])
        .collect();
    all.sort_unstable();
    all.dedup();
    all
}
