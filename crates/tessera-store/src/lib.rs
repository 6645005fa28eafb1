//! Tessera's storage: one Diesel connection type over SQLite, PostgreSQL and MySQL/MariaDB,
//! embedded migrations for each, and the repository implementations of the traits that
//! `tessera-domain` declares.
//!
//! `DATABASE_URL` picks the backend at run time: `sqlite://PATH`, `postgres://…`,
//! `mysql://…`. Each backend is a Cargo feature; SQLite (bundled) is the default.

#[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
compile_error!("enable at least one database backend: features `sqlite`, `postgres` or `mysql`");

mod clients;
mod connection;
mod database;
mod error;
mod import;
mod meta;
mod migrations;
mod models;
pub mod rekey;
mod schema;
mod sessions;
mod signing_keys;
#[cfg(feature = "testing")]
pub mod testing;
mod throttle;
pub mod tutorial;
mod users;

pub use connection::{Backend, DbConnection, redact_url, require_existing};
pub use database::{Database, PoolOptions, WRITE_PROBE_INTERVAL};
pub use error::Error;
pub use migrations::{migrate, run_migrations};
pub use rekey::{KeyCollision, MigrationReport, RekeyReport, rekey_usernames};
