//! Retry with exponential backoff and full jitter.
//!
//! Optimistic locking trades locks for retries; the jitter spreads the
//! retrying writers out so they do not collide again in lock-step.

use std::time::Duration;

use rand::Rng;

use super::error::AppError;
use super::ports::StoreError;

/// How hard to try before giving up with a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts, including the first (at least 1).
    pub attempts: u32,
    /// The cap of the first wait; each further wait doubles the cap.
    pub base_delay: Duration,
    /// No single wait exceeds this.
    pub max_delay: Duration,
}

impl RetryPolicy {
    pub const DEFAULT_ATTEMPTS: u32 = 30;
    pub const DEFAULT_BASE_DELAY_MS: u64 = 2;
    pub const DEFAULT_MAX_DELAY_MS: u64 = 100;

    /// The wait before attempt `attempt + 1`: uniformly random between zero
    /// and `min(max_delay, base_delay × 2^(attempt-1))` ("full jitter").
    pub fn delay_after(&self, attempt: u32, rng: &mut impl Rng) -> Duration {
        let exponent = attempt.saturating_sub(1).min(20);
        let cap = self
            .base_delay
            .saturating_mul(1u32 << exponent)
            .min(self.max_delay);
        let cap_micros = cap.as_micros() as u64;
        if cap_micros == 0 {
            Duration::ZERO
        } else {
            Duration::from_micros(rng.random_range(0..=cap_micros))
        }
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: Self::DEFAULT_ATTEMPTS,
            base_delay: Duration::from_millis(Self::DEFAULT_BASE_DELAY_MS),
            max_delay: Duration::from_millis(Self::DEFAULT_MAX_DELAY_MS),
        }
    }
}

/// What a retried operation produced, and how many attempts it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retried<T> {
    pub value: T,
    pub attempts: u32,
}

/// The outcome of one attempt: a store conflict is retried, anything else ends
/// the loop.
pub enum AttemptError {
    Conflict(StoreError),
    Fatal(AppError),
}

impl From<StoreError> for AttemptError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(_) => AttemptError::Conflict(e),
            other => AttemptError::Fatal(other.into()),
        }
    }
}

impl From<AppError> for AttemptError {
    fn from(e: AppError) -> Self {
        AttemptError::Fatal(e)
    }
}

/// Runs `attempt` until it succeeds, fails for a reason other than a
/// conflict, or `policy.attempts` are used up (then `AppError::Conflict`).
pub fn on_conflict<T>(
    policy: &RetryPolicy,
    mut attempt: impl FnMut() -> Result<T, AttemptError>,
) -> Result<Retried<T>, AppError> {
    let attempts = policy.attempts.max(1);
    let mut rng = rand::rng();
    for n in 1..=attempts {
        match attempt() {
            Ok(value) => return Ok(Retried { value, attempts: n }),
            Err(AttemptError::Fatal(e)) => return Err(e),
            Err(AttemptError::Conflict(_)) if n < attempts => {
                std::thread::sleep(policy.delay_after(n, &mut rng));
            }
            Err(AttemptError::Conflict(_)) => break,
        }
    }
    Err(AppError::Conflict { attempts })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(attempts: u32) -> RetryPolicy {
        RetryPolicy {
            attempts,
            base_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
        }
    }

    #[test]
    fn retries_conflicts_until_success() {
        let mut calls = 0;
        let out = on_conflict(&policy(5), || {
            calls += 1;
            if calls < 3 {
                Err(StoreError::Conflict("taken".into()).into())
            } else {
                Ok(calls)
            }
        })
        .unwrap();
        assert_eq!(
            out,
            Retried {
                value: 3,
                attempts: 3
            }
        );
    }

    #[test]
    fn gives_up_with_a_conflict_after_the_last_attempt() {
        let mut calls = 0;
        let err = on_conflict::<()>(&policy(4), || {
            calls += 1;
            Err(StoreError::Conflict("taken".into()).into())
        })
        .unwrap_err();
        assert_eq!(err, AppError::Conflict { attempts: 4 });
        assert_eq!(calls, 4);
    }

    #[test]
    fn does_not_retry_other_failures() {
        let mut calls = 0;
        let err = on_conflict::<()>(&policy(4), || {
            calls += 1;
            Err(StoreError::Unavailable("gone".into()).into())
        })
        .unwrap_err();
        assert_eq!(err, AppError::Unavailable("gone".into()));
        assert_eq!(calls, 1);
    }

    #[test]
    fn delays_grow_exponentially_up_to_the_cap() {
        let p = RetryPolicy {
            attempts: 10,
            base_delay: Duration::from_millis(4),
            max_delay: Duration::from_millis(50),
        };
        let mut rng = rand::rng();
        for _ in 0..200 {
            assert!(p.delay_after(1, &mut rng) <= Duration::from_millis(4));
            assert!(p.delay_after(3, &mut rng) <= Duration::from_millis(16));
            assert!(p.delay_after(9, &mut rng) <= Duration::from_millis(50));
        }
        // Full jitter: over many draws the waits are spread, not constant.
        let draws: std::collections::HashSet<_> =
            (0..50).map(|_| p.delay_after(5, &mut rng)).collect();
        assert!(draws.len() > 10);
    }
}
