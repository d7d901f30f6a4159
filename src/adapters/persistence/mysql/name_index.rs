//! milly's own index of product names on MySQL, for `--name` searches.
//!
//! MariaDB has no n-gram full-text parser, and a `LOCATE` over every name
//! reads the whole table (about a second at a million products). So milly
//! keeps `product_name_trigrams`: a row (trigram, block) says that some
//! product whose position falls in `block` has that trigram (three
//! characters) in its folded name. A term of three or more characters can
//! only be in the blocks holding every one of its trigrams; only those
//! blocks' names are then checked with the same `LOCATE` as a full scan, so
//! the index narrows the scan but never decides a match, and results are
//! those of the scan.
//!
//! Block-granular rather than one row per (trigram, product): an exact
//! posting list is about 23 rows per product, too many to write at import
//! speed, while a block's distinct trigrams grow far slower than its
//! products. Measured on the benchmark's million-product catalog: blocks of
//! 4,096 positions make 0.49 M rows (about 2,000 a block), blocks of 1,024
//! make 1.77 M. A finer block scans less per candidate block, but the rare
//! term's five blocks of 4,096 already cost only a few milliseconds, so the
//! import's extra writes decided.
//!
//! The index is written in the transaction that writes the name, with
//! `INSERT IGNORE`: nearly every row already exists, so concurrent writers
//! (and a cluster's nodes) rarely touch the same new row, and rows are
//! inserted in one sorted order, so two writers never wait on each other in
//! a cycle. Rows are never deleted: after a rename, a stale row only costs
//! a wasted scan of its block.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

use ::mysql::prelude::Queryable;
use ::mysql::{Conn, Value};

/// `block = position >> BLOCK_SHIFT`. The backfill migration (15) computes
/// the same blocks as `seq DIV 4096`: changing this needs a migration that
/// rebuilds the table.
const BLOCK_SHIFT: u32 = 12;

/// Index rows per multi-row INSERT: each row is two small values, so a
/// statement stays far below max_allowed_packet and the 65,535 parameters
/// of a prepared statement.
const ROWS_PER_INSERT: usize = 2_000;

pub fn block_of(position: i64) -> i64 {
    position >> BLOCK_SHIFT
}

/// Three characters of a folded name, as their UTF-8 bytes (at most 12),
/// zero-padded, with their length. Characters, not bytes: the term's
/// trigrams are then a subset of the trigrams of every name containing it,
/// whatever the script, and the backfill's `SUBSTRING` counts the same way.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Trigram {
    bytes: [u8; 12],
    len: u8,
}

impl Trigram {
    fn of(three: &str) -> Trigram {
        let mut bytes = [0; 12];
        bytes[..three.len()].copy_from_slice(three.as_bytes());
        Trigram {
            bytes,
            len: three.len() as u8,
        }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// Every trigram of `folded`, in order, repeats included; none for a text
/// of fewer than three characters.
pub fn trigrams(folded: &str) -> impl Iterator<Item = Trigram> + '_ {
    let boundaries = || {
        folded
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(folded.len()))
    };
    boundaries()
        .zip(boundaries().skip(3))
        .map(|(start, end)| Trigram::of(&folded[start..end]))
}

/// The distinct trigrams of `folded`, sorted.
pub fn distinct_trigrams(folded: &str) -> Vec<Trigram> {
    let mut all: Vec<Trigram> = trigrams(folded).collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// Adds the trigrams of a product's folded name for its position: one
/// statement, which inserts nothing when its block already has them all.
pub fn index_name(tx: &mut Conn, position: i64, folded: &str) -> ::mysql::Result<()> {
    insert(tx, block_of(position), &distinct_trigrams(folded))
}

/// Inserts (trigram, block) rows, `trigrams` sorted, in few statements.
fn insert(tx: &mut Conn, block: i64, trigrams: &[Trigram]) -> ::mysql::Result<()> {
    for chunk in trigrams.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT IGNORE INTO product_name_trigrams (trigram, block) VALUES {}",
            vec!["(?, ?)"; chunk.len()].join(", ")
        );
        let params: Vec<Value> = chunk
            .iter()
            .flat_map(|t| [Value::from(t.as_bytes()), Value::from(block)])
            .collect();
        tx.exec_drop(sql, params)?;
    }
    Ok(())
}

/// The blocks that may hold a name containing `folded_term` (three or more
/// characters), as ranges of positions `(first, last)`, ascending and
/// merged where blocks touch.
pub fn candidate_ranges(conn: &mut Conn, folded_term: &str) -> ::mysql::Result<Vec<(i64, i64)>> {
    let wanted = distinct_trigrams(folded_term);
    let sql = format!(
        "SELECT block FROM product_name_trigrams WHERE trigram IN ({})
          GROUP BY block HAVING COUNT(*) = ? ORDER BY block",
        vec!["?"; wanted.len()].join(", ")
    );
    let mut params: Vec<Value> = wanted.iter().map(|t| t.as_bytes().into()).collect();
    params.push(wanted.len().into());
    let blocks: Vec<i64> = conn.exec(sql, params)?;
    Ok(ranges(&blocks))
}

