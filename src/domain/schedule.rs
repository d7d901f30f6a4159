//! Scheduled discounts and the one word for a discount's or coupon's state.
//!
//! A product may hold several discounts whose windows do not overlap, so at
//! most one applies at any instant. A new one replaces, from its start on,
//! every one whose window overlaps it: the one running (or starting before
//! the new start) is cut to end there, the ones starting inside are
//! cancelled, and those outside the new window are left alone. Nothing
//! before "now" is ever changed, so an answer for a past moment stays what
//! it was.

use super::error::DomainError;
use super::id::DiscountId;
use super::text::Actor;
use super::time::{Instant, Window};

/// When a discount or coupon was switched off, and by whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deactivation {
    pub at: Instant,
    pub by: Option<Actor>,
}

/// Whether something switched on (`is_active`) or switched off at
/// `deactivated` was still on at `at`: a price shown for a past moment uses
/// what was on then, not today's flags.
pub fn was_on_at(is_active: bool, deactivated: Option<&Deactivation>, at: Instant) -> bool {
    is_active || deactivated.is_some_and(|d| d.at > at)
}

/// Whether a discount or coupon recorded at `created_at`, switched on or
/// off as given, over `window`, applies at `at`: recorded by then (what was
/// recorded later never changes an answer for a past moment), on then, and
/// inside its window.
pub fn applies(
    created_at: Instant,
    (is_active, deactivated): (bool, Option<&Deactivation>),
    window: Window,
    at: Instant,
) -> bool {
    created_at <= at && was_on_at(is_active, deactivated, at) && window.contains(at)
}

/// A discount as the replacement rule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scheduled<'a> {
    pub id: &'a DiscountId,
    pub window: Window,
    /// Not switched off (cancelled or cleared).
    pub is_on: bool,
}

/// What setting a discount with a given window does to the others.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Replacement {
    /// Discounts cut to end at [`Replacement::cut_at`], in the order given.
    pub cut: Vec<DiscountId>,
    /// Scheduled discounts starting inside the new window, cancelled.
    pub cancelled: Vec<DiscountId>,
    /// Where the cut ones now end: the new window's start, or now if that
    /// is past.
    pub cut_at: Option<Instant>,
    /// The one that would have applied where the new window takes over:
    /// the one cut there, or one cancelled that starts exactly there.
    pub in_force: Option<DiscountId>,
}

impl Replacement {
    /// Every discount the new one replaces: cut, then cancelled.
    pub fn replaced(&self) -> Vec<DiscountId> {
        self.cut.iter().chain(&self.cancelled).cloned().collect()
    }

    /// The one in force where the new window takes over, if any: what
    /// `replaced_discount_id` reports.
    pub fn in_force(&self) -> Option<&DiscountId> {
        self.in_force.as_ref()
    }
}

/// Refuses a discount window already over at `now`: it would change
/// nothing but the record of the past. `until_field` names the flag for
/// that message and `until_typed` is what was typed there. Checked before
/// anything is read, and again by [`plan_replacement`].
pub fn check_not_over(
    window: Window,
    now: Instant,
    until_field: &'static str,
    until_typed: &str,
) -> Result<(), DomainError> {
    if window.until() <= now {
        return Err(DomainError::invalid(
            until_field,
            until_typed,
            format!("a time after now ({now}): a discount window already over changes nothing"),
        ));
    }
    Ok(())
}

/// Plans setting a discount over `window` at `now` among the product's
/// `existing` discounts. A window already over is refused (see
/// [`check_not_over`]).
pub fn plan_replacement(
    existing: &[Scheduled<'_>],
    window: Window,
    now: Instant,
    until_field: &'static str,
    until_typed: &str,
) -> Result<Replacement, DomainError> {
    check_not_over(window, now, until_field, until_typed)?;
    let cut_at = window.from().max(now);
    let mut plan = Replacement::default();
    for d in existing {
        // Switched off, over by now, or outside the new window: untouched.
        if !d.is_on || d.window.until() <= cut_at || d.window.from() >= window.until() {
            continue;
        }
        if d.window.contains(cut_at) {
            plan.in_force = Some(d.id.clone());
        }
        if d.window.from() < cut_at {
            plan.cut.push(d.id.clone());
        } else {
            plan.cancelled.push(d.id.clone());
        }
    }
    if !plan.cut.is_empty() {
        plan.cut_at = Some(cut_at);
    }
    Ok(plan)
}

/// A discount's state at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscountStatus {
    Scheduled,
    Running,
    Ended,
    Replaced,
    Cleared,
}

impl DiscountStatus {
    /// The state at `at` of a discount over `window`, switched off at
    /// `deactivated` (if it was), that another discount replaced (cut or
    /// cancelled) when `replaced`.
    pub fn at(
        window: Window,
        deactivated: Option<&Deactivation>,
        replaced: bool,
        at: Instant,
    ) -> Self {
        match deactivated {
            Some(off) if off.at <= at && replaced => return DiscountStatus::Replaced,
            Some(off) if off.at <= at => return DiscountStatus::Cleared,
            _ => {}
        }
        if at < window.from() {
            DiscountStatus::Scheduled
        } else if at < window.until() {
            DiscountStatus::Running
        } else if replaced {
            DiscountStatus::Replaced
        } else {
            DiscountStatus::Ended
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            DiscountStatus::Scheduled => "scheduled",
            DiscountStatus::Running => "running",
            DiscountStatus::Ended => "ended",
            DiscountStatus::Replaced => "replaced",
            DiscountStatus::Cleared => "cleared",
        }
    }
}

