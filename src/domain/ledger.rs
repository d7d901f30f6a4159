//! Auditing stored ledgers: the invariants every write keeps, checked again
//! on what a database actually holds (after a restore, a hand edit or a
//! crash), one row at a time so that any ledger size fits in memory.

use std::fmt;

use super::id::ProductId;

/// The parts of one stored ledger row that its invariants speak of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    pub product_id: ProductId,
    pub version: i64,
    pub change: i64,
    pub total_after_change: i64,
    /// The version of the product's latest row as the product row records
    /// it, which every row written moves on: a ledger that ends before it
    /// lost its latest rows.
    pub recorded_latest: i64,
}

/// What is wrong with one row of a ledger (or with a product that has none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerFault {
    /// The versions are not 1, 2, 3, … without holes.
    VersionGap { expected: i64, found: i64 },
    /// The total is not the previous total plus the change (the opening
    /// row's "previous total" is 0, so its change must equal its total).
    BrokenTotal {
        previous: i64,
        change: i64,
        found: i64,
    },
    /// Stock below zero.
    NegativeTotal { found: i64 },
    /// A product without even its opening (version 1) row.
    NoLedger,
    /// The ledger ends at another version than the product row records as
    /// its latest: rows were removed from its end (or written past it
    /// behind the schema's back).
    LatestMismatch { recorded: i64, found: i64 },
}

impl LedgerFault {
    /// A stable name for scripts.
    pub fn code(&self) -> &'static str {
        match self {
            LedgerFault::VersionGap { .. } => "version_gap",
            LedgerFault::BrokenTotal { .. } => "broken_total",
            LedgerFault::NegativeTotal { .. } => "negative_total",
            LedgerFault::NoLedger => "no_ledger",
            LedgerFault::LatestMismatch { .. } => "latest_mismatch",
        }
    }
}

impl fmt::Display for LedgerFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LedgerFault::VersionGap { expected, found } => {
                write!(f, "expected version {expected}, found version {found}")
            }
            LedgerFault::BrokenTotal {
                previous,
                change,
                found,
            } => write!(
                f,
                "total is {found}, but the previous total {previous} plus the change {change} is {}",
                previous.saturating_add(*change)
            ),
            LedgerFault::NegativeTotal { found } => write!(f, "total {found} is below zero"),
            LedgerFault::NoLedger => f.write_str("the product has no ledger rows at all"),
            LedgerFault::LatestMismatch { recorded, found } if recorded > found => write!(
                f,
                "the product records version {recorded} as its latest, but its ledger ends at version {found}: its latest row(s) were removed"
            ),
            LedgerFault::LatestMismatch { recorded, found } => write!(
                f,
                "the ledger goes on to version {found}, past the version {recorded} the product records as its latest"
            ),
        }
    }
}

/// One problem found, where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerProblem {
    pub product_id: ProductId,
    /// The version of the faulty row; `None` for a product without rows.
    pub version: Option<i64>,
    pub fault: LedgerFault,
}

/// Checks ledgers fed row by row, each product's rows together and in
/// version order, then [`LedgerCheck::finish`]. Only the previous row is
/// kept.
#[derive(Debug, Default)]
pub struct LedgerCheck {
    previous: Option<LedgerEntry>,
    pub products_checked: u64,
    pub events_checked: u64,
    pub problems: u64,
}

impl LedgerCheck {
    pub fn new() -> Self {
        Self::default()
    }

    /// The problems of `entry` given the rows before it. After a version
    /// gap the total is not compared: the rows in between are missing, so
    /// no expected total exists.
    pub fn entry(&mut self, entry: LedgerEntry) -> Vec<LedgerProblem> {
        let mut ended = Vec::new();
        let (expected_version, previous_total) = match &self.previous {
            Some(p) if p.product_id == entry.product_id => (p.version + 1, p.total_after_change),
            _ => {
                ended = self.finish();
                self.products_checked += 1;
                (1, 0)
            }
        };
        self.events_checked += 1;
        let mut faults = Vec::new();
        if entry.version != expected_version {
            faults.push(LedgerFault::VersionGap {
                expected: expected_version,
                found: entry.version,
            });
        } else if previous_total.checked_add(entry.change) != Some(entry.total_after_change) {
            faults.push(LedgerFault::BrokenTotal {
                previous: previous_total,
                change: entry.change,
                found: entry.total_after_change,
            });
        }
        if entry.total_after_change < 0 {
            faults.push(LedgerFault::NegativeTotal {
                found: entry.total_after_change,
            });
        }
        let problems = self.problems(&entry.product_id, Some(entry.version), faults);
        self.previous = Some(entry);
        ended.extend(problems);
        ended
    }

    /// The problem of the ledger fed last, if it does not end where its
    /// product row says (at its last row's version, a mismatch): called
    /// when another product's rows begin, and once after the last row.
    pub fn finish(&mut self) -> Vec<LedgerProblem> {
        let Some(last) = self.previous.take() else {
            return Vec::new();
        };
        if last.version == last.recorded_latest {
            return Vec::new();
        }
        let fault = LedgerFault::LatestMismatch {
            recorded: last.recorded_latest,
            found: last.version,
        };
        self.problems(&last.product_id, Some(last.version), vec![fault])
    }

    /// A product that has no ledger rows.
    pub fn no_ledger(&mut self, product_id: ProductId) -> LedgerProblem {
        self.products_checked += 1;
        self.problems(&product_id, None, vec![LedgerFault::NoLedger])
            .pop()
            .expect("one fault, one problem")
    }