/// Position ranges covering `blocks` (ascending), adjacent blocks merged so
/// a common term becomes one range the primary key reads in order.
fn ranges(blocks: &[i64]) -> Vec<(i64, i64)> {
    let mut merged: Vec<(i64, i64)> = Vec::new();
    for &block in blocks {
        let (first, last) = (block << BLOCK_SHIFT, ((block + 1) << BLOCK_SHIFT) - 1);
        match merged.last_mut() {
            Some((_, end)) if *end + 1 == first => *end = last,
            _ => merged.push((first, last)),
        }
    }
    merged
}

/// The index rows of a bulk import, written one block at a time as the
/// import's positions leave it, so memory holds one block's trigrams.
///
/// The import's first block may already hold other products, whose renames
/// insert rows there too: that block is written last, just before the
/// commit, so a rename waits on the import's new rows for as short a time
/// as possible. Every later block is new, invisible to others until the
/// import commits.
#[derive(Default)]
pub struct ImportIndex {
    first: Option<(i64, TrigramSet)>,
    current: Option<(i64, TrigramSet)>,
}

type TrigramSet = HashSet<Trigram, BuildHasherDefault<TrigramHasher>>;

impl ImportIndex {
    pub fn add(&mut self, tx: &mut Conn, position: i64, folded: &str) -> ::mysql::Result<()> {
        let block = block_of(position);
        match &self.current {
            Some((current, _)) if *current == block => {}
            _ => {
                self.finish_block(tx)?;
                self.current = Some((block, TrigramSet::default()));
            }
        }
        if let Some((_, set)) = &mut self.current {
            set.extend(trigrams(folded));
        }
        Ok(())
    }

    /// Writes what is left: the last block, then the first.
    pub fn flush(&mut self, tx: &mut Conn) -> ::mysql::Result<()> {
        self.finish_block(tx)?;
        if let Some((block, set)) = self.first.take() {
            write_set(tx, block, set)?;
        }
        Ok(())
    }

    fn finish_block(&mut self, tx: &mut Conn) -> ::mysql::Result<()> {
        let Some((block, set)) = self.current.take() else {
            return Ok(());
        };
        if self.first.is_none() {
            self.first = Some((block, set));
            return Ok(());
        }
        write_set(tx, block, set)
    }
}

fn write_set(tx: &mut Conn, block: i64, set: TrigramSet) -> ::mysql::Result<()> {
    let mut sorted: Vec<Trigram> = set.into_iter().collect();
    sorted.sort_unstable();
    insert(tx, block, &sorted)
}

/// FxHash's multiply-rotate over the trigram's words: an import hashes
/// about 25 trigrams per product, which SipHash would make a visible part
/// of its time. The keys are milly's own names, not an attacker's.
#[derive(Default)]
pub struct TrigramHasher(u64);

impl Hasher for TrigramHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.write_u64(u64::from(byte));
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(folded: &str) -> Vec<String> {
        trigrams(folded)
            .map(|t| String::from_utf8(t.as_bytes().to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn trigrams_are_of_characters() {
        assert_eq!(texts("ab"), Vec::<String>::new());
        assert_eq!(texts("abc"), ["abc"]);
        assert_eq!(texts("oak mug"), ["oak", "ak ", "k m", " mu", "mug"]);
        assert_eq!(texts("éç😀x"), ["éç😀", "ç😀x"]);
        assert_eq!(distinct_trigrams("aaaa").len(), 1);
    }

    #[test]
    fn a_term_s_trigrams_are_among_those_of_every_name_containing_it() {
        let names = [
            "grand walnut spoon",
            "ÉCLAIR de thé",
            "日本の茶碗セット",
            "x😀😀😀y",
        ];
        for name in names {
            let folded = name.to_lowercase();
            let all: Vec<Trigram> = distinct_trigrams(&folded);
            let chars: Vec<char> = folded.chars().collect();
            for start in 0..chars.len() {
                for end in start + 3..=chars.len() {
                    let term: String = chars[start..end].iter().collect();
                    for t in distinct_trigrams(&term) {
                        assert!(all.contains(&t), "{term:?} in {name:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn blocks_become_merged_position_ranges() {
        assert_eq!(ranges(&[]), vec![]);
        assert_eq!(ranges(&[0]), vec![(0, 4095)]);
        assert_eq!(
            ranges(&[0, 1, 3, 7, 8]),
            vec![(0, 8191), (12288, 16383), (28672, 36863)]
        );
        assert_eq!(block_of(4095), 0);
        assert_eq!(block_of(4096), 1);
    }
}
