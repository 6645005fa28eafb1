//! What password hashing can fail with.

/// A hash could not be created, or a stored hash could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    /// The stored hash is in no format this hasher knows, or is malformed.
    #[error("unrecognised password hash format")]
    UnknownFormat,
    /// A bcrypt cost outside [`crate::PasswordHasher::MIN_COST`]..=[`crate::PasswordHasher::MAX_COST`].
    #[error("bcrypt cost must be between 4 and 31, got {0}")]
    CostOutOfRange(u32),
    /// The operating system could not provide randomness for a salt.
    #[error("no randomness for a salt: {0}")]
    Randomness(String),
    /// bcrypt itself failed.
    #[error("bcrypt failed: {0}")]
    Bcrypt(String),
}