    fn problems(
        &mut self,
        product_id: &ProductId,
        version: Option<i64>,
        faults: Vec<LedgerFault>,
    ) -> Vec<LedgerProblem> {
        self.problems += faults.len() as u64;
        faults
            .into_iter()
            .map(|fault| LedgerProblem {
                product_id: product_id.clone(),
                version,
                fault,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Instant;

    fn product(n: u128) -> ProductId {
        ProductId::generate(Instant::parse("at", "2025-01-01").unwrap(), n)
    }

    fn row(p: &ProductId, version: i64, change: i64, total: i64) -> LedgerEntry {
        LedgerEntry {
            product_id: p.clone(),
            version,
            change,
            total_after_change: total,
            recorded_latest: 0,
        }
    }

    /// The faults found in `rows`, whose product rows record the last
    /// version given for each as its latest.
    fn faults(check: &mut LedgerCheck, rows: Vec<LedgerEntry>) -> Vec<(i64, &'static str)> {
        let latest = |p: &ProductId| {
            rows.iter()
                .rev()
                .find(|r| &r.product_id == p)
                .map(|r| r.version)
                .unwrap()
        };
        let rows: Vec<LedgerEntry> = rows
            .iter()
            .map(|r| LedgerEntry {
                recorded_latest: latest(&r.product_id),
                ..r.clone()
            })
            .collect();
        let mut found: Vec<LedgerProblem> = rows.into_iter().flat_map(|r| check.entry(r)).collect();
        found.extend(check.finish());
        found
            .into_iter()
            .map(|p| (p.version.unwrap(), p.fault.code()))
            .collect()
    }

    #[test]
    fn a_sound_ledger_has_no_problems_and_counts_what_it_read() {
        let (a, b) = (product(1), product(2));
        let mut check = LedgerCheck::new();
        let rows = vec![
            row(&a, 1, 10, 10),
            row(&a, 2, -10, 0),
            row(&b, 1, 0, 0),
            row(&b, 2, 5, 5),
        ];
        assert!(faults(&mut check, rows).is_empty());
        assert_eq!(
            (check.products_checked, check.events_checked, check.problems),
            (2, 4, 0)
        );
    }

    #[test]
    fn each_fault_is_named_at_its_version() {
        let p = product(1);
        let mut check = LedgerCheck::new();
        // v2 missing: a gap at v3, whose total is then not compared.
        let gap = vec![row(&p, 1, 10, 10), row(&p, 3, 1, 99)];
        assert_eq!(faults(&mut check, gap), [(3, "version_gap")]);
        let mut check = LedgerCheck::new();
        let broken = vec![row(&p, 1, 10, 10), row(&p, 2, 5, 16), row(&p, 3, 1, 17)];
        assert_eq!(faults(&mut check, broken), [(2, "broken_total")]);
        let mut check = LedgerCheck::new();
        let negative = vec![row(&p, 1, 0, 0), row(&p, 2, -5, -5)];
        assert_eq!(faults(&mut check, negative), [(2, "negative_total")]);
        // An opening row must start at version 1 with change = total.
        let mut check = LedgerCheck::new();
        assert_eq!(
            faults(&mut check, vec![row(&p, 2, 5, 5)]),
            [(2, "version_gap")]
        );
        let mut check = LedgerCheck::new();
        assert_eq!(
            faults(&mut check, vec![row(&p, 1, 4, 5)]),
            [(1, "broken_total")]
        );
        assert_eq!(check.problems, 1);
    }

    #[test]
    fn a_ledger_that_ends_elsewhere_than_its_product_records_is_named() {
        let (a, b) = (product(1), product(2));
        let recorded = |r: LedgerEntry, latest: i64| LedgerEntry {
            recorded_latest: latest,
            ..r
        };
        let mut check = LedgerCheck::new();
        // a lost its latest row (v3); b has one past what it records.
        let rows = [
            recorded(row(&a, 1, 10, 10), 3),
            recorded(row(&a, 2, -4, 6), 3),
            recorded(row(&b, 1, 1, 1), 1),
            recorded(row(&b, 2, 1, 2), 1),
        ];
        let mut found: Vec<LedgerProblem> = rows.into_iter().flat_map(|r| check.entry(r)).collect();
        found.extend(check.finish());
        let named: Vec<(&ProductId, Option<i64>, String)> = found
            .iter()
            .map(|p| (&p.product_id, p.version, p.fault.to_string()))
            .collect();
        assert_eq!(
            named,
            [
                (&a, Some(2), "the product records version 3 as its latest, but its ledger ends at version 2: its latest row(s) were removed".to_owned()),
                (&b, Some(2), "the ledger goes on to version 2, past the version 1 the product records as its latest".to_owned()),
            ]
        );
        assert_eq!(found[0].fault.code(), "latest_mismatch");
        assert_eq!((check.products_checked, check.problems), (2, 2));
        assert!(check.finish().is_empty(), "each ledger is judged once");
    }

    #[test]
    fn the_detail_says_what_is_wrong() {
        let fault = LedgerFault::BrokenTotal {
            previous: 10,
            change: 5,
            found: 16,
        };
        assert_eq!(
            fault.to_string(),
            "total is 16, but the previous total 10 plus the change 5 is 15"
        );
        let mut check = LedgerCheck::new();
        let problem = check.no_ledger(product(3));
        assert_eq!((problem.version, problem.fault.code()), (None, "no_ledger"));
        assert_eq!((check.products_checked, check.problems), (1, 1));
    }
}
