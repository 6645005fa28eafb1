use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;

use crate::{
    Error, HashError, NewUser, Password, PasswordHasher, SessionId, User, UserId, UserRepository,
    Username,
};

/// How long the store's answer to "are there SHA-crypt hashes?" is trusted.
const LEGACY_SAMPLE_TTL: Duration = Duration::from_secs(600);
/// The prefixes of the Flask tutorial's hashes, most expensive first.
const LEGACY_PREFIXES: [&str; 2] = ["$6$", "$5$"];

/// The credential rules: creating an account, checking a password (with equal work for
/// unknown users and rehash-on-sign-in), setting one, deleting an account. [`crate::Auth`]
/// builds every use case on these; they are synchronous and may block on the store or on
/// bcrypt.
#[derive(Clone)]
pub struct Accounts {
    users: Arc<dyn UserRepository>,
    hasher: PasswordHasher,
    legacy_sample: Arc<Mutex<LegacySample>>,
}

/// One SHA-crypt hash from the store (or none), remembered for [`LEGACY_SAMPLE_TTL`]: failed
/// sign-ins do the work of verifying such a hash as well as a bcrypt one, while any remain.
#[derive(Debug, Default)]
struct LegacySample {
    checked_at: Option<Instant>,
    hash: Option<String>,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts")
            .field("hasher", &self.hasher)
            .finish_non_exhaustive()
    }
}

impl Accounts {
    /// Use cases over the given store and hasher.
    pub fn new(users: Arc<dyn UserRepository>, hasher: PasswordHasher) -> Accounts {
        Accounts {
            users,
            hasher,
            legacy_sample: Arc::default(),
        }
    }

    /// The store, for callers that only read.
    pub fn users(&self) -> &dyn UserRepository {
        self.users.as_ref()
    }

    /// The password hasher.
    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    /// Creates an account. The username is checked before the password (which must not be
    /// the username), and a taken name is reported by the store's unique constraint, not by
    /// a check-then-insert.
    pub fn register(&self, username: &str, password: &str) -> Result<User, Error> {
        let username = Username::parse(username)?;
        let password = Password::parse_for(password, &username)?;
        let password_hash = self.hasher.hash(&password)?;
        let new_user = NewUser {
            username: &username,
            password_hash: &password_hash,
            created_at: Utc::now(),
        };
        Ok(self.users.insert_user(&new_user)?)
    }

    /// Checks a username and password. Unknown users cost the same work as a wrong
    /// password and fail with the same error. A hash in an older scheme or cost (including
    /// the Flask tutorial's SHA-crypt) is replaced after a successful check, by a
    /// compare-and-swap that never overwrites a concurrent password change.
    ///
    /// Equal work: while SHA-crypt hashes remain in the store, every *failed* sign-in does
    /// the work of one bcrypt and one SHA-crypt verification, whether the name is unknown,
    /// has a bcrypt hash or a SHA-crypt one; successful sign-ins do only their own.
    ///
    /// A stored hash in no supported format refuses the sign-in like a wrong password, with
    /// a warning in the log naming the user id. A candidate over the password bound
    /// ([`Password::check_candidate`]) is refused before anything is hashed.
    pub fn authenticate(&self, username: &str, password: &str) -> Result<User, Error> {
        Password::check_candidate(password)?;
        let user = match Username::parse(username) {
            Ok(username) => self.users.find_by_username(&username)?,
            Err(_) => None,
        };
        let legacy_sample = self.legacy_sample(user.as_ref());
        let Some(user) = user else {
            self.hasher.verify_dummy(password);
            self.pad_like(password, legacy_sample.as_deref());
            return Err(Error::InvalidCredentials);
        };
        match self.hasher.verify(password, &user.password_hash) {
            Ok(true) => {}
            Ok(false) => {
                if matches!(self.hasher.scheme(&user.password_hash), Ok(scheme) if scheme.is_crypt())
                {
                    self.hasher.verify_dummy(password);
                } else {
                    self.pad_like(password, legacy_sample.as_deref());
                }
                return Err(Error::InvalidCredentials);
            }
            Err(error) => {
                tracing::warn!(
                    user_id = %user.id,
                    %error,
                    "sign-in refused: the stored password hash is in no supported format; \
                     set a new password with `tessera users set-password`"
                );
                self.hasher.verify_dummy(password);
                self.pad_like(password, legacy_sample.as_deref());
                return Err(Error::InvalidCredentials);
            }
        }
        if self.hasher.needs_rehash(&user.password_hash) {
            return self.rehash(user, password);
        }
        Ok(user)
    }

