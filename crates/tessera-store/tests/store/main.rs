//! The store's integration tests, on every backend: SQLite always, PostgreSQL and
//! MariaDB/MySQL when built with their features and their servers answer (required in CI).
//! A fresh database per test.
// Helpers shared by tests unwrap too: a failure there is a failing test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use tessera_store::testing::TestDatabase;
use tessera_store::{Database, PoolOptions};

pub fn open(test_db: &TestDatabase) -> Database {
    Database::open(test_db.url(), &PoolOptions::default()).expect("pool opens")
}

/// Runs each listed case once per compiled-in backend, handing it a fresh migrated
/// database as a pool (`with_database`) or as the `TestDatabase` itself
/// (`with_test_database`), or just the backend (`with_backend`).
macro_rules! backend_tests {
    ($mode:ident: $($case:ident),* $(,)?) => {
        backend_tests!(@module $mode, sqlite, Sqlite, [$($case),*]);
        #[cfg(feature = "postgres")]
        backend_tests!(@module $mode, postgres, Postgres, [$($case),*]);
        #[cfg(feature = "mysql")]
        backend_tests!(@module $mode, mysql, Mysql, [$($case),*]);
    };
    (@module $mode:ident, $module:ident, $variant:ident, [$($case:ident),*]) => {
        mod $module {
            $(
                #[test]
                fn $case() {
                    backend_tests!(@call $mode, super::$case, tessera_store::Backend::$variant);
                }
            )*
        }
    };
    (@call with_database, $case:path, $backend:expr) => {
        if let Some(test_db) = tessera_store::testing::TestDatabase::create($backend) {
            $case(&crate::open(&test_db));
        }
    };
    (@call with_test_database, $case:path, $backend:expr) => {
        if let Some(test_db) = tessera_store::testing::TestDatabase::create($backend) {
            $case(&test_db);
        }
    };
    (@call with_backend, $case:path, $backend:expr) => {
        $case($backend)
    };
}

mod files;
mod import;
mod refresh_reuse;
mod rekey;
mod repository;
mod signing_keys;
