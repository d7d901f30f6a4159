//! Idempotent writes: a command run under `--idempotency-key` applies once,
//! however often it is run.
//!
//! **The transaction boundary.** The key, a fingerprint of the request and
//! the command's result are recorded in the same transaction as the write
//! itself, so either both are committed or neither. That transaction is a
//! *unit of work* of the store ([`crate::app::ports::UnitOfWork::unit`]): the store's ordinary
//! methods join it instead of committing on their own, so
//! a use case needs no change to run inside one, and a write command that
//! goes through [`Catalog::once`] (as the command line sends every write)
//! is idempotent by construction.
//!
//! Inside the unit the use case makes a single attempt: a conflict may have
//! aborted the transaction (a deadlock, a failed certification on a Galera
//! cluster), so retrying only the failed statement is not safe. The whole
//! unit — look up the key, do the work, record the key, commit — is retried
//! instead, with the same policy as any write.
//!
//! **Concurrent runs with one key.** Each unit looks the key up first; the
//! runs that find it print the recorded result. Runs that started before
//! any had committed all do the work, but only one can record the key: the
//! others' record is a conflict (a duplicate key once the first commits, a
//! failed certification on another node), which rolls their whole unit
//! back, and their retry finds the key.

use super::Catalog;
use crate::app::error::AppError;
use crate::app::ports::{in_unit, RecordedRequest, StoreError, UnitEnd};
use crate::app::retry::{self, AttemptError, RetryPolicy};
use crate::domain::IdempotencyKey;

/// A request that carries an idempotency key.
pub struct Keyed<'k> {
    pub key: &'k IdempotencyKey,
    /// A digest of the request (the caller decides what makes two requests
    /// the same: the command, its arguments and its input).
    pub fingerprint: String,
}

/// What a write under a key produced.
pub enum Once<T> {
    /// The work ran now; its result was recorded under the key.
    Done(T),
    /// The key was recorded by an earlier run of the same request: this is
    /// what that run printed. Nothing was written.
    Replayed(String),
}

impl Catalog<'_> {
    /// Runs one write command: `work` as is without a key, or inside a unit
    /// of work that also records the key and `result(&value)` (what the
    /// command prints) when a key is given.
    pub fn once<T>(
        &self,
        keyed: Option<Keyed<'_>>,
        work: impl FnMut(&Catalog<'_>) -> Result<T, AppError>,
        result: impl Fn(&T) -> Result<String, AppError>,
    ) -> Result<Once<T>, AppError> {
        self.once_since(keyed, &[], work, result)
    }

    /// [`Catalog::once`] for a caller whose fingerprint of a request has
    /// changed: a key recorded with one of the `earlier` fingerprints of the
    /// same request replays too, so keys recorded before the change keep
    /// their meaning.
    pub fn once_since<T>(
        &self,
        keyed: Option<Keyed<'_>>,
        earlier: &[String],
        mut work: impl FnMut(&Catalog<'_>) -> Result<T, AppError>,
        result: impl Fn(&T) -> Result<String, AppError>,
    ) -> Result<Once<T>, AppError> {
        let Some(keyed) = keyed else {
            return work(self).map(Once::Done);
        };
        let single = Catalog {
            retry: RetryPolicy {
                attempts: 1,
                ..self.retry
            },
            ..self.clone()
        };
        let outcome = retry::on_conflict(&self.retry, || {
            in_unit(self.stores.units, || {
                let once = self.unit(&keyed, earlier, &single, &mut work, &result)?;
                // A replay wrote nothing and must keep nothing.
                let end = match once {
                    Once::Done(_) => UnitEnd::Commit,
                    Once::Replayed(_) => UnitEnd::Rollback,
                };
                Ok::<_, AttemptError>((once, end))
            })
        })?;
        Ok(outcome.value)
    }

    fn unit<T>(
        &self,
        keyed: &Keyed<'_>,
        earlier: &[String],
        single: &Catalog<'_>,
        work: &mut impl FnMut(&Catalog<'_>) -> Result<T, AppError>,
        result: &impl Fn(&T) -> Result<String, AppError>,
    ) -> Result<Once<T>, AttemptError> {
        if let Some(recorded) = self.stores.requests.recorded_request(keyed.key)? {
            if recorded.fingerprint == keyed.fingerprint || earlier.contains(&recorded.fingerprint)
            {
                return Ok(Once::Replayed(recorded.result));
            }
            return Err(AttemptError::Fatal(AppError::Rejected {
                code: "idempotency_key_reused",
                message: format!(
                    "idempotency key {} was already used for a different request; use a new key for a new request",
                    keyed.key
                ),
            }));
        }
        let value = work(single).map_err(|e| match e {
            // The single attempt lost a race: run the whole unit again.
            AppError::Conflict { .. } => {
                AttemptError::Conflict(StoreError::Conflict("inside a unit of work".into()))
            }
            other => AttemptError::Fatal(other),
        })?;
        let request = RecordedRequest {
            fingerprint: keyed.fingerprint.clone(),
            result: result(&value)?,
        };
        self.stores
            .requests
            .record_request(keyed.key, &request, self.clock.now())?;
        Ok(Once::Done(value))
    }

    /// `db prune-keys`: forgets keys recorded more than `days` days ago.
    pub fn prune_keys(&self, days: u32) -> Result<u64, AppError> {
        let before = self.clock.now().plus_days(-i64::from(days));
        Ok(self.stores.requests.prune_requests(before)?)
    }
}
