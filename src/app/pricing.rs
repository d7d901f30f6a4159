//! The pricing service: product discount first, then the customer's coupon on
//! what is left.

use crate::domain::{Coupon, Discount, Instant, Money};

/// How a price was reached. Each discount is rounded half-up to the cent when
/// it is computed, and `final_price = price − product_discount −
/// coupon_discount`, never below zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceBreakdown {
    pub price: Money,
    pub product_discount: Money,
    pub coupon_discount: Money,
    pub final_price: Money,
}

/// Prices `price` at `at`. A discount or coupon outside its window or
/// inactive is ignored even if a caller passes it.
pub fn price_at(
    price: Money,
    discount: Option<&Discount>,
    coupon: Option<&Coupon>,
    at: Instant,
) -> PriceBreakdown {
    let product_discount = discount
        .filter(|d| d.applies_at(at))
        .map_or(Money::ZERO, |d| price.percent_of(d.percentage));
    let after_discount = price.saturating_sub(product_discount);
    let coupon_discount = coupon
        .filter(|c| c.applies_at(at))
        .map_or(Money::ZERO, |c| after_discount.percent_of(c.percentage));
    PriceBreakdown {
        price,
        product_discount,
        coupon_discount,
        final_price: after_discount.saturating_sub(coupon_discount),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::*;

    fn at(s: &str) -> Instant {
        Instant::parse("at", s).unwrap()
    }

    fn money(s: &str) -> Money {
        Money::parse_price("price", s).unwrap()
    }

    fn terms(pct: &str, from: &str, until: &str) -> (Percentage, Window) {
        let window = Window::new(at(from), at(until), "until").unwrap();
        (Percentage::parse("p", pct).unwrap(), window)
    }

    fn discount(pct: &str, from: &str, until: &str, active: bool) -> Discount {
        let (percentage, window) = terms(pct, from, until);
        let product = ProductId::generate(at(from), 2);
        let id = DiscountId::generate(at(from), 1);
        Discount {
            is_active: active,
            ..Discount::set(id, product, percentage, window, at(from), None)
        }
    }

    fn coupon(pct: &str, from: &str, until: &str) -> Coupon {
        let (percentage, window) = terms(pct, from, until);
        let holder = (
            CustomerId::parse("u", "42").unwrap(),
            CouponCode::parse("c", "SAVE").unwrap(),
        );
        let id = CouponId::generate(at(from), 3);
        Coupon::created(id, holder, percentage, window, at(from), None)
    }

    #[test]
    fn discount_then_coupon_on_the_rest() {
        let d = discount("10", "2025-01-01", "2025-02-01", true);
        let c = coupon("10", "2025-01-01", "2025-02-01");
        let p = price_at(money("20000"), Some(&d), Some(&c), at("2025-01-15"));
        assert_eq!(p.product_discount, money("2000"));
        assert_eq!(p.coupon_discount, money("1800"));
        assert_eq!(p.final_price, money("16200"));
    }

    #[test]
    fn rounds_half_up_once_per_discount() {
        let d = discount("12.5", "2025-01-01", "2025-02-01", true);
        let p = price_at(money("19.99"), Some(&d), None, at("2025-01-15"));
        assert_eq!(p.product_discount, money("2.50"));
        assert_eq!(p.final_price, money("17.49"));
    }

    #[test]
    fn ignores_discounts_outside_their_window_or_inactive() {
        let d = discount("10", "2025-01-01", "2025-02-01", true);
        assert_eq!(
            price_at(money("100"), Some(&d), None, at("2025-02-01")).final_price,
            money("100")
        );
        assert_eq!(
            price_at(money("100"), Some(&d), None, at("2024-12-31")).final_price,
            money("100")
        );
        let off = discount("10", "2025-01-01", "2025-02-01", false);
        assert_eq!(
            price_at(money("100"), Some(&off), None, at("2025-01-15")).final_price,
            money("100")
        );
    }

    #[test]
    fn a_discount_switched_off_later_still_applies_before_that() {
        let mut d = discount("10", "2025-01-01", "2025-12-01", false);
        d.deactivated = Some(Deactivation {
            at: at("2025-03-01"),
            by: None,
        });
        let final_at = |t| price_at(money("100"), Some(&d), None, at(t)).final_price;
        assert_eq!(final_at("2025-02-28"), money("90"));
        assert_eq!(final_at("2025-03-01"), money("100"));
    }

    #[test]
    fn a_full_discount_leaves_zero_not_less() {
        let d = discount("100", "2025-01-01", "2025-02-01", true);
        let c = coupon("100", "2025-01-01", "2025-02-01");
        let p = price_at(money("0.01"), Some(&d), Some(&c), at("2025-01-15"));
        assert_eq!(
            (p.product_discount, p.coupon_discount, p.final_price),
            (money("0.01"), Money::ZERO, Money::ZERO)
        );
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::*;

    fn window() -> Window {
        let at = |s| Instant::parse("at", s).unwrap();
        Window::new(at("2025-01-01"), at("2026-01-01"), "until").unwrap()
    }

    proptest! {
        #[test]
        fn final_price_is_price_minus_both_discounts_and_never_negative(
            cents in 1..=money::MAX_CENTS,
            discount_bp in proptest::option::of(1i64..=10_000),
            coupon_bp in proptest::option::of(1i64..=10_000),
        ) {
            let at = Instant::parse("at", "2025-06-01").unwrap();
            let percent = |bp| Percentage::from_basis_points(bp).unwrap();
            let discount = discount_bp.map(|bp| {
                let (id, product) = (DiscountId::generate(at, 1), ProductId::generate(at, 2));
                Discount::set(id, product, percent(bp), window(), at, None)
            });
            let holder = (
                CustomerId::parse("u", "u").unwrap(),
                CouponCode::parse("c", "CODE").unwrap(),
            );
            let coupon = coupon_bp.map(|bp| {
                let id = CouponId::generate(at, 3);
                Coupon::created(id, holder.clone(), percent(bp), window(), at, None)
            });
            let price = Money::from_cents(cents).unwrap();
            let p = price_at(price, discount.as_ref(), coupon.as_ref(), at);
            prop_assert_eq!(p.final_price.cents(), cents - p.product_discount.cents() - p.coupon_discount.cents());
            prop_assert!(p.final_price.cents() >= 0);
            prop_assert!(p.product_discount <= price);
            // The coupon applies to what the product discount left.
            let rest = price.saturating_sub(p.product_discount);
            prop_assert_eq!(p.coupon_discount, coupon.map_or(Money::ZERO, |c| rest.percent_of(c.percentage)));
        }
    }
}
