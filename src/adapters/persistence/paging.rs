//! Which products a page holds, in terms every backend's query takes.

use crate::app::ports::{PageStart, ProductQuery};

/// A page as a range of positions: products after `after`, skipping `skip`
/// matches, at most the query's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PagePlan<'q> {
    /// The case-folded substring names must contain, if any.
    pub term: Option<&'q str>,
    pub after: i64,
    pub skip: i64,
    /// Whether archived products are listed too.
    pub include_archived: bool,
}

impl<'q> PagePlan<'q> {
    /// Positions are dense (1..N, products are never deleted), so without a
    /// filter "skip N" is "start after position N": a primary-key range,
    /// whatever the page number. A name filter, or archived products left
    /// out, has to count matches. `any_archived` is asked only when that
    /// decides the plan.
    pub fn of<E>(
        query: &'q ProductQuery,
        any_archived: impl FnOnce() -> Result<bool, E>,
    ) -> Result<Self, E> {
        let clamp = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let term = query.name_contains.as_deref();
        let (after, skip) = match (term, query.start) {
            (None, PageStart::Offset(skip)) if query.include_archived || !any_archived()? => {
                (clamp(skip), 0)
            }
            (_, PageStart::Offset(skip)) => (0, clamp(skip)),
            (_, PageStart::After(position)) => (position, 0),
        };
        Ok(PagePlan {
            term,
            after,
            skip,
            include_archived: query.include_archived,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(name: Option<&str>, start: PageStart) -> ProductQuery {
        ProductQuery {
            name_contains: name.map(str::to_owned),
            start,
            limit: 10,
            include_archived: false,
        }
    }

    fn plan(q: &ProductQuery, any_archived: bool) -> (i64, i64) {
        let p = PagePlan::of(q, || Ok::<_, ()>(any_archived)).unwrap();
        (p.after, p.skip)
    }

    #[test]
    fn offsets_become_ranges_only_without_a_filter() {
        let q = query(None, PageStart::Offset(20));
        assert_eq!(plan(&q, false), (20, 0));
        let q = query(Some("tea"), PageStart::Offset(20));
        assert_eq!(plan(&q, false), (0, 20));
        let q = query(Some("tea"), PageStart::After(7));
        assert_eq!(plan(&q, false), (7, 0));
        let q = query(None, PageStart::Offset(u64::MAX));
        assert_eq!(plan(&q, false).0, i64::MAX);
    }

    #[test]
    fn hidden_archived_products_are_counted_past() {
        let mut q = query(None, PageStart::Offset(20));
        assert_eq!(plan(&q, true), (0, 20));
        q.include_archived = true;
        assert_eq!(plan(&q, true), (20, 0));
        let q = query(None, PageStart::After(7));
        assert_eq!(plan(&q, true), (7, 0));
    }
}