    /// The hash of `user`'s new password, once it meets the policy (and is not the
    /// username): checked before anything changes.
    pub fn new_password_hash(&self, user: &User, new_password: &str) -> Result<String, Error> {
        let password = match Username::parse(&user.username) {
            Ok(username) => Password::parse_for(new_password, &username)?,
            Err(_) => Password::parse(new_password)?,
        };
        Ok(self.hasher.hash(&password)?)
    }

    /// Stores `password_hash` (from [`Accounts::new_password_hash`]) as `user`'s; in the same
    /// store transaction every session but `keep` ends and older session-less tokens stop
    /// working.
    pub fn set_password_hash(
        &self,
        id: UserId,
        password_hash: &str,
        keep: Option<&SessionId>,
    ) -> Result<(), Error> {
        if self
            .users
            .update_password_hash(id, password_hash, Utc::now(), keep)?
        {
            Ok(())
        } else {
            Err(Error::UserNotFound)
        }
    }

    /// Ends `user`'s session-less tokens issued until `at`.
    pub fn end_session_less_tokens(
        &self,
        id: UserId,
        at: chrono::DateTime<Utc>,
    ) -> Result<(), Error> {
        if self.users.set_tokens_not_before(id, at)? {
            Ok(())
        } else {
            Err(Error::UserNotFound)
        }
    }

    /// Deletes a user.
    pub fn delete(&self, id: UserId) -> Result<(), Error> {
        if self.users.delete_user(id)? {
            Ok(())
        } else {
            Err(Error::UserNotFound)
        }
    }

    /// Finds a user by id.
    pub fn find(&self, id: UserId) -> Result<User, Error> {
        self.users.find_by_id(id)?.ok_or(Error::UserNotFound)
    }

    /// Finds a user by name (regardless of case).
    pub fn find_by_username(&self, username: &str) -> Result<User, Error> {
        let username = Username::parse(username).map_err(|_| Error::UserNotFound)?;
        self.users
            .find_by_username(&username)?
            .ok_or(Error::UserNotFound)
    }

    /// Replaces the verified `user`'s hash by one in the current scheme, unless it changed
    /// since it was read: then what is stored now decides (a concurrent sign-in stored a hash
    /// of the same password; a password change stored another).
    fn rehash(&self, user: User, password: &str) -> Result<User, Error> {
        // The password verified, so it is the user's; it may predate the current policy,
        // which is why it is hashed without being parsed as a new `Password`.
        let password_hash = self.hasher.hash_unchecked(password)?;
        let now = Utc::now();
        if self
            .users
            .replace_password_hash(user.id, &user.password_hash, &password_hash, now)?
        {
            return Ok(User {
                password_hash,
                updated_at: now,
                ..user
            });
        }
        let current = self
            .users
            .find_by_id(user.id)?
            .ok_or(Error::InvalidCredentials)?;
        match self.hasher.verify(password, &current.password_hash) {
            Ok(true) => Ok(current),
            Ok(false) | Err(HashError::UnknownFormat) => Err(Error::InvalidCredentials),
            Err(other) => Err(other.into()),
        }
    }

    /// The extra work of a failed sign-in while SHA-crypt hashes remain: see
    /// [`Accounts::authenticate`].
    fn pad_like(&self, password: &str, legacy_sample: Option<&str>) {
        if let Some(sample) = legacy_sample {
            self.hasher.verify_dummy_like(password, sample);
        }
    }

