use super::{random_bits, Catalog};
use crate::app::error::AppError;
use crate::app::ports::StoreError;
use crate::app::retry::{self, AttemptError};
use crate::domain::{Coupon, CouponCode, CouponId, CustomerId, Moment, Percentage, Window};

pub struct CreateCoupon {
    pub user_id: CustomerId,
    pub percentage: Percentage,
    /// Start of validity; now if `None`.
    pub valid_from: Option<Moment>,
    /// End of validity (exclusive); must be after the start.
    pub valid_to: Moment,
    /// The code to hand the customer; a random one if `None`.
    pub code: Option<CouponCode>,
}

/// Generated codes: 10 characters from an alphabet without look-alikes.
pub(super) fn generated_code() -> CouponCode {
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTVWXYZ23456789";
    let mut bits = random_bits();
    let code: String = (0..10)
        .map(|_| {
            let c = ALPHABET[(bits % ALPHABET.len() as u128) as usize] as char;
            bits /= ALPHABET.len() as u128;
            c
        })
        .collect();
    CouponCode::parse("generated code", &code).expect("generated codes are valid")
}

impl Catalog<'_> {
    /// Creates a coupon for one customer. A code the operator chose that is
    /// taken is refused; a generated one that collides (about one chance in
    /// 10^14) is simply drawn again.
    pub fn create_coupon(&self, input: CreateCoupon) -> Result<Coupon, AppError> {
        let now = self.clock.now();
        let window = Window::typed(
            self.resolve(input.valid_from.as_ref())?,
            input.valid_to.resolve(now)?,
            "--valid-to",
            input.valid_to.typed(),
        )?;
        let draws = if input.code.is_some() { 1 } else { 3 };
        let mut last_error = None;
        for _ in 0..draws {
            let holder = (
                input.user_id.clone(),
                input.code.clone().unwrap_or_else(generated_code),
            );
            let coupon = Coupon::created(
                CouponId::generate(now, random_bits()),
                holder,
                input.percentage,
                window,
                now,
                self.actor(),
            );
            // A conflict (the same code written on another node of a Galera
            // cluster at the same moment fails certification) is retried:
            // the retry then sees the other coupon and reports the code as
            // taken.
            let written = retry::on_conflict(&self.retry, || {
                match self.stores.coupons.create_coupon(&coupon) {
                    Ok(()) => Ok(Ok(())),
                    Err(e @ StoreError::DuplicateCouponCode(_)) => Ok(Err(e)),
                    Err(e) => Err(AttemptError::from(e)),
                }
            })?;
            match written.value {
                Ok(()) => return Ok(coupon),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.expect("at least one draw").into())
    }
}
