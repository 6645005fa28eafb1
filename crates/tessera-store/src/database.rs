use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection, R2D2Connection};
use tessera_domain::{
    ClientRepository, ImportOutcome, ImportedUser, NewUser, Rotation, Session, SessionId,
    SessionRepository, SigningKeyRepository, StoreError, StoredClient, StoredSession,
    StoredSigningKey, ThrottleRepository, ThrottleState, User, UserId, UserRepository, Username,
};

use crate::error::to_store_error;
use crate::models::{NewSessionRow, NewUserRow};
use crate::{Backend, DbConnection, Error, clients, sessions, signing_keys, throttle, users};

/// Sizing of the connection pool.
#[derive(Debug, Clone)]
pub struct PoolOptions {
    /// Most connections kept open at once.
    pub max_connections: u32,
    /// How long a request waits for a connection before the store reports itself
    /// unavailable.
    pub acquire_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// A pool of connections to one database; implements the domain's repository traits.
#[derive(Clone)]
pub struct Database {
    pool: Pool<Manager>,
    backend: Backend,
    write_probe: Arc<Mutex<Option<WriteProbe>>>,
}

/// The last write of the readiness check, and how it went.
#[derive(Debug, Clone)]
struct WriteProbe {
    at: Instant,
    outcome: Result<(), StoreError>,
}

/// The readiness check writes at most this often; checks in between reuse the last outcome,
/// so a load balancer polling every second adds one tiny write per interval, not a storm.
pub const WRITE_PROBE_INTERVAL: Duration = Duration::from_secs(2);

/// The `store_meta` row the readiness check rewrites.
const WRITE_PROBE_NAME: &str = "readiness_write_probe";

/// How often one store call is run when the database ends it to break a deadlock.
const SERIALIZATION_ATTEMPTS: u32 = 5;

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl Database {
    /// A pool for `url`. Connections are opened lazily, so this succeeds while the database
    /// is down and the service recovers by itself when it returns.
    pub fn open(url: &str, options: &PoolOptions) -> Result<Database, Error> {
        let backend = Backend::from_url(url)?;
        crate::connection::narrow_to_owner(url);
        let pool = Pool::builder()
            .max_size(options.max_connections)
            .min_idle(Some(0))
            .connection_timeout(options.acquire_timeout)
            .error_handler(Box::new(r2d2::NopErrorHandler))
            .build_unchecked(Manager {
                url: url.to_owned(),
            });
        Ok(Database {
            pool,
            backend,
            write_probe: Arc::default(),
        })
    }

    /// Which backend this pool talks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Open connections, and how many of them are idle.
    pub fn pool_usage(&self) -> (u32, u32) {
        let state = self.pool.state();
        (state.connections, state.idle_connections)
    }

    fn connection(&self) -> Result<PooledConnection<Manager>, StoreError> {
        self.pool
            .get()
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    /// Runs `f` on a pooled connection, mapping Diesel's errors to the domain's.
    ///
    /// A statement or transaction the database ended to break a deadlock (InnoDB does that
    /// to one of several racing sign-ins of a user) changed nothing, and the database's own
    /// advice is to run it again: it is, up to [`SERIALIZATION_ATTEMPTS`] times in all.
    fn with<T>(
        &self,
        mut f: impl FnMut(&mut DbConnection) -> diesel::QueryResult<T>,
    ) -> Result<T, StoreError> {
        let mut connection = self.connection()?;
        let mut attempt = 1;
        let outcome = loop {
            match f(&mut connection) {
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::SerializationFailure,
                    _,
                )) if attempt < SERIALIZATION_ATTEMPTS => attempt += 1,
                outcome => break outcome,
            }
        };
        outcome.map_err(|error| {
            // A query that failed because the server went away is an outage, not a bug,
            // whatever error code the driver reported for it.
            if connection.is_broken() || connection.ping().is_err() {
                StoreError::Unavailable(error.to_string())
            } else {
                to_store_error(error)
            }
        })
    }
}

impl Database {
    /// Whether the database takes a write: a database that answers reads but is full or
    /// read-only must fail the readiness check. Rewrites one `store_meta` row, at most once
    /// per [`WRITE_PROBE_INTERVAL`]; concurrent checks wait for the one write in flight.
    fn probe_writes(&self) -> Result<(), StoreError> {
        let mut last = self
            .write_probe
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(probe) = last.as_ref() {
            if probe.at.elapsed() < WRITE_PROBE_INTERVAL {
                return probe.outcome.clone();
            }
        }
        // The value changes every time: MySQL skips the write of an unchanged row.
        let value = Utc::now().to_rfc3339();
        let outcome = self.with(|conn| crate::meta::write(conn, WRITE_PROBE_NAME, &value));
        *last = Some(WriteProbe {
            at: Instant::now(),
            outcome: outcome.clone(),
        });
        outcome
    }
}

