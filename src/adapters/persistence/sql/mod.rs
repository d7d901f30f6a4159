//! What both SQL backends share.

use std::time::Duration;

/// `--lock-timeout-ms`: how long a statement may wait for another writer's
/// lock. Each store carries its own, so stores opened side by side in one
/// process (a test suite's) do not share one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockTimeout(Duration);

impl LockTimeout {
    pub fn new(wait: Duration) -> Self {
        LockTimeout(wait)
    }

    pub fn duration(self) -> Duration {
        self.0
    }

    /// The timeout in whole seconds, rounded up, at least one. MySQL's and
    /// MariaDB's lock waits (`innodb_lock_wait_timeout`, `lock_wait_timeout`,
    /// MariaDB's `WAIT n`) all count whole seconds; MariaDB's fractional
    /// `max_statement_time` bounds a statement's whole run, not its wait for
    /// a lock, so it cannot stand in. A server therefore waits up to a
    /// second longer than asked, never shorter.
    pub fn whole_seconds(self) -> u64 {
        self.0.as_millis().div_ceil(1000).max(1) as u64
    }
}
