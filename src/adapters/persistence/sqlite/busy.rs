//! Waiting for another process's write lock.
//!
//! SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25… ms between
//! tries, while a milly write holds the lock for about one fsync. Under
//! contention its waiters oversleep, and by the time they write, the stock
//! version they read is stale. This handler polls every 0.1–1 ms (with
//! jitter, so waiters do not wake in lock-step) until the lock timeout.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::Rng;
use rusqlite::Connection;

/// The lock timeout of this process's connection (one per process).
static TIMEOUT_MICROS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// When the current wait began (SQLite counts the handler's calls per wait).
    static WAIT_STARTED: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Runs `step` again while SQLite answers "busy" without waiting, up to
/// `timeout`. SQLite skips the busy handler when waiting could deadlock:
/// several processes opening a new database at once all read it in rollback
/// mode, then race to switch it to WAL, and all but one get an immediate
/// `SQLITE_BUSY`. Trying again a moment later finds it in WAL mode.
pub fn retry_until<T>(
    timeout: Duration,
    mut step: impl FnMut() -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    let started = Instant::now();
    loop {
        match step() {
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::DatabaseBusy && started.elapsed() < timeout =>
            {
                std::thread::sleep(Duration::from_micros(rand::rng().random_range(500..=3_000)));
            }
            other => return other,
        }
    }
}

pub fn wait_up_to(conn: &Connection, timeout: Duration) -> rusqlite::Result<()> {
    TIMEOUT_MICROS.store(timeout.as_micros() as u64, Ordering::Relaxed);
    conn.busy_handler(Some(keep_waiting))
}

/// Called by SQLite with the number of times it was already called for this
/// lock; returns whether to try again.
fn keep_waiting(calls: i32) -> bool {
    let now = Instant::now();
    let started = WAIT_STARTED.with(|s| {
        if calls == 0 || s.get().is_none() {
            s.set(Some(now));
        }
        s.get().unwrap_or(now)
    });
    let timeout = Duration::from_micros(TIMEOUT_MICROS.load(Ordering::Relaxed));
    if now.duration_since(started) >= timeout {
        return false;
    }
    let cap_micros = (100u64 << calls.clamp(0, 3)).min(1_000);
    std::thread::sleep(Duration::from_micros(
        rand::rng().random_range(cap_micros / 2..=cap_micros),
    ));
    true
}
