//! Test support: a fresh, uniquely named database per test, dropped afterwards.
//!
//! SQLite is always available. PostgreSQL and MySQL/MariaDB are used when their servers
//! answer at `TESSERA_TEST_POSTGRES_URL` / `TESSERA_TEST_MYSQL_URL` (defaults: the local
//! servers, `postgres://postgres@127.0.0.1:5432` and `mysql://root@127.0.0.1:3306`). When
//! one cannot be reached, [`TestDatabase::create`] returns `None` and says so loudly — or
//! panics when `CI=true`, where a skipped backend would hide a failure.

use diesel::connection::SimpleConnection;

use crate::Backend;

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDatabase {
    url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    /// The directory holding the SQLite file goes when this is dropped.
    Sqlite(#[allow(dead_code)] TempDir),
    /// `DROP DATABASE name` on the server at `admin_url`.
    #[allow(dead_code)]
    Server { admin_url: String, name: String },
}

/// A temporary directory removed on drop (std only, to keep the feature light).
#[derive(Debug)]
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn unique_name() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    let suffix: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("tessera_test_{suffix}")
}

impl TestDatabase {
    /// Creates and migrates a database on `backend`; `None` when that server is not
    /// reachable outside CI.
    pub fn create(backend: Backend) -> Option<TestDatabase> {
        let database = Self::create_unmigrated(backend)?;
        crate::run_migrations(&database.url).expect("migrations apply to a fresh database");
        Some(database)
    }

    /// Creates an empty database on `backend`, without running migrations.
    pub fn create_unmigrated(backend: Backend) -> Option<TestDatabase> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite()),
            Backend::Postgres => Self::on_server(
                backend,
                &std::env::var("TESSERA_TEST_POSTGRES_URL")
                    .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned()),
                "postgres",
            ),
            Backend::Mysql => Self::on_server(
                backend,
                &std::env::var("TESSERA_TEST_MYSQL_URL")
                    .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".to_owned()),
                "mysql",
            ),
        }
    }

    /// The `DATABASE_URL` of this database.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn sqlite() -> TestDatabase {
        let dir = std::env::temp_dir().join(unique_name());
        std::fs::create_dir_all(&dir).expect("temp dir is writable");
        let url = format!("sqlite://{}", dir.join("tessera.db").display());
        TestDatabase {
            url,
            cleanup: Cleanup::Sqlite(TempDir(dir)),
        }
    }

    fn on_server(backend: Backend, base_url: &str, admin_db: &str) -> Option<TestDatabase> {
        let base_url = base_url.trim_end_matches('/');
        let admin_url = format!("{base_url}/{admin_db}");
        let name = unique_name();
        let create = match backend {
            Backend::Mysql => {
                format!("CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
            }
            _ => format!("CREATE DATABASE {name}"),
        };
        match crate::connection::establish(&admin_url) {
            Ok(mut admin) => {
                admin
                    .batch_execute(&create)
                    .expect("CREATE DATABASE works for the test user");
            }
            Err(error) => {
                let message = format!("{} is not reachable at {base_url}: {error}", backend.name());
                if std::env::var("CI").is_ok_and(|v| v == "true") {
                    panic!("{message} (CI=true: unreachable databases fail the run)");
                }
                eprintln!("SKIPPING {} tests: {message}", backend.name());
                return None;
            }
        }
        Some(TestDatabase {
            url: format!("{base_url}/{name}"),
            cleanup: Cleanup::Server { admin_url, name },
        })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Cleanup::Server { admin_url, name } = &self.cleanup {
            if let Ok(mut admin) = crate::connection::establish(admin_url) {
                let force = if admin_url.starts_with("postgres") {
                    " WITH (FORCE)"
                } else {
                    ""
                };
                let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}{force}"));
            }
        }
    }
}
