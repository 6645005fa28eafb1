//! Limits on password guessing and registration floods.
//!
//! Every attempt first *reserves* a slot on its keys (the account's name and the client's
//! address) by a compare-and-set in the database, and only then is the password checked.
//! So parallel attempts cannot slip past a limit: at most `limit` attempts are ever
//! checked before the key locks. A lock lasts `base_delay`, doubling with each further
//! failure up to `max_delay`; then one attempt is allowed again. A success clears the
//! account's count. Counts older than `window` start afresh.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::StoreError;

/// One key's count as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleState {
    /// Attempts counted since the last success (or since the count started afresh).
    pub attempts: i32,
    /// Until when attempts on this key are refused.
    pub locked_until: Option<DateTime<Utc>>,
    /// When the count last changed.
    pub updated_at: DateTime<Utc>,
}

/// Storage of the counts. Implemented by `tessera-store`.
pub trait ThrottleRepository: Send + Sync + 'static {
    /// The count of `key`, if any.
    fn throttle_state(&self, key: &str) -> Result<Option<ThrottleState>, StoreError>;
    /// Creates the count of `key`; `false` when another request created it first.
    fn insert_throttle_state(&self, key: &str, state: &ThrottleState) -> Result<bool, StoreError>;
    /// Replaces the count of `key` when it still has `expected_attempts`; `false` otherwise.
    fn replace_throttle_state(
        &self,
        key: &str,
        expected_attempts: i32,
        state: &ThrottleState,
    ) -> Result<bool, StoreError>;
    /// Forgets the count of `key`.
    fn delete_throttle_state(&self, key: &str) -> Result<(), StoreError>;
    /// Forgets counts unchanged since `before`; returns how many.
    fn delete_throttle_states_before(&self, before: DateTime<Utc>) -> Result<usize, StoreError>;
}

/// The limits of one kind of key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Attempts allowed before the key locks; 0 turns the limit off.
    pub attempts: i32,
    /// The first lock's length; it doubles with every further failure.
    pub base_delay: Duration,
    /// The longest lock: a user is never locked out for longer than this at a time.
    pub max_delay: Duration,
    /// A count unchanged this long starts afresh.
    pub window: Duration,
}

/// What a reservation found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The attempt may go ahead.
    Allowed,
    /// The attempt may go ahead, and it reached the limit: the key is locked for this long
    /// from now (unless a success clears it).
    AllowedAndLocked(Duration),
    /// Refused; try again after this long.
    Locked(Duration),
}

/// Compare-and-set retries before giving up on a hotly contended key.
const MAX_RETRIES: usize = 32;

/// The limits, over their storage.
#[derive(Clone)]
pub struct Throttle {
    repository: Arc<dyn ThrottleRepository>,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Throttle")
    }
}

impl Limit {
    fn lock_for(&self, attempts: i32) -> Duration {
        // The attempt that reaches the limit locks for base_delay; each one after doubles it.
        let doublings = u32::try_from(attempts.saturating_sub(self.attempts))
            .unwrap_or(0)
            .min(20);
        (self.base_delay * 2_i32.pow(doublings)).min(self.max_delay)
    }
}

impl Throttle {
    /// Limits kept in `repository`.
    pub fn new(repository: Arc<dyn ThrottleRepository>) -> Throttle {
        Throttle { repository }
    }

    /// Reserves one attempt on `key`: counts it, and locks the key when this attempt
    /// reaches the limit ([`Verdict::AllowedAndLocked`]). Refuses while the key is locked.
    pub fn reserve(
        &self,
        key: &str,
        limit: &Limit,
        now: DateTime<Utc>,
    ) -> Result<Verdict, StoreError> {
        if limit.attempts <= 0 {
            return Ok(Verdict::Allowed);
        }
        for _ in 0..MAX_RETRIES {
            let current = self.repository.throttle_state(key)?;
            let fresh = current.filter(|state| now - state.updated_at < limit.window);
            if let Some(locked_until) = fresh.and_then(|state| state.locked_until) {
                if locked_until > now {
                    return Ok(Verdict::Locked(locked_until - now));
                }
            }
            let attempts = fresh.map_or(0, |state| state.attempts) + 1;
            let next = ThrottleState {
                attempts,
                locked_until: (attempts >= limit.attempts).then(|| now + limit.lock_for(attempts)),
                updated_at: now,
            };
            let stored = match current {
                None => self.repository.insert_throttle_state(key, &next)?,
                Some(state) => {
                    self.repository
                        .replace_throttle_state(key, state.attempts, &next)?
                }
            };
            if stored {
                return Ok(match next.locked_until {
                    Some(until) => Verdict::AllowedAndLocked(until - now),
                    None => Verdict::Allowed,
                });
            }
        }
        // So contended that no reservation got through: refuse rather than check unbounded.
        Ok(Verdict::Locked(limit.base_delay))
    }

    /// Gives back one reserved attempt that turned out not to be a failure (a successful
    /// sign-in, counted on the client address): the count goes down by one, any lock stays.
    pub fn release(&self, key: &str) -> Result<(), StoreError> {
        for _ in 0..MAX_RETRIES {
            let Some(state) = self.repository.throttle_state(key)? else {
                return Ok(());
            };
            if state.attempts <= 0 {
                return Ok(());
            }
            let next = ThrottleState {
                attempts: state.attempts - 1,
                ..state
            };
            if self
                .repository
                .replace_throttle_state(key, state.attempts, &next)?
            {
                return Ok(());
            }
        }
        Ok(())
    }

    /// A successful sign-in: the account's count starts afresh.
    pub fn clear(&self, key: &str) -> Result<(), StoreError> {
        self.repository.delete_throttle_state(key)
    }

    /// Forgets counts older than `window`.
    pub fn forget_before(&self, before: DateTime<Utc>) -> Result<usize, StoreError> {
        self.repository.delete_throttle_states_before(before)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_grow_and_are_capped() {
        let limit = Limit {
            attempts: 10,
            base_delay: Duration::seconds(5),
            max_delay: Duration::minutes(15),
            window: Duration::hours(1),
        };
        assert_eq!(limit.lock_for(10), Duration::seconds(5));
        assert_eq!(limit.lock_for(11), Duration::seconds(10));
        assert_eq!(limit.lock_for(13), Duration::seconds(40));
        assert_eq!(limit.lock_for(1000), Duration::minutes(15));
    }
}
