use chrono::{DateTime, Utc};

use crate::{SessionId, StoreError, UserId, Username};

/// A stored user.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    /// Stable id.
    pub id: UserId,
    /// The name as registered: NFC-normalised, case preserved.
    pub username: String,
    /// The password hash in one of the formats [`crate::PasswordHasher`] verifies.
    pub password_hash: String,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// When the account was last changed.
    pub updated_at: DateTime<Utc>,
    /// Session-less tokens (the Flask tutorial's) issued at or before this time are
    /// refused: set by a password change and by signing out with such a token.
    pub tokens_not_before: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("password_hash", &"<redacted>")
            .field("created_at", &self.created_at)
            .field("tokens_not_before", &self.tokens_not_before)
            .finish()
    }
}

/// A user about to be inserted.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    /// The validated username.
    pub username: &'a Username,
    /// The password hash.
    pub password_hash: &'a str,
    /// Creation time, also used as the first `updated_at`.
    pub created_at: DateTime<Utc>,
}

/// A user brought over from another system by an import.
#[derive(Debug, Clone)]
pub struct ImportedUser<'a> {
    /// The id the user had there, kept when it is free here: old tokens name it.
    pub id: Option<UserId>,
    /// The validated username.
    pub username: &'a Username,
    /// The password hash as the other system stored it, in a format
    /// [`crate::PasswordHasher::verify`] understands.
    pub password_hash: &'a str,
    /// Creation time here, also used as the first `updated_at`.
    pub created_at: DateTime<Utc>,
}

/// What the store did with one [`ImportedUser`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportOutcome {
    /// Inserted, under this id: the requested one when it was free, else a new one.
    Imported(UserId),
    /// A user of this name (regardless of case) already exists and is the same account:
    /// same id or same password hash, as after an earlier run of the same import.
    AlreadyPresent(UserId),
    /// Another account, with this id, already has this name (regardless of case).
    UsernameTaken(UserId),
}

/// Storage of users. Implemented by `tessera-store`; every method is synchronous and may
/// block, so callers run it off async worker threads.
///
/// Uniqueness of usernames (regardless of case) is enforced by the store itself, so two
/// racing inserts of one name yield exactly one user and one [`StoreError::UsernameTaken`].
pub trait UserRepository: Send + Sync + 'static {
    /// Inserts a user; fails with [`StoreError::UsernameTaken`] when the name is taken.
    fn insert_user(&self, new_user: &NewUser<'_>) -> Result<User, StoreError>;
    /// Finds a user by name, regardless of case.
    fn find_by_username(&self, username: &Username) -> Result<Option<User>, StoreError>;
    /// Finds a user by id.
    fn find_by_id(&self, id: UserId) -> Result<Option<User>, StoreError>;
    /// All users, ordered by id.
    fn list_users(&self) -> Result<Vec<User>, StoreError>;
    /// Sets a new password, in one transaction: the hash, `tokens_not_before` (both at
    /// `updated_at`), and the end of every live session of the user but `keep_session`.
    /// `false` when the user does not exist.
    fn update_password_hash(
        &self,
        id: UserId,
        password_hash: &str,
        updated_at: DateTime<Utc>,
        keep_session: Option<&SessionId>,
    ) -> Result<bool, StoreError>;
    /// Refuses the user's session-less tokens issued up to `at`; `false` when the user does
    /// not exist.
    fn set_tokens_not_before(&self, id: UserId, at: DateTime<Utc>) -> Result<bool, StoreError>;
    /// Replaces a user's password hash only if it is still `expected` (compare-and-swap), so
    /// a concurrent password change is never overwritten; `false` when the user does not
    /// exist or the hash has changed.
    fn replace_password_hash(
        &self,
        id: UserId,
        expected: &str,
        password_hash: &str,
        updated_at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Some stored password hash that starts with `prefix`, if any does.
    fn find_password_hash_with_prefix(&self, prefix: &str) -> Result<Option<String>, StoreError>;
    /// Imports users in one transaction: either every outcome holds, or (on error) nothing
    /// changed. Users are matched to existing ones by name, regardless of case; see
    /// [`ImportOutcome`]. A requested id is kept when no user has it; the others get ids above
    /// every id in use and above `reserve_ids_through`, so no later user is given an id an
    /// old token may name. `progress` is called with the number of users handled so far.
    fn import_users(
        &self,
        users: &[ImportedUser<'_>],
        reserve_ids_through: Option<UserId>,
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<ImportOutcome>, StoreError>;
    /// Deletes a user and, in the same transaction, ends their sessions; `false` when the
    /// user did not exist.
    fn delete_user(&self, id: UserId) -> Result<bool, StoreError>;
    /// Checks that the database answers and takes writes (the readiness check; the store
    /// may bound how often it writes).
    fn ping(&self) -> Result<(), StoreError>;
}
