use std::sync::Arc;

use chrono::Utc;

use crate::{Error, NewUser, Password, PasswordHasher, User, UserId, UserRepository, Username};

/// The account use cases: register, authenticate, change password, delete, look up.
///
/// Every method is synchronous and may block on the store or on bcrypt; the HTTP layer
/// runs them on its blocking pools, the CLI calls them directly.
#[derive(Clone)]
pub struct Accounts {
    users: Arc<dyn UserRepository>,
    hasher: PasswordHasher,
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
        Accounts { users, hasher }
    }

    /// The store, for callers that only read.
    pub fn users(&self) -> &dyn UserRepository {
        self.users.as_ref()
    }

    /// The password hasher.
    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    /// Creates an account. The username is checked before the password, and a taken name
    /// is reported by the store's unique constraint, not by a check-then-insert.
    pub fn register(&self, username: &str, password: &str) -> Result<User, Error> {
        let username = Username::parse(username)?;
        let password = Password::parse(password)?;
        let password_hash = self.hasher.hash(&password)?;
        let new_user = NewUser {
            username: &username,
            password_hash: &password_hash,
            created_at: Utc::now(),
        };
        Ok(self.users.insert_user(&new_user)?)
    }

    /// Checks a username and password. Unknown users cost the same bcrypt work as a wrong
    /// password and fail with the same error. A hash in an older scheme or cost is
    /// replaced after a successful check.
    pub fn authenticate(&self, username: &str, password: &str) -> Result<User, Error> {
        let user = match Username::parse(username) {
            Ok(username) => self.users.find_by_username(&username)?,
            Err(_) => None,
        };
        let Some(user) = user else {
            self.hasher.verify_dummy(password);
            return Err(Error::InvalidCredentials);
        };
        if !self.hasher.verify(password, &user.password_hash)? {
            return Err(Error::InvalidCredentials);
        }
        if self.hasher.needs_rehash(&user.password_hash) {
            self.rehash(&user, password)?;
        }
        Ok(user)
    }

    /// Replaces a user's password with a new one that meets the policy.
    pub fn set_password(&self, id: UserId, new_password: &str) -> Result<(), Error> {
        let password = Password::parse(new_password)?;
        let password_hash = self.hasher.hash(&password)?;
        if self
            .users
            .update_password_hash(id, &password_hash, Utc::now())?
        {
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

    fn rehash(&self, user: &User, password: &str) -> Result<(), Error> {
        // The password verified, so it is the user's; it may predate the current policy,
        // which is why it is hashed without being parsed as a new `Password`.
        let password_hash = self.hasher.hash_unchecked(password)?;
        self.users
            .update_password_hash(user.id, &password_hash, Utc::now())?;
        Ok(())
    }
}
