//! Recently seen users, so a token-authenticated request needs no database round trip.
//!
//! An entry lives `ttl` (the revocation sync interval): that is already how long another
//! process's revocation may take to arrive, and a deleted user's sessions are revoked, so
//! caching adds no new window. Changes made by this process drop the entry at once.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::{User, UserId};

/// Most users kept; past it the cache starts over (cheap, and rare: one entry per active
/// user per `ttl`).
const CAPACITY: usize = 100_000;

/// Users by id, each for `ttl` after it was read from the store.
#[derive(Debug, Clone)]
pub struct UserCache {
    entries: Arc<RwLock<HashMap<UserId, (User, Instant)>>>,
    ttl: Duration,
}

impl UserCache {
    /// A cache keeping each user `ttl`; a zero `ttl` caches nothing.
    pub fn new(ttl: Duration) -> UserCache {
        UserCache {
            entries: Arc::default(),
            ttl,
        }
    }

    pub(crate) fn get(&self, id: UserId) -> Option<User> {
        let entries = self
            .entries
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        entries
            .get(&id)
            .filter(|(_, read_at)| read_at.elapsed() < self.ttl)
            .map(|(user, _)| user.clone())
    }

    pub(crate) fn put(&self, user: &User) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(user.id, (user.clone(), Instant::now()));
    }

    pub(crate) fn forget(&self, id: UserId) {
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.remove(&id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: i64) -> User {
        let now = chrono::Utc::now();
        User {
            id: UserId(id),
            username: format!("u{id}"),
            password_hash: String::new(),
            created_at: now,
            updated_at: now,
            tokens_not_before: None,
        }
    }

    #[test]
    fn entries_expire_and_can_be_forgotten() {
        let cache = UserCache::new(Duration::from_secs(60));
        cache.put(&user(1));
        assert_eq!(
            cache.get(UserId(1)).map(|u| u.username),
            Some("u1".to_owned())
        );
        cache.forget(UserId(1));
        assert!(cache.get(UserId(1)).is_none());
        let expired = UserCache::new(Duration::ZERO);
        expired.put(&user(2));
        assert!(expired.get(UserId(2)).is_none());
    }
}
