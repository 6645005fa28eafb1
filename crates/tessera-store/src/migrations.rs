#[cfg(any(feature = "postgres", feature = "mysql"))]
use diesel::connection::SimpleConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::rekey::MigrationReport;
use crate::{Backend, Error};

#[cfg(feature = "sqlite")]
const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
#[cfg(feature = "postgres")]
const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
#[cfg(feature = "mysql")]
const MYSQL: EmbeddedMigrations = embed_migrations!("../../migrations/mysql");

/// Applies every pending migration embedded in the binary and returns how many ran, then
/// brings stale username keys up to date ([`crate::rekey`]; collisions are logged, see
/// [`migrate`] for the report).
///
/// Safe to call from several processes at once: PostgreSQL and MySQL take a database-wide
/// advisory lock for the duration, SQLite an exclusive transaction.
///
/// The re-keying scans every user only while the store is not marked as holding the
/// current keys ([`crate::rekey::KEY_VERSION`]); [`migrate`] always scans.
pub fn run_migrations(url: &str) -> Result<usize, Error> {
    migrate_with(url, Rekey::UnlessCurrent).map(|report| report.applied)
}

/// [`run_migrations`], always re-keying (`tessera migrate`: also catches rows an older
/// Tessera wrote during a rolling upgrade), reporting what the re-keying did.
pub fn migrate(url: &str) -> Result<MigrationReport, Error> {
    migrate_with(url, Rekey::Always)
}

/// When the re-keying after the migrations scans the users.
enum Rekey {
    Always,
    UnlessCurrent,
}

fn migrate_with(url: &str, rekey: Rekey) -> Result<MigrationReport, Error> {
    let backend = Backend::from_url(url)?;
    let mut connection = crate::connection::establish(url)?;
    let migration_error =
        |e: Box<dyn std::error::Error + Send + Sync>| Error::Migration(e.to_string());
    let applied = match (&mut connection, backend) {
        #[cfg(feature = "sqlite")]
        (crate::DbConnection::Sqlite(conn), Backend::Sqlite) => {
            // The exclusive transaction holds the file's write lock across the check for
            // pending migrations and running them; the harness's own transactions nest.
            conn.exclusive_transaction(|conn| conn.run_pending_migrations(SQLITE).map(|v| v.len()))
                .map_err(migration_error)
        }
        // Session-level advisory lock: the key is an arbitrary constant for "tessera migrations".
        #[cfg(feature = "postgres")]
        (crate::DbConnection::Postgres(conn), Backend::Postgres) => run_locked(
            conn,
            (
                "SELECT pg_advisory_lock(7365726173);",
                "SELECT pg_advisory_unlock(7365726173);",
            ),
            POSTGRES,
        ),
        #[cfg(feature = "mysql")]
        (crate::DbConnection::Mysql(conn), Backend::Mysql) => run_locked(
            conn,
            (
                "DO GET_LOCK('tessera_migrations', 60);",
                "DO RELEASE_LOCK('tessera_migrations');",
            ),
            MYSQL,
        ),
        #[allow(unreachable_patterns)]
        _ => Err(Error::BackendNotBuilt(backend.name())),
    }?;
    // After the lock is released: the rekeying is safe to race, and holding SQLite's write
    // lock through a scan of every user would make other processes' writes time out.
    let rekey = match rekey {
        Rekey::UnlessCurrent if crate::rekey::keys_are_current(&mut connection)? => {
            crate::rekey::RekeyReport::default()
        }
        _ => crate::rekey::rekey_users(&mut connection)?,
    };
    Ok(MigrationReport { applied, rekey })
}

/// Runs the pending migrations between the statements that take and release a server-side
/// lock, so that of several processes starting at once only one migrates.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn run_locked<C, DB>(
    conn: &mut C,
    (lock, unlock): (&str, &str),
    migrations: EmbeddedMigrations,
) -> Result<usize, Error>
where
    C: MigrationHarness<DB> + SimpleConnection,
    DB: diesel::backend::Backend,
{
    conn.batch_execute(lock)?;
    let result = conn.run_pending_migrations(migrations).map(|v| v.len());
    conn.batch_execute(unlock)?;
    result.map_err(|e| Error::Migration(e.to_string()))
}
