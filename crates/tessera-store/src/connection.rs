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

/// Runs `f` in a transaction that writes. SQLite begins a transaction deferred, and one that
/// has read and then meets another writer gets "database is locked" at once, without
/// waiting out `busy_timeout` (SQLite refuses to wait there, as two such transactions could
/// wait for each other): racing sign-ins of one user were answered 503. So on SQLite the
/// transaction's first statement is a write that changes nothing, which takes the write
/// lock, waiting for it like any other write. The other backends lock rows as they go.
pub(crate) fn write_transaction<T, E>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    conn.transaction(|conn| {
        #[cfg(feature = "sqlite")]
        if matches!(conn, DbConnection::Sqlite(_)) {
            conn.batch_execute("UPDATE store_meta SET name = name WHERE 0")?;
        }
        f(conn)
    })
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

/// Query parameters that carry a password in the backends' connection strings (libpq's
/// `password` and `sslpassword`, the MySQL client's `password`/`pass`), compared
/// ignoring case.
const SECRET_PARAMETERS: [&str; 3] = ["password", "pass", "sslpassword"];

/// A URL fit for logs, error messages and `tessera config`: the password of the userinfo
/// and every password query parameter become `***`. A `sqlite://PATH` is a file name,
/// shown as it is.
///
/// Parsed as a URL (the `url` crate, as the WHATWG standard splits the authority at the
/// *last* `@`), so a password holding `@`, `:` or `%40` is still found. A `scheme://…`
/// that does not parse keeps only its scheme, and a string without `://` holding an `@`
/// is hidden whole: whatever follows could be a password. (A bare path without `@`, the
/// usual mistake of a missing `sqlite://`, is shown so the error can name it.)
pub fn redact_url(raw: &str) -> String {
    if raw.starts_with("sqlite://") {
        return raw.to_owned();
    }
    let Some((scheme, _)) = raw.split_once("://") else {
        return if raw.contains('@') {
            "***".to_owned()
        } else {
            raw.to_owned()
        };
    };
    let Ok(mut url) = url::Url::parse(raw) else {
        return format!("{scheme}://***");
    };
    if url.password().is_some() {
        // Cannot fail: the URL has a host, since it has a password.
        let _ = url.set_password(Some("***"));
    }
    if let Some(query) = url.query() {
        let redacted: Vec<String> = query
            .split('&')
            .map(|pair| {
                let name = pair.split_once('=').map_or(pair, |(name, _)| name);
                let decoded: String = url::form_urlencoded::parse(name.as_bytes())
                    .map(|(name, _)| name.into_owned())
                    .collect();
                if SECRET_PARAMETERS
                    .iter()
                    .any(|secret| decoded.eq_ignore_ascii_case(secret))
                {
                    format!("{name}=***")
                } else {
                    pair.to_owned()
                }
            })
            .collect();
        url.set_query(Some(&redacted.join("&")));
    }
    url.into()
}

/// Fails, naming the file, unless the database a `sqlite://` URL names exists: for the
/// commands that only read (`tessera users list`, …), which must not leave an empty
/// database behind when run from the wrong directory. Opening a connection would create
/// the file. PostgreSQL and MySQL databases are never created by Tessera, so their URLs
/// pass.
pub fn require_existing(url: &str) -> Result<(), Error> {
    if Backend::from_url(url)? != Backend::Sqlite {
        return Ok(());
    }
    let path = std::path::Path::new(sqlite_path(url));
    match std::fs::metadata(path) {
        Ok(metadata) if metadata.is_file() => Ok(()),
        Ok(_) => Err(Error::Connect(format!(
            "the SQLite database {} is not a file",
            path.display()
        ))),
        Err(e) => Err(Error::Connect(format!(
            "the SQLite database {} does not exist ({e})",
            path.display()
        ))),
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
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        let error = Backend::from_url("redis://u:s3cret@h")
            .unwrap_err()
            .to_string();
        assert!(!error.contains("s3cret"), "{error}");
    }

    #[test]
    fn a_password_holding_an_at_sign_is_redacted_whole() {
        for (url, secret) in [
            ("postgres://u:p@ssw0rd@host/db", "ssw0rd"),
            ("postgres://u:p%40ssw0rd@host/db", "ssw0rd"),
            ("mysql://root:a:b@c@127.0.0.1:3306/db", "a:b"),
        ] {
            let redacted = redact_url(url);
            assert!(!redacted.contains(secret), "{url} -> {redacted}");
            assert!(redacted.contains("***@"), "{url} -> {redacted}");
            assert!(
                redacted.ends_with("/db"),
                "the host and database stay: {redacted}"
            );
        }
        assert_eq!(
            redact_url("postgres://u:p@ssw0rd@host/db"),
            "postgres://u:***@host/db"
        );
    }

    #[test]
    fn password_query_parameters_are_redacted() {
        assert_eq!(
            redact_url("postgres://h/db?user=u&password=s3cret&sslmode=require"),
            "postgres://h/db?user=u&password=***&sslmode=require"
        );
        assert_eq!(
            redact_url("mysql://h/db?PASS=s3cret"),
            "mysql://h/db?PASS=***"
        );
        assert_eq!(
            redact_url("postgres://u:one@h/db?sslpassword=two&pass%77ord=three"),
            "postgres://u:***@h/db?sslpassword=***&pass%77ord=***"
        );
        // Names that merely contain "password" are not secrets by themselves.
        assert_eq!(
            redact_url("postgres://h/db?passwordless=1"),
            "postgres://h/db?passwordless=1"
        );
    }

    #[test]
    fn sqlite_paths_and_non_urls_are_safe() {
        for path in [
            "sqlite://./data/tessera.db",
            "sqlite:///var/lib/tessera/t@x.db",
            "sqlite://data/p:w@d.db?password=x",
        ] {
            assert_eq!(redact_url(path), path, "a file name is shown as it is");
        }
        assert_eq!(redact_url("postgres://u:s3cret@[::1"), "postgres://***");
        assert_eq!(redact_url("u:s3cret@h"), "***");
        assert_eq!(redact_url("data/t.db"), "data/t.db");
    }

    #[test]
    fn require_existing_refuses_a_missing_sqlite_file_without_creating_it() {
        let dir = std::env::temp_dir().join(format!("tessera-exist-{}", std::process::id()));
        let missing = dir.join("data/tessera.db");
        let url = format!("sqlite://{}", missing.display());
        let error = require_existing(&url).unwrap_err().to_string();
        assert!(error.contains(&missing.display().to_string()), "{error}");
        assert!(error.contains("does not exist"), "{error}");
        assert!(!dir.exists(), "nothing was created");
        std::fs::create_dir_all(missing.parent().unwrap()).unwrap();
        std::fs::write(&missing, "").unwrap();
        assert!(require_existing(&url).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(require_existing("postgres://u@h/db").is_ok());
    }
}
