//! HTTP integration tests: the real application on port 0, a real HTTP client, and a
//! fresh database per test — on SQLite always, and on PostgreSQL and MariaDB when the
//! binary is built with their features (`make test` does).
// Helpers shared by tests unwrap too: a failure there is a failing test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;
mod process;

/// Runs each listed `async fn case(backend)` once per compiled-in backend.
macro_rules! backend_tests {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $( #[actix_web::test] async fn $case() { super::$case(tessera_store::Backend::Sqlite).await } )*
        }
        #[cfg(feature = "postgres")]
        mod postgres {
            $( #[actix_web::test] async fn $case() { super::$case(tessera_store::Backend::Postgres).await } )*
        }
        #[cfg(feature = "mysql")]
        mod mysql {
            $( #[actix_web::test] async fn $case() { super::$case(tessera_store::Backend::Mysql).await } )*
        }
    };
}

/// Like `backend_tests!`, for cases that need a database server (PostgreSQL, MariaDB).
macro_rules! server_backend_tests {
    ($($case:ident),* $(,)?) => {
        #[cfg(feature = "postgres")]
        mod postgres_server {
            $( #[actix_web::test] async fn $case() { super::$case(tessera_store::Backend::Postgres).await } )*
        }
        #[cfg(feature = "mysql")]
        mod mysql_server {
            $( #[actix_web::test] async fn $case() { super::$case(tessera_store::Backend::Mysql).await } )*
        }
    };
}

mod browser_sessions;
mod databases;
mod edge;
mod holes;
mod hostile;
mod integrating;
mod keys;
mod legacy;
mod limits;
mod oauth;
mod observability;
mod platform;
mod proxies;
mod session_origin;
mod sessions;
mod storage;
#[path = "../support/tmpfs.rs"]
mod tmpfs;
mod tutorial;
mod v1;
mod web_settings;
