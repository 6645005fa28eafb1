//! Recently seen users, so a token-authenticated request needs no database round trip.
//!
//! An entry lives `ttl` (the revocation sync interval): that is already how long another
//! process's revocation may take to arrive, and a deleted user's sessions are revoked, so
//! caching adds no new window. Changes made by this process drop the entry at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::{User, UserId};

/// Most users kept. Past it the least useful entries give way one by one (quick_cache's
/// S3-FIFO: users seen once go first, users seen again stay), so a burst of new users never
/// empties the cache for the active ones.
const CAPACITY: usize = 100_000;

/// Users by id, each for `ttl` after it was read from the store.
#[derive(Debug, Clone)]
pub struct UserCache {
    entries: Arc<quick_cache::sync::Cache<UserId, (User, Instant)>>,
    ttl: Duration,
}

impl UserCache {
    /// A cache keeping each user `ttl`; a zero `ttl` caches nothing.
    pub fn new(ttl: Duration) -> UserCache {
        UserCache {
            entries: Arc::new(quick_cache::sync::Cache::new(CAPACITY)),
            ttl,
        }
    }

    pub(crate) fn get(&self, id: UserId) -> Option<User> {
        self.entries
            .get(&id)
            .filter(|(_, read_at)| read_at.elapsed() < self.ttl)
            .map(|(user, _)| user)
    }

    pub(crate) fn put(&self, user: &User) {
        if !self.ttl.is_zero() {
            self.entries.insert(user.id, (user.clone(), Instant::now()));
        }
    }

    pub(crate) fn forget(&self, id: UserId) {
        self.entries.remove(&id);
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

    #[test]
    fn past_its_capacity_the_cache_keeps_its_active_users() {
        let cache = UserCache::new(Duration::from_secs(60));
        let active = UserId(0);
        cache.put(&user(0));
        // The active user is read again and again while new users arrive, more of them
        // than the cache holds: clearing the whole cache would drop it.
        for id in 1..=(CAPACITY as i64 + CAPACITY as i64 / 2) {
            assert!(
                cache.get(active).is_some(),
                "still cached after {id} new users"
            );
            cache.put(&user(id));
        }
        assert!(
            cache.entries.len() <= CAPACITY,
            "bounded: {}",
            cache.entries.len()
        );
    }
}