    /// A SHA-crypt hash from the store, if any remain; asked again after
    /// [`LEGACY_SAMPLE_TTL`]. The user at hand, when theirs is one, answers at once.
    fn legacy_sample(&self, user: Option<&User>) -> Option<String> {
        let is_crypt = |hash: &str| matches!(self.hasher.scheme(hash), Ok(s) if s.is_crypt());
        {
            let mut cache = self
                .legacy_sample
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if cache.hash.is_none() {
                if let Some(user) = user.filter(|u| is_crypt(&u.password_hash)) {
                    cache.hash = Some(user.password_hash.clone());
                }
            }
            let fresh = cache
                .checked_at
                .is_some_and(|at| at.elapsed() < LEGACY_SAMPLE_TTL);
            if fresh {
                return cache.hash.clone();
            }
        }
        // Asked without holding the lock; two threads asking at once is harmless.
        let found = LEGACY_PREFIXES.iter().try_fold(None, |found, prefix| {
            if found.is_some() {
                return Ok(found);
            }
            self.users.find_password_hash_with_prefix(prefix)
        });
        let mut cache = self
            .legacy_sample
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cache.checked_at = Some(Instant::now());
        match found {
            Ok(found) => cache.hash = found.filter(|hash| is_crypt(hash)),
            Err(error) => {
                tracing::warn!(%error, "cannot tell whether SHA-crypt hashes remain; asking later");
            }
        }
        cache.hash.clone()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use chrono::{DateTime, Utc};

    use super::*;
    use crate::{HashWorkCount, ImportOutcome, ImportedUser, StoreError};

    const PASSWORD: &str = "correct horse battery staple";
    // passlib: sha512_crypt.using(rounds=1000, salt="saltstringsaltst").hash(PASSWORD)
    const SHA512_CRYPT: &str = "$6$rounds=1000$saltstringsaltst$nXN191qkTCuB18FhSVNLEuVeo3vnUjKoWfZrZQq8zfAVWCF0OoM1/rKAVqSmNx5E4udezOEL78fROp070zqFZ.";

    type Hook = Box<dyn FnOnce(&mut Vec<User>) + Send>;

    /// Users in memory; `before_replace` runs inside the next compare-and-swap, as a
    /// concurrent writer would.
    #[derive(Default)]
    struct Memory {
        users: Mutex<Vec<User>>,
        before_replace: Mutex<Option<Hook>>,
        prefix_lookups: AtomicUsize,
    }

    impl Memory {
        fn with(users: &[(&str, &str)]) -> Arc<Memory> {
            let memory = Memory::default();
            for (i, (name, hash)) in users.iter().enumerate() {
                memory.users.lock().unwrap().push(User {
                    id: UserId(i as i64 + 1),
                    username: (*name).to_owned(),
                    password_hash: (*hash).to_owned(),
                    created_at: Utc::now(),
                    updated_at: Utc::now(),
                    tokens_not_before: None,
                });
            }
            Arc::new(memory)
        }

        fn hash_of(&self, name: &str) -> String {
            let users = self.users.lock().unwrap();
            users
                .iter()
                .find(|u| u.username == name)
                .unwrap()
                .password_hash
                .clone()
        }
    }

    impl UserRepository for Memory {
        fn insert_user(&self, _: &NewUser<'_>) -> Result<User, StoreError> {
            Err(StoreError::Internal("not in these tests".into()))
        }
        fn find_by_username(&self, username: &Username) -> Result<Option<User>, StoreError> {
            let users = self.users.lock().unwrap();
            Ok(users
                .iter()
                .find(|u| Username::parse(&u.username).unwrap().canonical() == username.canonical())
                .cloned())
        }
        fn find_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
            Ok(self
                .users
                .lock()
                .unwrap()
                .iter()
                .find(|u| u.id == id)
                .cloned())
        }
        fn list_users(&self) -> Result<Vec<User>, StoreError> {
            Ok(self.users.lock().unwrap().clone())
        }
        fn update_password_hash(
            &self,
            _: UserId,
            _: &str,
            _: DateTime<Utc>,
            _: Option<&SessionId>,
        ) -> Result<bool, StoreError> {
            Err(StoreError::Internal("not in these tests".into()))
        }
        fn set_tokens_not_before(&self, _: UserId, _: DateTime<Utc>) -> Result<bool, StoreError> {
            Err(StoreError::Internal("not in these tests".into()))
        }
        fn replace_password_hash(
            &self,
            id: UserId,
            expected: &str,
            password_hash: &str,
            updated_at: DateTime<Utc>,
        ) -> Result<bool, StoreError> {
            let mut users = self.users.lock().unwrap();
            if let Some(hook) = self.before_replace.lock().unwrap().take() {
                hook(&mut users);
            }
            match users
                .iter_mut()
                .find(|u| u.id == id && u.password_hash == expected)
            {
                Some(user) => {
                    user.password_hash = password_hash.to_owned();
                    user.updated_at = updated_at;
                    Ok(true)
                }
                None => Ok(false),
            }
        }
        fn find_password_hash_with_prefix(
            &self,
            prefix: &str,
        ) -> Result<Option<String>, StoreError> {
            self.prefix_lookups.fetch_add(1, Ordering::SeqCst);
            let users = self.users.lock().unwrap();
            Ok(users
                .iter()
                .map(|u| u.password_hash.clone())
                .find(|h| h.starts_with(prefix)))
        }
        fn import_users(
            &self,
            _: &[ImportedUser<'_>],
            _: Option<UserId>,
            _: &mut dyn FnMut(usize),
        ) -> Result<Vec<ImportOutcome>, StoreError> {
            Err(StoreError::Internal("not in these tests".into()))
        }
        fn delete_user(&self, _: UserId) -> Result<bool, StoreError> {
            Err(StoreError::Internal("not in these tests".into()))
        }
        fn ping(&self) -> Result<(), StoreError> {
            Ok(())
        }
    }

    fn accounts(memory: &Arc<Memory>) -> Accounts {
        Accounts::new(memory.clone(), PasswordHasher::new(4))
    }

    /// The bcrypt and SHA-crypt computations the hasher ran since the last call.
    fn work_since(accounts: &Accounts, last: &mut HashWorkCount) -> (u64, u64) {
        let now = accounts.hasher().work();
        let done = (now.bcrypt - last.bcrypt, now.sha_crypt - last.sha_crypt);
        *last = now;
        done
    }

    #[test]
    fn a_legacy_hash_signs_in_once_and_is_replaced_by_the_current_scheme() {
        let memory = Memory::with(&[("ann", SHA512_CRYPT)]);
        let accounts = accounts(&memory);
        let user = accounts.authenticate("ann", PASSWORD).unwrap();
        let stored = memory.hash_of("ann");
        assert!(
            stored.starts_with("$bcrypt-sha256$v=2,t=2b,r=4$"),
            "{stored}"
        );
        assert_eq!(user.password_hash, stored);
        assert!(!accounts.hasher().needs_rehash(&stored));
        assert_eq!(accounts.authenticate("ANN", PASSWORD).unwrap().id, user.id);
        assert!(matches!(
            accounts.authenticate("ann", "wrong"),
            Err(Error::InvalidCredentials)
        ));
    }

    #[test]
    fn a_wrong_password_leaves_a_legacy_hash_alone() {
        let memory = Memory::with(&[("ann", SHA512_CRYPT)]);
        let accounts = accounts(&memory);
        assert!(matches!(
            accounts.authenticate("ann", "Correct horse battery staple"),
            Err(Error::InvalidCredentials)
        ));
        assert_eq!(memory.hash_of("ann"), SHA512_CRYPT);
    }

    #[test]
    fn a_concurrent_password_change_is_never_overwritten() {
        let memory = Memory::with(&[("ann", SHA512_CRYPT)]);
        let accounts = accounts(&memory);
        let changed = accounts
            .hasher()
            .hash_unchecked("a brand new password")
            .unwrap();
        let expected = changed.clone();
        *memory.before_replace.lock().unwrap() = Some(Box::new(move |users: &mut Vec<User>| {
            users[0].password_hash = changed;
        }));
        assert!(matches!(
            accounts.authenticate("ann", PASSWORD),
            Err(Error::InvalidCredentials)
        ));
        assert_eq!(memory.hash_of("ann"), expected);
    }

    #[test]
    fn a_concurrent_sign_in_that_replaced_the_hash_first_still_succeeds() {
        let memory = Memory::with(&[("ann", SHA512_CRYPT)]);
        let accounts = accounts(&memory);
        let theirs = accounts.hasher().hash_unchecked(PASSWORD).unwrap();
        let expected = theirs.clone();
        *memory.before_replace.lock().unwrap() = Some(Box::new(move |users: &mut Vec<User>| {
            users[0].password_hash = theirs;
        }));
        let user = accounts.authenticate("ann", PASSWORD).unwrap();
        assert_eq!(user.password_hash, expected);
        assert_eq!(memory.hash_of("ann"), expected);
    }

    #[test]
    fn an_unknown_hash_format_is_refused_like_a_wrong_password_with_dummy_work() {
        let memory = Memory::with(&[("ann", "pbkdf2:sha256:260000$salt$abcdef")]);
        let accounts = accounts(&memory);
        accounts.hasher().warm_up();
        let mut last = accounts.hasher().work();
        assert!(matches!(
            accounts.authenticate("ann", PASSWORD),
            Err(Error::InvalidCredentials)
        ));
        assert_eq!(work_since(&accounts, &mut last), (1, 0));
        assert_eq!(memory.hash_of("ann"), "pbkdf2:sha256:260000$salt$abcdef");
    }

    #[test]
    fn failed_sign_ins_do_the_work_of_both_kinds_while_legacy_hashes_remain() {
        let current = PasswordHasher::new(4).hash_unchecked(PASSWORD).unwrap();
        let memory = Memory::with(&[("ann", SHA512_CRYPT), ("bob", &current)]);
        let accounts = accounts(&memory);
        accounts.hasher().warm_up();
        let mut last = accounts.hasher().work();

        assert!(accounts.authenticate("nobody", PASSWORD).is_err());
        assert_eq!(work_since(&accounts, &mut last), (1, 1), "a dummy of each");
        assert!(accounts.authenticate("bob", "wrong").is_err());
        assert_eq!(
            work_since(&accounts, &mut last),
            (1, 1),
            "bcrypt real, SHA-crypt dummy"
        );
        assert!(accounts.authenticate("ann", "wrong").is_err());
        assert_eq!(
            work_since(&accounts, &mut last),
            (1, 1),
            "SHA-crypt real, bcrypt dummy"
        );
        accounts.authenticate("bob", PASSWORD).unwrap();
        assert_eq!(
            work_since(&accounts, &mut last),
            (1, 0),
            "success pays only its own"
        );
        assert_eq!(
            memory.prefix_lookups.load(Ordering::SeqCst),
            1,
            "the store is asked once, then remembered"
        );
    }

    #[test]
    fn without_legacy_hashes_an_unknown_user_costs_one_bcrypt() {
        let current = PasswordHasher::new(4).hash_unchecked(PASSWORD).unwrap();
        let memory = Memory::with(&[("bob", &current)]);
        let accounts = accounts(&memory);
        accounts.hasher().warm_up();
        let mut last = accounts.hasher().work();
        assert!(accounts.authenticate("nobody", PASSWORD).is_err());
        assert_eq!(work_since(&accounts, &mut last), (1, 0));
        assert!(accounts.authenticate("bob", "wrong").is_err());
        assert_eq!(work_since(&accounts, &mut last), (1, 0));
    }

    #[test]
    fn an_over_long_candidate_is_refused_before_any_hashing() {
        let memory = Memory::with(&[("ann", SHA512_CRYPT)]);
        let accounts = accounts(&memory);
        accounts.hasher().warm_up();
        let mut last = accounts.hasher().work();
        for name in ["ann", "nobody"] {
            assert!(matches!(
                accounts.authenticate(name, &"x".repeat(16 * 1024)),
                Err(Error::InvalidPassword(crate::PasswordError::TooLong))
            ));
        }
        assert_eq!(work_since(&accounts, &mut last), (0, 0));
    }

    #[test]
    fn a_long_candidate_within_the_bound_does_no_sha_crypt_work() {
        // 1,000 bytes: within the password bound, over SHA-crypt's; an unknown name and a
        // SHA-crypt account cost one bcrypt each, never a SHA-crypt over 1,000 bytes.
        let memory = Memory::with(&[("ann", SHA512_CRYPT)]);
        let accounts = accounts(&memory);
        accounts.hasher().warm_up();
        let mut last = accounts.hasher().work();
        let long = "x".repeat(1000);
        assert!(accounts.authenticate("nobody", &long).is_err());
        assert_eq!(work_since(&accounts, &mut last), (1, 0));
        assert!(accounts.authenticate("ann", &long).is_err());
        assert_eq!(work_since(&accounts, &mut last), (1, 0));
    }
}
