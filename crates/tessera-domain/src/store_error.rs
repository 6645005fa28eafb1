//! What can go wrong in the store: the error every repository trait returns.

/// What can go wrong in the store, as far as the domain cares.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint on the username (case-insensitive) was violated.
    #[error("username already taken")]
    UsernameTaken,
    /// The database cannot be reached (connection refused, pool timeout) or cannot take
    /// the operation now (disk full, read-only, I/O error, locked): it may pass later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Any other database failure.
    #[error("database error: {0}")]
    Internal(String),
}
