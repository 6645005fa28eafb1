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
/// [`StoreError::UsernameTaken`] (the only unique constraints are on usernames); lost
/// connections and storage that cannot take writes (disk full, read-only, I/O errors,
/// files gone, locked for longer than the busy timeout) [`StoreError::Unavailable`], since
/// they pass once the operator frees space or repairs the files; anything else
/// [`StoreError::Internal`].
pub(crate) fn to_store_error(error: diesel::result::Error) -> StoreError {
    use diesel::result::{DatabaseErrorKind, Error as DieselError};
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            StoreError::UsernameTaken
        }
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::ReadOnlyTransaction,
            info,
        ) => StoreError::Unavailable(info.message().to_owned()),
        DieselError::DatabaseError(_, info) if storage_refuses(info.message()) => {
            StoreError::Unavailable(info.message().to_owned())
        }
        DieselError::BrokenTransactionManager => {
            StoreError::Unavailable("connection lost mid-transaction".to_owned())
        }
        other => StoreError::Internal(other.to_string()),
    }
}

/// Whether a database message says the storage cannot take the operation now. Diesel
/// passes SQLite's, MySQL's and most PostgreSQL error codes on only as messages, so these
/// are the backends' own fixed texts: SQLite's `SQLITE_FULL`, `SQLITE_READONLY`,
/// `SQLITE_IOERR`, `SQLITE_CANTOPEN` and `SQLITE_BUSY`; PostgreSQL's `53100 disk_full`
/// (`ENOSPC` in the text); MySQL's `1021 ER_DISK_FULL`, `1114 ER_RECORD_FILE_FULL`,
/// `1290 --read-only` and `1836 ER_READ_ONLY_MODE`. (`25006` and `1792`, read-only
/// transactions, arrive as [`diesel::result::DatabaseErrorKind::ReadOnlyTransaction`].)
fn storage_refuses(message: &str) -> bool {
    const MESSAGES: [&str; 11] = [
        "database or disk is full",
        "attempt to write a readonly database",
        "disk i/o error",
        "unable to open database file",
        "database is locked",
        "no space left on device",
        "disk full",
        "is full",
        "--read-only",
        "read-only mode",
        "read only mode",
    ];
    let message = message.to_lowercase();
    MESSAGES.iter().any(|known| message.contains(known))
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::result::{DatabaseErrorKind, Error as DieselError};

    fn database_error(kind: DatabaseErrorKind, message: &str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[test]
    fn storage_that_cannot_write_is_unavailable_not_a_bug() {
        for message in [
            "database or disk is full",
            "attempt to write a readonly database",
            "disk I/O error",
            "unable to open database file",
            "could not extend file \"base/16384/16385\": No space left on device",
            "The table 'sessions' is full",
            "Disk full (/tmp/#sql_1.MAI); waiting for someone to free some space...",
            "The MariaDB server is running with the --read-only option so it cannot execute this statement",
        ] {
            let error = to_store_error(database_error(DatabaseErrorKind::Unknown, message));
            assert!(
                matches!(error, StoreError::Unavailable(_)),
                "{message}: {error:?}"
            );
        }
        let read_only = database_error(
            DatabaseErrorKind::ReadOnlyTransaction,
            "cannot execute INSERT in a read-only transaction",
        );
        assert!(matches!(
            to_store_error(read_only),
            StoreError::Unavailable(_)
        ));
    }

    #[test]
    fn other_failures_stay_internal() {
        let error = to_store_error(database_error(
            DatabaseErrorKind::Unknown,
            "no such table: sessions",
        ));
        assert!(matches!(error, StoreError::Internal(_)), "{error:?}");
        assert_eq!(
            to_store_error(database_error(DatabaseErrorKind::UniqueViolation, "x")),
            StoreError::UsernameTaken
        );
    }
}