/// Hands out connections for `r2d2`, opening them with the session set-up of
/// [`crate::connection::establish`].
struct Manager {
    url: String,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = Error;

    fn connect(&self) -> Result<DbConnection, Error> {
        crate::connection::establish(&self.url)
    }

    fn is_valid(&self, connection: &mut DbConnection) -> Result<(), Error> {
        connection.ping().map_err(Error::Query)
    }

    fn has_broken(&self, connection: &mut DbConnection) -> bool {
        connection.is_broken()
    }
}

/// Ids beyond `i32` cannot exist in the table; such lookups simply find nothing.
fn row_id(id: UserId) -> Option<i32> {
    i32::try_from(id.0).ok()
}

impl UserRepository for Database {
    fn insert_user(&self, new_user: &NewUser<'_>) -> Result<User, StoreError> {
        let username_key = new_user.username.canonical();
        let row = NewUserRow {
            username: new_user.username.as_str(),
            username_key: &username_key,
            password_hash: new_user.password_hash,
            created_at: new_user.created_at.naive_utc(),
            updated_at: new_user.created_at.naive_utc(),
        };
        self.with(|conn| users::insert(conn, &row)).map(User::from)
    }

    fn find_by_username(&self, username: &Username) -> Result<Option<User>, StoreError> {
        let key = username.canonical();
        Ok(self.with(|conn| users::by_key(conn, &key))?.map(User::from))
    }

    fn find_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let Some(id) = row_id(id) else {
            return Ok(None);
        };
        Ok(self.with(|conn| users::by_id(conn, id))?.map(User::from))
    }

    fn list_users(&self) -> Result<Vec<User>, StoreError> {
        Ok(self.with(users::all)?.into_iter().map(User::from).collect())
    }

    fn update_password_hash(
        &self,
        id: UserId,
        password_hash: &str,
        updated_at: DateTime<Utc>,
        keep_session: Option<&SessionId>,
    ) -> Result<bool, StoreError> {
        let Some(id) = row_id(id) else {
            return Ok(false);
        };
        let keep = keep_session.map(|s| s.0.as_str());
        self.with(|conn| {
            users::set_password_hash(conn, id, password_hash, updated_at.naive_utc(), keep)
        })
    }

    fn set_tokens_not_before(&self, id: UserId, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let Some(id) = row_id(id) else {
            return Ok(false);
        };
        self.with(|conn| users::set_tokens_not_before(conn, id, at.naive_utc()))
    }

    fn replace_password_hash(
        &self,
        id: UserId,
        expected: &str,
        password_hash: &str,
        updated_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let Some(id) = row_id(id) else {
            return Ok(false);
        };
        self.with(|conn| {
            users::replace_password_hash(conn, id, expected, password_hash, updated_at.naive_utc())
        })
    }

    fn find_password_hash_with_prefix(&self, prefix: &str) -> Result<Option<String>, StoreError> {
        self.with(|conn| users::password_hash_with_prefix(conn, prefix))
    }

    fn import_users(
        &self,
        users: &[ImportedUser<'_>],
        reserve_ids_through: Option<UserId>,
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<ImportOutcome>, StoreError> {
        let backend = self.backend;
        self.with(|conn| {
            crate::import::import_users(conn, backend, users, reserve_ids_through, progress)
        })
    }

    fn delete_user(&self, id: UserId) -> Result<bool, StoreError> {
        let Some(id) = row_id(id) else {
            return Ok(false);
        };
        self.with(|conn| users::delete(conn, id))
    }

    fn ping(&self) -> Result<(), StoreError> {
        {
            let mut connection = self.connection()?;
            connection.ping().map(|_| ()).map_err(to_store_error)?;
        }
        self.probe_writes()
    }
}

impl SessionRepository for Database {
    fn insert_session(&self, session: &Session, refresh_hash: &str) -> Result<(), StoreError> {
        let Some(user_id) = row_id(session.user_id) else {
            return Err(StoreError::Internal("user id out of range".to_owned()));
        };
        let row = NewSessionRow {
            id: &session.id.0,
            user_id,
            refresh_hash,
            created_at: session.created_at.naive_utc(),
            last_used_at: session.last_used_at.naive_utc(),
            expires_at: session.expires_at.naive_utc(),
            revoked_at: session.revoked_at.map(|at| at.naive_utc()),
            user_agent: session.origin.user_agent.as_deref(),
            address: session.origin.address.as_deref(),
        };
        self.with(|conn| sessions::insert(conn, &row))
    }

    fn find_session(&self, id: &SessionId) -> Result<Option<StoredSession>, StoreError> {
        Ok(self
            .with(|conn| sessions::by_id(conn, &id.0))?
            .map(StoredSession::from))
    }

    fn rotate_refresh_hash(
        &self,
        id: &SessionId,
        expected: &str,
        replacement: &str,
        used_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.with(|conn| {
            sessions::rotate(
                conn,
                &id.0,
                expected,
                replacement,
                used_at.naive_utc(),
                expires_at.naive_utc(),
            )
        })
    }

    fn spent_refresh_hash(
        &self,
        id: &SessionId,
        hash: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let at = self.with(|conn| sessions::spent_at(conn, &id.0, hash))?;
        Ok(at.map(|at| DateTime::from_naive_utc_and_offset(at, Utc)))
    }

    fn revoke_session(&self, id: &SessionId, at: DateTime<Utc>) -> Result<bool, StoreError> {
        self.with(|conn| sessions::revoke(conn, &id.0, at.naive_utc()))
    }

    fn live_sessions(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<Session>, StoreError> {
        let Some(user_id) = row_id(user_id) else {
            return Ok(Vec::new());
        };
        let rows = self.with(|conn| sessions::live_for_user(conn, user_id, now.naive_utc()))?;
        Ok(rows
            .into_iter()
            .map(|row| StoredSession::from(row).session)
            .collect())
    }

    fn end_sessions_beyond(
        &self,
        user_id: UserId,
        keep: usize,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionId>, StoreError> {
        let Some(user_id) = row_id(user_id) else {
            return Ok(Vec::new());
        };
        let ids =
            self.with(|conn| sessions::revoke_beyond(conn, user_id, keep, now.naive_utc()))?;
        Ok(ids.into_iter().map(SessionId).collect())
    }

    fn revoked_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<(SessionId, DateTime<Utc>)>, StoreError> {
        let rows = self.with(|conn| sessions::revoked_since(conn, since.naive_utc()))?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, at)| {
                Some((SessionId(id), DateTime::from_naive_utc_and_offset(at?, Utc)))
            })
            .collect())
    }

    fn delete_expired_sessions(&self, before: DateTime<Utc>) -> Result<usize, StoreError> {
        self.with(|conn| sessions::delete_expired(conn, before.naive_utc()))
    }
}

