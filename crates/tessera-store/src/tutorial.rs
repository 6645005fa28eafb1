//! Reading the Flask tutorial's `users` table, the source of `tessera users import --from`.
//!
//! The tutorial's Flask-SQLAlchemy model creates, on any backend:
//!
//! ```sql
//! CREATE TABLE users (
//!     id INTEGER NOT NULL PRIMARY KEY,   -- AUTO_INCREMENT / SERIAL
//!     username VARCHAR(32),              -- indexed, not unique, nullable
//!     password VARCHAR(128)              -- passlib custom_app_context hash, nullable
//! );
//! ```
//!
//! Only those three columns are read; other columns a team may have added are ignored.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Text};

use crate::{Error, redact_url};

/// Why the tutorial's table could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The source database cannot be opened.
    #[error(transparent)]
    Open(#[from] Error),
    /// A `sqlite://` URL naming no file (opening it would create an empty database).
    #[error("no SQLite database at {0}")]
    NoSuchFile(String),
    /// The URL names a Tessera database.
    #[error("{0} holds a Tessera database, not the Flask tutorial's")]
    TesseraDatabase(String),
    /// No `users` table with the tutorial's columns.
    #[error("cannot read the tutorial's users table (id, username, password) at {url}: {cause}")]
    Read {
        /// The source, password redacted.
        url: String,
        /// The database's message.
        cause: String,
    },
}

/// One row of the tutorial's `users` table, as stored there.
#[derive(Clone, PartialEq, Eq, QueryableByName)]
pub struct TutorialUser {
    /// `users.id`
    #[diesel(sql_type = Integer)]
    pub id: i32,
    /// `users.username`
    #[diesel(sql_type = Nullable<Text>)]
    pub username: Option<String>,
    /// `users.password`: the password hash.
    #[diesel(sql_type = Nullable<Text>)]
    pub password: Option<String>,
}

impl std::fmt::Debug for TutorialUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TutorialUser")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Reads every row of the tutorial's `users` table at `url` (any backend this build
/// supports), ordered by id, over a connection of its own that is closed afterwards.
///
/// Nothing is written to the source. A Tessera database is refused, since its `users` table
/// has the same name but is no source; so is a `sqlite://` path with no file.
pub fn read_tutorial_users(url: &str) -> Result<Vec<TutorialUser>, SourceError> {
    if crate::Backend::from_url(url)? == crate::Backend::Sqlite {
        let path = crate::connection::sqlite_path(url);
        if !std::path::Path::new(path).is_file() {
            return Err(SourceError::NoSuchFile(path.to_owned()));
        }
    }
    let mut connection = crate::connection::establish(url)?;
    if connection
        .batch_execute("SELECT username_key FROM users WHERE 1 = 0")
        .is_ok()
    {
        return Err(SourceError::TesseraDatabase(redact_url(url)));
    }
    diesel::sql_query("SELECT id, username, password FROM users ORDER BY id")
        .load::<TutorialUser>(&mut connection)
        .map_err(|e| SourceError::Read {
            url: redact_url(url),
            cause: e.to_string(),
        })
}

/// Test support: a database holding the tutorial's `users` table instead of Tessera's.
#[cfg(feature = "testing")]
pub mod testing {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use diesel::sql_types::{Integer, Nullable, Text};

    use crate::Backend;
    use crate::testing::TestDatabase;

    /// A fresh database (dropped afterwards) with the tutorial's empty `users` table, as
    /// Flask-SQLAlchemy creates it on `backend`.
    #[derive(Debug)]
    pub struct TutorialDatabase {
        database: TestDatabase,
    }

    impl TutorialDatabase {
        /// `None` when the backend's server is not reachable outside CI (see
        /// [`TestDatabase::create`]).
        pub fn create(backend: Backend) -> Option<TutorialDatabase> {
            let database = TestDatabase::create(backend)?;
            let create = match backend {
                Backend::Mysql => {
                    // The server's default character set and its case-insensitive
                    // collation, as the tutorial got them: names differing in case coexist
                    // in the non-unique column.
                    "CREATE TABLE users (id INTEGER NOT NULL AUTO_INCREMENT, \
                     username VARCHAR(32), password VARCHAR(128), PRIMARY KEY (id)) \
                     DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_general_ci"
                }
                Backend::Postgres => {
                    "CREATE TABLE users (id SERIAL NOT NULL, username VARCHAR(32), \
                     password VARCHAR(128), PRIMARY KEY (id))"
                }
                Backend::Sqlite => {
                    "CREATE TABLE users (id INTEGER NOT NULL, username VARCHAR(32), \
                     password VARCHAR(128), PRIMARY KEY (id))"
                }
            };
            let mut connection =
                crate::connection::establish(database.url()).expect("the test database opens");
            connection
                .batch_execute(&format!(
                    "DROP TABLE users; DROP TABLE __diesel_schema_migrations; {create}; \
                     CREATE INDEX ix_users_username ON users (username);"
                ))
                .expect("the tutorial's table is created");
            Some(TutorialDatabase { database })
        }

        /// The `DATABASE_URL` to import from.
        pub fn url(&self) -> &str {
            self.database.url()
        }

        /// Inserts rows `(id, username, password)` as the tutorial would have.
        pub fn insert(&self, rows: &[(i32, Option<&str>, Option<&str>)]) {
            let mut connection =
                crate::connection::establish(self.url()).expect("the test database opens");
            let statement = match crate::Backend::from_url(self.url()) {
                Ok(Backend::Postgres) => {
                    "INSERT INTO users (id, username, password) VALUES ($1, $2, $3)"
                }
                _ => "INSERT INTO users (id, username, password) VALUES (?, ?, ?)",
            };
            connection
                .transaction(|conn| {
                    for (id, username, password) in rows {
                        diesel::sql_query(statement)
                            .bind::<Integer, _>(id)
                            .bind::<Nullable<Text>, _>(username)
                            .bind::<Nullable<Text>, _>(password)
                            .execute(conn)?;
                    }
                    diesel::QueryResult::Ok(())
                })
                .expect("the rows are inserted");
        }
    }
}
