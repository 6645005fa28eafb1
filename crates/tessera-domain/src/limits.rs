//! The limits on sign-in and registration, applied before any password is checked: which
//! keys an attempt counts against, and the reservations of [`crate::Throttle`].

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use crate::{Error, Limit, Throttle, Username, Verdict};

/// The limits in force.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Where the counts live.
    pub throttle: Throttle,
    /// Consecutive failed sign-ins per account before it locks; 0 turns this off.
    pub sign_in_per_account: Limit,
    /// Failed sign-ins per client address (several accounts may share one).
    pub sign_in_per_address: Limit,
    /// Registrations per client address per window.
    pub registration_per_address: Limit,
}

impl Limits {
    /// The defaults for `max_failures` consecutive failures per account and
    /// `max_registrations` registrations per address and hour; 0 turns either off.
    pub fn new(throttle: Throttle, max_failures: i32, max_registrations: i32) -> Limits {
        let sign_in = |attempts| Limit {
            attempts,
            base_delay: Duration::seconds(5),
            max_delay: Duration::minutes(15),
            window: Duration::hours(1),
        };
        Limits {
            throttle,
            sign_in_per_account: sign_in(max_failures),
            sign_in_per_address: sign_in(max_failures.saturating_mul(5)),
            registration_per_address: Limit {
                attempts: max_registrations,
                base_delay: Duration::minutes(10),
                max_delay: Duration::hours(1),
                window: Duration::hours(1),
            },
        }
    }

    /// Reserves an attempt; `Some(lock)` when this attempt locked the key.
    fn reserve(
        &self,
        key: &str,
        limit: &Limit,
        now: DateTime<Utc>,
    ) -> Result<Option<Duration>, Error> {
        match self.throttle.reserve(key, limit, now)? {
            Verdict::Allowed => Ok(None),
            Verdict::AllowedAndLocked(lock) => Ok(Some(lock)),
            Verdict::Locked(retry_after) => Err(Error::TooManyAttempts(retry_after)),
        }
    }

    /// Reserves a password check on the account and on the client's address, or fails with
    /// [`Error::TooManyAttempts`].
    pub(crate) fn reserve_sign_in(
        &self,
        username: &str,
        address: &str,
        now: DateTime<Utc>,
    ) -> Result<SignInAttempt, Error> {
        let mut attempt = SignInAttempt {
            account_key: account_key(username),
            address_key: format!("addr:{address}"),
            locked_account: None,
        };
        if let Some(lock) = self.reserve(&attempt.account_key, &self.sign_in_per_account, now)? {
            attempt.locked_account = Some(AccountLock {
                seconds: lock.num_seconds(),
                address: address.to_owned(),
            });
        }
        self.reserve(&attempt.address_key, &self.sign_in_per_address, now)?;
        Ok(attempt)
    }

    /// The password was right: the account's count starts afresh, and the address gets its
    /// reservation back (only failures count against an address).
    pub(crate) fn succeeded(&self, mut attempt: SignInAttempt) -> Result<(), Error> {
        self.throttle.clear(&attempt.account_key)?;
        // Cleared: no lockout to report.
        attempt.locked_account = None;
        Ok(self.throttle.release(&attempt.address_key)?)
    }

    /// Counts a failed service-client authentication against the client id and the
    /// caller's address (the address count is the sign-ins' own), or fails with
    /// [`Error::TooManyAttempts`] while either is locked. Only failures count: a client
    /// secret is 256 random bits, so a lock is there to slow a flood, and a right secret
    /// is never locked out — an attacker cannot shut a service out by failing in its name.
    pub(crate) fn client_failed(
        &self,
        client_id: &str,
        address: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        // Client ids have their own keys: failing as client `ann` must not lock user `ann`.
        let client_key: String = format!("client:{client_id}").chars().take(96).collect();
        if let Some(lock) = self.reserve(&client_key, &self.sign_in_per_account, now)? {
            tracing::warn!(client = ?client_key, %address, locked_for_seconds = lock.num_seconds(),
                "client locked after repeated failed authentications");
        }
        self.reserve(&format!("addr:{address}"), &self.sign_in_per_address, now)
            .map(|_lock| ())
    }

    /// Reserves a registration for the client's address.
    pub(crate) fn reserve_registration(
        &self,
        address: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let key = format!("register:{address}");
        self.reserve(&key, &self.registration_per_address, now)
            .map(|_lock| ())
    }
}

/// A password check that may go ahead; tell [`Limits::succeeded`] when it did.
///
/// When this attempt locked the account and it ends without [`Limits::succeeded`] clearing
/// the lock (a wrong password, or any error on the way), dropping it logs one `warn`: the
/// lockout is then in force, and nothing else notices it begin.
#[derive(Debug)]
pub(crate) struct SignInAttempt {
    account_key: String,
    address_key: String,
    locked_account: Option<AccountLock>,
}

/// The lock a sign-in attempt put on its account.
#[derive(Debug)]
struct AccountLock {
    seconds: i64,
    address: String,
}

impl Drop for SignInAttempt {
    fn drop(&mut self) {
        if let Some(lock) = self.locked_account.take() {
            tracing::warn!(
                account = %account_hash(&self.account_key),
                client = %lock.address,
                locked_for_seconds = lock.seconds,
                "account locked after repeated failed sign-ins"
            );
        }
    }
}

/// An account key as the log names it: the first 16 hex digits of the SHA-256 of the
/// canonical name (`printf %s ann | sha256sum | cut -c1-16`), so a lockout can be matched to
/// an account without the log holding user names.
fn account_hash(account_key: &str) -> String {
    let name = account_key.strip_prefix("user:").unwrap_or(account_key);
    Sha256::digest(name.as_bytes())
        .iter()
        .take(8)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The account key of a sign-in: the canonical name, so `Ann` and `ANN` share a count.
fn account_key(username: &str) -> String {
    let name =
        Username::parse(username).map_or_else(|_| username.to_lowercase(), |u| u.canonical());
    // Keys are bounded; a longer name is not a registered one anyway.
    let end = name
        .char_indices()
        .map(|(i, c)| i + c.len_utf8())
        .take_while(|&end| end <= 180)
        .last();
    format!("user:{}", &name[..end.unwrap_or(0)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_keys_ignore_case_and_stay_bounded() {
        assert_eq!(account_key("Ann"), account_key("ANN"));
        assert!(account_key(&"é".repeat(500)).len() <= 185);
        assert_eq!(account_key(""), "user:");
    }

    #[test]
    fn account_hashes_are_the_start_of_the_sha256_of_the_canonical_name() {
        // printf %s ann | sha256sum
        assert_eq!(account_hash(&account_key("ANN")), "49915e0d7d4b402e");
        assert_eq!(account_hash(&account_key("Ann")), account_hash("user:ann"));
    }
}