/// A coupon's state at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CouponStatus {
    Scheduled,
    Valid,
    Expired,
    Deactivated,
}

impl CouponStatus {
    pub fn at(window: Window, deactivated: Option<&Deactivation>, at: Instant) -> Self {
        if deactivated.is_some_and(|off| off.at <= at) {
            CouponStatus::Deactivated
        } else if at < window.from() {
            CouponStatus::Scheduled
        } else if at < window.until() {
            CouponStatus::Valid
        } else {
            CouponStatus::Expired
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            CouponStatus::Scheduled => "scheduled",
            CouponStatus::Valid => "valid",
            CouponStatus::Expired => "expired",
            CouponStatus::Deactivated => "deactivated",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str) -> Instant {
        Instant::parse("t", raw).unwrap()
    }

    fn window(from: &str, until: &str) -> Window {
        Window::new(at(from), at(until), "until").unwrap()
    }

    fn ids(n: u128) -> DiscountId {
        DiscountId::generate(at("2025-01-01"), n)
    }

    fn plan(existing: &[(&DiscountId, Window, bool)], new: Window, now: &str) -> Replacement {
        let existing: Vec<Scheduled<'_>> = existing
            .iter()
            .map(|&(id, window, is_on)| Scheduled { id, window, is_on })
            .collect();
        plan_replacement(&existing, new, at(now), "--until", "typed").unwrap()
    }

    #[test]
    fn next_months_promotion_leaves_this_months_running() {
        let december = ids(1);
        let plan = plan(
            &[(&december, window("2025-12-01", "2026-01-01"), true)],
            window("2026-02-01", "2026-03-01"),
            "2025-12-01",
        );
        assert_eq!(plan, Replacement::default());
        assert_eq!(plan.in_force(), None);
    }

    #[test]
    fn an_overlapping_window_cuts_the_running_one_and_cancels_those_inside() {
        let (running, inside, later, off) = (ids(1), ids(2), ids(3), ids(4));
        let plan = plan(
            &[
                (&running, window("2025-12-01", "2026-01-15"), true),
                (&inside, window("2026-01-20", "2026-01-25"), true),
                (&later, window("2026-03-01", "2026-04-01"), true),
                (&off, window("2026-01-02", "2026-01-03"), false),
            ],
            window("2026-01-01", "2026-02-01"),
            "2025-12-10",
        );
        assert_eq!(plan.cut, vec![running.clone()]);
        assert_eq!(plan.cancelled, vec![inside.clone()]);
        assert_eq!(plan.cut_at, Some(at("2026-01-01")));
        assert_eq!(plan.in_force(), Some(&running));
        assert_eq!(plan.replaced(), vec![running, inside]);
    }

    #[test]
    fn a_start_in_the_past_cuts_at_now_and_leaves_the_past_alone() {
        let (ended, running) = (ids(1), ids(2));
        let plan = plan(
            &[
                (&ended, window("2025-11-01", "2025-12-01"), true),
                (&running, window("2025-12-01", "2026-01-01"), true),
            ],
            window("2025-11-15", "2026-02-01"),
            "2025-12-10T08:00:00Z",
        );
        assert_eq!(plan.cut, vec![running]);
        assert!(plan.cancelled.is_empty());
        assert_eq!(plan.cut_at, Some(at("2025-12-10T08:00:00Z")));
    }

    /// One starting exactly where the new one does (set twice with the
    /// same start, or scheduled for the same day) is cancelled, and it is
    /// the one the new one took over from.
    #[test]
    fn one_starting_at_the_same_moment_is_cancelled_and_was_in_force() {
        let (running, scheduled) = (ids(1), ids(2));
        let now = plan(
            &[(&running, window("2025-12-01", "2026-01-01"), true)],
            window("2025-12-01", "2025-12-15"),
            "2025-12-01",
        );
        assert_eq!(now.cancelled, vec![running.clone()]);
        assert!(now.cut.is_empty());
        assert_eq!(now.in_force(), Some(&running));
        let later = plan(
            &[(&scheduled, window("2026-02-01", "2026-03-01"), true)],
            window("2026-02-01", "2026-02-10"),
            "2025-12-01",
        );
        assert_eq!(later.cancelled, vec![scheduled.clone()]);
        assert_eq!(later.in_force(), Some(&scheduled));
        // Starting inside the new window, after its start: not in force there.
        let inside = plan(
            &[(&scheduled, window("2026-02-05", "2026-03-01"), true)],
            window("2026-02-01", "2026-02-10"),
            "2025-12-01",
        );
        assert_eq!(inside.cancelled, vec![scheduled]);
        assert_eq!(inside.in_force(), None);
    }

    #[test]
    fn windows_touching_at_an_end_do_not_overlap() {
        let before = ids(1);
        let plan = plan(
            &[(&before, window("2026-01-01", "2026-02-01"), true)],
            window("2026-02-01", "2026-03-01"),
            "2025-12-01",
        );
        assert_eq!(plan, Replacement::default());
    }

    #[test]
    fn a_window_already_over_is_refused_quoting_what_was_typed() {
        let err = plan_replacement(
            &[],
            window("2025-01-01", "2025-02-01"),
            at("2025-06-01"),
            "--until",
            "-4M",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("\"-4M\""), "{err}");
        assert!(err.contains("already over"), "{err}");
    }

    #[test]
    fn a_discount_has_one_word_for_its_state() {
        let w = window("2026-01-01", "2026-02-01");
        let off = |when: &str| Deactivation {
            at: at(when),
            by: None,
        };
        let s = |deactivated: Option<&Deactivation>, replaced, when| {
            DiscountStatus::at(w, deactivated, replaced, at(when)).name()
        };
        assert_eq!(s(None, false, "2025-12-31T23:59:59.999999Z"), "scheduled");
        assert_eq!(s(None, false, "2026-01-01"), "running");
        assert_eq!(s(None, false, "2026-02-01"), "ended");
        assert_eq!(s(None, true, "2026-02-01"), "replaced");
        let cleared = off("2026-01-10");
        assert_eq!(s(Some(&cleared), false, "2026-01-09"), "running");
        assert_eq!(s(Some(&cleared), false, "2026-01-10"), "cleared");
        assert_eq!(s(Some(&cleared), true, "2026-01-10"), "replaced");
        // Cancelled before it started.
        let cancelled = off("2025-12-15");
        assert_eq!(s(Some(&cancelled), true, "2025-12-14"), "scheduled");
        assert_eq!(s(Some(&cancelled), true, "2026-01-05"), "replaced");
    }

    #[test]
    fn a_coupon_has_one_word_for_its_state() {
        let w = window("2026-01-01", "2026-02-01");
        let off = Deactivation {
            at: at("2026-01-10"),
            by: None,
        };
        let s = |deactivated: Option<&Deactivation>, when| {
            CouponStatus::at(w, deactivated, at(when)).name()
        };
        assert_eq!(s(None, "2025-12-31"), "scheduled");
        assert_eq!(s(None, "2026-01-01"), "valid");
        assert_eq!(s(None, "2026-02-01"), "expired");
        assert_eq!(s(Some(&off), "2026-01-09"), "valid");
        assert_eq!(s(Some(&off), "2026-01-10"), "deactivated");
    }

    /// `--active` keeps what applies at a moment; `status` says `running`
    /// (`valid` for a coupon) at exactly those moments, whatever the flags.
    #[test]
    fn running_and_valid_are_exactly_what_applies() {
        use crate::domain::{Coupon, Discount, Percentage, ProductId};
        let w = window("2026-01-01", "2026-02-01");
        let id = ids(1);
        let off = |when: &str| Deactivation {
            at: at(when),
            by: None,
        };
        let mut cases = Vec::new();
        for (is_active, deactivated) in [
            (true, None),
            (false, Some(off("2026-01-10"))),
            (false, Some(off("2025-12-15"))),
            (false, None),
        ] {
            for replaced_by in [None, Some(ids(2))] {
                cases.push(Discount {
                    id: id.clone(),
                    product_id: ProductId::generate(at("2025-01-01"), 3),
                    percentage: Percentage::parse("p", "10").unwrap(),
                    window: w,
                    is_active,
                    created_at: at("2025-12-01"),
                    actor: None,
                    deactivated: deactivated.clone(),
                    replaced_by,
                });
            }
        }
        for d in &cases {
            let coupon = Coupon {
                id: crate::domain::CouponId::generate(at("2025-01-01"), 4),
                user_id: crate::domain::CustomerId::parse("u", "42").unwrap(),
                code: crate::domain::CouponCode::parse("c", "CODE1").unwrap(),
                percentage: d.percentage,
                window: d.window,
                is_active: d.is_active,
                created_at: d.created_at,
                actor: None,
                deactivated: d.deactivated.clone(),
            };
            for when in [
                "2025-12-14",
                "2025-12-20",
                "2026-01-01",
                "2026-01-09T23:59:59.999999Z",
                "2026-01-10",
                "2026-01-31",
                "2026-02-01",
            ] {
                let t = at(when);
                assert_eq!(
                    d.applies_at(t),
                    d.status_at(t) == DiscountStatus::Running,
                    "{d:?} at {when}"
                );
                assert_eq!(
                    coupon.applies_at(t),
                    coupon.status_at(t) == CouponStatus::Valid,
                    "{coupon:?} at {when}"
                );
            }
        }
        // Switched off by a milly that did not record when: never applies.
        let legacy = &cases[6];
        assert_eq!(legacy.status_at(at("2026-01-05")).name(), "cleared");
        assert_eq!(cases[7].status_at(at("2026-01-05")).name(), "replaced");
    }
}
