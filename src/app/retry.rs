//! Retry with exponential backoff and full jitter.
//!
//! Optimistic locking trades locks for retries; the jitter spreads the
//! retrying writers out so they do not collide again in lock-step.

use std::time::{Duration, Instant};

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
    /// How long all attempts together may take (the command line passes
    /// `--lock-timeout-ms`): once spent, no further attempt starts, so lock
    /// waits that end in conflicts cannot add up to attempts × the lock
    /// timeout. `None`: only `attempts` limits.
    pub time_budget: Option<Duration>,
}

impl RetryPolicy {
    pub const DEFAULT_ATTEMPTS: u32 = 30;
    pub const DEFAULT_BASE_DELAY_MS: u64 = 2;
    pub const DEFAULT_MAX_DELAY_MS: u64 = 100;

    /// The longest wait after attempt `attempt` (counting from 1):
    /// `min(max_delay, base_delay × 2^(attempt-1))`. Kept apart from the
    /// random draw so that the growth itself can be checked exactly.
    pub fn delay_cap(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(20);
        self.base_delay
            .saturating_mul(1u32 << exponent)
            .min(self.max_delay)
    }

    /// The wait before attempt `attempt + 1`: uniformly random between zero
    /// and `delay_cap(attempt)` ("full jitter").
    pub fn delay_after(&self, attempt: u32, rng: &mut impl Rng) -> Duration {
        let cap_micros = self.delay_cap(attempt).as_micros() as u64;
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
            time_budget: None,
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
/// conflict, or `policy.attempts` or `policy.time_budget` are used up (then
/// `AppError::Conflict` with the attempts made).
pub fn on_conflict<T>(
    policy: &RetryPolicy,
    mut attempt: impl FnMut() -> Result<T, AttemptError>,
) -> Result<Retried<T>, AppError> {
    let attempts = policy.attempts.max(1);
    let deadline = policy.time_budget.map(|b| Instant::now() + b);
    let mut rng = rand::rng();
    let mut n = 0;
    while n < attempts {
        n += 1;
        match attempt() {
            Ok(value) => return Ok(Retried { value, attempts: n }),
            Err(AttemptError::Fatal(e)) => return Err(e),
            Err(AttemptError::Conflict(_)) => {
                let delay = policy.delay_after(n, &mut rng);
                if deadline.is_some_and(|d| Instant::now() + delay >= d) {
                    break;
                }
                if n < attempts {
                    std::thread::sleep(delay);
                }
            }
        }
    }
    Err(AppError::Conflict { attempts: n })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(attempts: u32) -> RetryPolicy {
        RetryPolicy {
            attempts,
            base_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
            time_budget: None,
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
    fn stops_retrying_once_the_time_budget_is_spent() {
        let conflicts = |budget: Duration| {
            let mut calls = 0;
            let policy = RetryPolicy {
                time_budget: Some(budget),
                ..policy(1000)
            };
            let err = on_conflict::<()>(&policy, || {
                calls += 1;
                Err(StoreError::Conflict("locked".into()).into())
            })
            .unwrap_err();
            assert_eq!(err, AppError::Conflict { attempts: calls });
            calls
        };
        // Spent by the first attempt: no second one.
        assert_eq!(conflicts(Duration::ZERO), 1);
        // A budget that is not reached leaves the attempts as the limit.
        assert_eq!(conflicts(Duration::from_secs(3600)), 1000);
    }

    #[test]
    fn the_delay_cap_doubles_per_attempt_up_to_the_maximum() {
        let p = RetryPolicy {
            attempts: 10,
            base_delay: Duration::from_millis(4),
            max_delay: Duration::from_millis(50),
            time_budget: None,
        };
        let caps: Vec<u64> = (1..=7).map(|n| p.delay_cap(n).as_millis() as u64).collect();
        assert_eq!(caps, [4, 8, 16, 32, 50, 50, 50]);
        // Far past the exponent limit the cap stays at the maximum.
        assert_eq!(p.delay_cap(u32::MAX), Duration::from_millis(50));
    }

    #[test]
    fn waits_are_drawn_up_to_each_attempts_cap() {
        use rand::SeedableRng;
        let p = RetryPolicy {
            attempts: 10,
            base_delay: Duration::from_millis(4),
            max_delay: Duration::from_millis(50),
            time_budget: None,
        };
        // Seeded, so the draws (and this test) are the same on every run.
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for attempt in 1..=6 {
            let cap = p.delay_cap(attempt);
            let draws: Vec<Duration> = (0..400).map(|_| p.delay_after(attempt, &mut rng)).collect();
            let longest = *draws.iter().max().unwrap();
            assert!(longest <= cap, "attempt {attempt}: {longest:?} > {cap:?}");
            // The waits use the whole range: near the cap, and spread out.
            assert!(
                longest > cap * 9 / 10,
                "attempt {attempt}: longest {longest:?} of {cap:?}"
            );
            let distinct: std::collections::HashSet<_> = draws.iter().collect();
            assert!(
                distinct.len() > 100,
                "attempt {attempt}: waits are not spread"
            );
        }
    }

    #[test]
    fn no_wait_when_the_base_delay_is_zero() {
        let mut rng = rand::rng();
        assert_eq!(policy(3).delay_after(2, &mut rng), Duration::ZERO);
    }
}
