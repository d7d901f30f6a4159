//! Waiting for another process's write lock.
//!
//! SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25… ms between
//! tries, while a milly write holds the lock for about one fsync. Under
//! contention its waiters oversleep, and by the time they write, the stock
//! version they read is stale. This handler polls every 0.1–1 ms (with
//! jitter, so waiters do not wake in lock-step) until the lock timeout.
//!
//! The handler's state belongs to one connection, handed to SQLite as the
//! handler's argument: two stores open in one process (a test suite's) keep
//! their own lock timeouts. rusqlite's safe `busy_handler` takes a plain
//! function, which could only read a process-wide setting, hence the FFI.

use std::cell::Cell;
use std::ffi::{c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use rand::Rng;
use rusqlite::{ffi, Connection};

use crate::adapters::persistence::sql::LockTimeout;

/// Runs `step` again while SQLite answers "busy" without waiting, up to
/// `timeout`. SQLite skips the busy handler when waiting could deadlock:
/// several processes opening a new database at once all read it in rollback
/// mode, then race to switch it to WAL, and all but one get an immediate
/// `SQLITE_BUSY`. Trying again a moment later finds it in WAL mode.
pub fn retry_until<T>(
    timeout: LockTimeout,
    mut step: impl FnMut() -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    let started = Instant::now();
    loop {
        match step() {
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::DatabaseBusy
                    && started.elapsed() < timeout.duration() =>
            {
                std::thread::sleep(Duration::from_micros(rand::rng().random_range(500..=3_000)));
            }
            other => return other,
        }
    }
}

/// One connection's wait for a lock.
pub struct BusyWait {
    timeout: Duration,
    /// When the current wait began (SQLite counts the handler's calls per wait).
    started: Cell<Option<Instant>>,
}

/// A connection with its busy handler. The connection is declared first, so
/// it is closed before the handler's state it points to is freed.
pub struct WaitingConnection {
    pub conn: Connection,
    _wait: Box<BusyWait>,
}

impl std::ops::Deref for WaitingConnection {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl WaitingConnection {
    pub fn new(conn: Connection, timeout: LockTimeout) -> rusqlite::Result<Self> {
        let wait = Box::new(BusyWait {
            timeout: timeout.duration(),
            started: Cell::new(None),
        });
        let arg = std::ptr::from_ref::<BusyWait>(&*wait)
            .cast_mut()
            .cast::<c_void>();
        // SAFETY: the handle is this open connection's; `arg` points into a
        // box that lives as long as the connection (see the struct), and is
        // only read, on the connection's own thread.
        let rc = unsafe { ffi::sqlite3_busy_handler(conn.handle(), Some(keep_waiting), arg) };
        if rc != ffi::SQLITE_OK {
            return Err(rusqlite::Error::SqliteFailure(ffi::Error::new(rc), None));
        }
        Ok(WaitingConnection { conn, _wait: wait })
    }
}

/// Called by SQLite with the number of times it was already called for this
/// lock; returns whether to try again.
unsafe extern "C" fn keep_waiting(arg: *mut c_void, calls: c_int) -> c_int {
    // SAFETY: `arg` is the `BusyWait` registered with this handler.
    let wait = unsafe { &*arg.cast::<BusyWait>() };
    catch_unwind(AssertUnwindSafe(|| wait.keep_waiting(calls))).map_or(0, c_int::from)
}

impl BusyWait {
    fn keep_waiting(&self, calls: i32) -> bool {
        let now = Instant::now();
        if calls == 0 || self.started.get().is_none() {
            self.started.set(Some(now));
        }
        let started = self.started.get().unwrap_or(now);
        if now.duration_since(started) >= self.timeout {
            return false;
        }
        let cap_micros = (100u64 << calls.clamp(0, 3)).min(1_000);
        std::thread::sleep(Duration::from_micros(
            rand::rng().random_range(cap_micros / 2..=cap_micros),
        ));
        true
    }
}
