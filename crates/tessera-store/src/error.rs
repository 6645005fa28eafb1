use tessera_domain::StoreError;

/// What opening or migrating a database can fail with. Repository calls report
/// [`tessera_domain::StoreError`] instead, which is what the domain understands.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `DATABASE_URL` names no backend this build supports.
    #[error("unsupported DATABASE_URL {0:?}: expected sqlite://PATH, postgres://… or mysql://…")]
    UnsupportedUrl(String),
    /// The URL names a backend whose Cargo feature is not compiled in.
    #[error("this build of tessera has no {0} support (rebuild with the `{0}` feature)")]
    BackendNotBuilt(&'static str),
    /// The database could not be reached.
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migration(String),
    /// Any other database failure.
    #[error("database error: {0}")]
    Query(#[from] diesel::result::Error),
}

/// Maps a Diesel error to what the domain understands: unique violations become
/// [`StoreError::UsernameTaken`] (the only unique constraints are on usernames), lost
/// connections [`StoreError::Unavailable`], anything else [`StoreError::Internal`].
pub(crate) fn to_store_error(error: diesel::result::Error) -> StoreError {
    use diesel::result::{DatabaseErrorKind, Error as DieselError};
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            StoreError::UsernameTaken
        }
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
            StoreError::Unavailable(info.message().to_owned())
        }
        DieselError::BrokenTransactionManager => {
            StoreError::Unavailable("connection lost mid-transaction".to_owned())
        }
        other => StoreError::Internal(other.to_string()),
    }
}
