use diesel::Connection;
use diesel::connection::SimpleConnection;

use crate::Error;

/// A connection to whichever backend `DATABASE_URL` names. Queries written against it
/// must work on every backend, which keeps the repository code backend-neutral.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// Embedded SQLite, the zero-setup default.
    #[cfg(feature = "sqlite")]
    Sqlite(diesel::SqliteConnection),
    /// PostgreSQL, for production and many processes.
    #[cfg(feature = "postgres")]
    Postgres(diesel::PgConnection),
    /// MySQL or MariaDB.
    #[cfg(feature = "mysql")]
    Mysql(diesel::MysqlConnection),
}

impl std::fmt::Debug for DbConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbConnection")
    }
}

/// The database backends, as named by the scheme of `DATABASE_URL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite://PATH`
    Sqlite,
    /// `postgres://…` or `postgresql://…`
    Postgres,
    /// `mysql://…` (also MariaDB)
    Mysql,
}

impl Backend {
    /// The backend a `DATABASE_URL` names, whether or not this build supports it.
    pub fn from_url(url: &str) -> Result<Backend, Error> {
        if url.starts_with("sqlite://") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else if url.starts_with("mysql://") || url.starts_with("mariadb://") {
            Ok(Backend::Mysql)
        } else {
            Err(Error::UnsupportedUrl(redact_url(url)))
        }
    }

    /// The backend's name, as used for its Cargo feature.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::Mysql => "mysql",
        }
    }

    /// Statements run on every new connection: UTC everywhere so timestamps mean one thing,
    /// and for SQLite the settings that make concurrent writers wait instead of failing.
    ///
    /// SQLite keeps a rollback journal (`TRUNCATE`), not WAL, and maps no file into memory
    /// (`mmap_size = 0`): WAL's index is the `-shm` file mapped into every connection, and
    /// when that file is truncated or its pages cannot be allocated (a full or broken file
    /// system) the next access kills the process with SIGBUS, which no error handling can
    /// catch. With plain reads and writes the same faults are errors, answered 503.
    /// `synchronous = FULL` makes a commit durable before it is answered (a logout answered
    /// 204 stays done after a power cut).
    fn session_setup(self) -> &'static str {
        match self {
            Backend::Sqlite => {
                "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = TRUNCATE; \
                 PRAGMA mmap_size = 0; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
            }
            Backend::Postgres => "SET TIME ZONE 'UTC';",
            Backend::Mysql => "SET time_zone = '+00:00';",
        }
    }
}

/// Opens one connection to `url` and prepares its session.
pub(crate) fn establish(url: &str) -> Result<DbConnection, Error> {
    let backend = Backend::from_url(url)?;
    let mut connection = establish_raw(backend, url)?;
    // Switching the journal mode (a new file, or one an older version left in WAL mode)
    // needs a moment when no other connection holds a lock, and SQLite does not wait for
    // that by itself: try again for up to 10 s.
    let mut attempts = 0;
    loop {
        match connection.batch_execute(backend.session_setup()) {
            Ok(()) => return Ok(connection),
            Err(e) if attempts < 100 && e.to_string().contains("database is locked") => {
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            Err(e) => return Err(Error::Connect(e.to_string())),
        }
    }
}

fn establish_raw(backend: Backend, url: &str) -> Result<DbConnection, Error> {
    let connect_error = |e: diesel::ConnectionError| Error::Connect(e.to_string());
    match backend {
        #[cfg(feature = "sqlite")]
        Backend::Sqlite => {
            let path = sqlite_path(url);
            create_private_file(std::path::Path::new(path))?;
            diesel::SqliteConnection::establish(path)
                .map(DbConnection::Sqlite)
                .map_err(connect_error)
        }
        #[cfg(feature = "postgres")]
        Backend::Postgres => diesel::PgConnection::establish(url)
            .map(DbConnection::Postgres)
            .map_err(connect_error),
        #[cfg(feature = "mysql")]
        Backend::Mysql => {
            let url = url.replacen("mariadb://", "mysql://", 1);
            diesel::MysqlConnection::establish(&url)
                .map(DbConnection::Mysql)
                .map_err(connect_error)
        }
        #[allow(unreachable_patterns)]
        other => Err(Error::BackendNotBuilt(other.name())),
    }
}

/// Makes sure the SQLite file exists before SQLite opens it, created so that only its
/// owner can read it (`0600`): it holds password hashes, and SQLite gives its journal the
/// file's own mode. A directory created here is `0700`; an existing one is the operator's
/// choice and left as it is.
#[cfg(feature = "sqlite")]
fn create_private_file(path: &std::path::Path) -> Result<(), Error> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if path.exists() {
        return Ok(());
    }
    let io_error = |what: &str, e: std::io::Error| {
        Error::Connect(format!("cannot {what} {}: {e}", path.display()))
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .map_err(|e| io_error("create the directory of", e))?;
    }
    // An empty file is a valid empty database; `create` without `truncate` keeps the data
    // of a file another process created meanwhile.
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map(drop)
        .map_err(|e| io_error("create", e))
}

/// Narrows the database file of a `sqlite://` URL to its owner when others may read it,
/// as older versions created it (`0644`). Only for Tessera's own database, never for a
/// file it only reads (the tutorial's, on import).
pub(crate) fn narrow_to_owner(url: &str) {
    use std::os::unix::fs::PermissionsExt;
    if !matches!(Backend::from_url(url), Ok(Backend::Sqlite)) {
        return;
    }
    let path = std::path::Path::new(sqlite_path(url));
    let Ok(metadata) = std::fs::metadata(path) else {
        return;
    };
    let mode = metadata.permissions().mode();
    if mode & 0o077 == 0 {
        return;
    }
    match std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o700)) {
        Ok(()) => {
            tracing::warn!(path = %path.display(), "the database file was readable by other users; narrowed it to its owner")
        }
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "the database file is readable by other users and cannot be narrowed")
        }
    }
}

/// The file path inside a `sqlite://PATH` URL (`sqlite:///abs/path` is absolute).
pub(crate) fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://").unwrap_or(url)
}

/// A URL fit for logs and error messages: any password is replaced.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_follows_the_url_scheme() {
        assert_eq!(
            Backend::from_url("sqlite://data/t.db").unwrap(),
            Backend::Sqlite
        );
        assert_eq!(
            Backend::from_url("postgres://u@h/db").unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            Backend::from_url("postgresql://u@h/db").unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            Backend::from_url("mysql://root@h/db").unwrap(),
            Backend::Mysql
        );
        assert!(matches!(
            Backend::from_url("data/t.db"),
            Err(Error::UnsupportedUrl(_))
        ));
    }

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact_url("postgres://u:s3cret@h/db"),
            "postgres://u:***@h/db"
        );
        let error = Backend::from_url("redis://u:s3cret@h")
            .unwrap_err()
            .to_string();
        assert!(!error.contains("s3cret"), "{error}");
    }
}