fn throttle_row(key: &str, state: &ThrottleState) -> throttle::ThrottleRow {
    throttle::ThrottleRow {
        key: key.to_owned(),
        attempts: state.attempts,
        locked_until: state.locked_until.map(|at| at.naive_utc()),
        updated_at: state.updated_at.naive_utc(),
    }
}

impl ThrottleRepository for Database {
    fn throttle_state(&self, key: &str) -> Result<Option<ThrottleState>, StoreError> {
        let utc = |at| DateTime::from_naive_utc_and_offset(at, Utc);
        Ok(self
            .with(|conn| throttle::get(conn, key))?
            .map(|row| ThrottleState {
                attempts: row.attempts,
                locked_until: row.locked_until.map(utc),
                updated_at: utc(row.updated_at),
            }))
    }

    fn insert_throttle_state(&self, key: &str, state: &ThrottleState) -> Result<bool, StoreError> {
        self.with(|conn| throttle::insert(conn, &throttle_row(key, state)))
    }

    fn replace_throttle_state(
        &self,
        key: &str,
        expected_attempts: i32,
        state: &ThrottleState,
    ) -> Result<bool, StoreError> {
        self.with(|conn| throttle::replace(conn, expected_attempts, &throttle_row(key, state)))
    }

    fn delete_throttle_state(&self, key: &str) -> Result<(), StoreError> {
        self.with(|conn| throttle::delete(conn, key))
    }

    fn delete_throttle_states_before(&self, before: DateTime<Utc>) -> Result<usize, StoreError> {
        self.with(|conn| throttle::delete_before(conn, before.naive_utc()))
    }
}

impl SigningKeyRepository for Database {
    fn signing_keys(&self) -> Result<Vec<StoredSigningKey>, StoreError> {
        self.with(signing_keys::all)
    }

    fn insert_signing_keys(&self, keys: &[StoredSigningKey]) -> Result<bool, StoreError> {
        self.with(|conn| signing_keys::insert(conn, keys))
    }

    fn rotate_signing_keys(&self, rotation: &Rotation<'_>) -> Result<bool, StoreError> {
        self.with(|conn| signing_keys::rotate(conn, rotation))
    }

    fn delete_signing_keys_removed_before(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        self.with(|conn| signing_keys::delete_removed_before(conn, now))
    }
}

impl ClientRepository for Database {
    fn insert_client(&self, client: &StoredClient) -> Result<(), StoreError> {
        self.with(|conn| clients::insert(conn, client))
    }

    fn find_client(&self, id: &str) -> Result<Option<StoredClient>, StoreError> {
        self.with(|conn| clients::by_id(conn, id))
    }

    fn list_clients(&self) -> Result<Vec<StoredClient>, StoreError> {
        self.with(clients::all)
    }

    fn delete_client(&self, id: &str) -> Result<bool, StoreError> {
        self.with(|conn| clients::delete(conn, id))
    }

    fn replace_client_secret(
        &self,
        id: &str,
        secret_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.with(|conn| clients::replace_secret(conn, id, secret_hash, at.naive_utc()))
    }
}
