//! Requests recorded under idempotency keys.

use super::StoreError;
use crate::domain::{IdempotencyKey, Instant};

/// A write recorded under an idempotency key: what was asked and what the
/// command answered, both opaque to the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// A digest of the request (command and input), to tell a rerun from
    /// another request that reuses the key.
    pub fingerprint: String,
    /// What the command printed, to print again on a rerun.
    pub result: String,
}

/// The record of idempotent requests. Recording joins the open unit of
/// work, so that the key commits with the write it stands for.
pub trait RequestLog {
    /// The request recorded under `key`, if any. Inside a unit of work.
    fn recorded_request(&self, key: &IdempotencyKey)
        -> Result<Option<RecordedRequest>, StoreError>;

    /// Records `request` under `key`, inside the open unit of work. MUST
    /// return `Conflict` when the key is already recorded (or being
    /// recorded by a concurrent unit that then commits).
    fn record_request(
        &self,
        key: &IdempotencyKey,
        request: &RecordedRequest,
        at: Instant,
    ) -> Result<(), StoreError>;

    /// Forgets every key recorded before `before`; returns how many.
    fn prune_requests(&self, before: Instant) -> Result<u64, StoreError>;
}
