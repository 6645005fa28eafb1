//! Recomputing `users.username_key` after [`Username::canonical`] changed, so that rows
//! written by an older Tessera compare like new ones. It runs after every migration run
//! ([`crate::run_migrations`], [`crate::migrate`]), on `tessera serve`, `tessera migrate`
//! and the `tessera users` commands.
//!
//! Every user is read, in batches by id, and its key compared with the one computed from
//! its stored name now; only users whose key differs are written, each by a
//! compare-and-set `UPDATE` (same id, name and old key), so a run racing another process's
//! run, registration, rename or deletion changes nothing it should not. Running it again
//! changes nothing: it is idempotent. When nothing changed its cost is one read of
//! `(id, username, username_key)` per user plus computing one key per user, in batches of
//! [`BATCH`] rows. Parsing a name and computing its key takes about 1.3 µs (release
//! build), so a table of a million users costs a little over a second of CPU plus reading
//! its thousand batches. So a clean run (no collisions, no refused names) records
//! [`KEY_VERSION`] in `store_meta`, and starts and `tessera users` commands skip the scan
//! while it is current; `tessera migrate` always scans.
//!
//! When a user's new key is already held by another user (`admin`, id 1, and `ａｄｍｉｎ`,
//! id 7, written when width still made a difference), the holder keeps it and the other
//! row is left exactly as it was; among users who all need the same free key, the one with
//! the lowest id (the earlier registration) gets it. Each such collision is logged as a
//! warning with both ids and the key, and returned in [`RekeyReport::collisions`]: nothing
//! fails, and the operator decides which account goes (see [`KeyCollision`]).

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use tessera_domain::{UserId, Username, UsernameError};

use crate::schema::{store_meta, users};

/// The `store_meta` row naming the key version every user row holds.
const KEY_VERSION_NAME: &str = "username_key_version";

/// Whether the store is marked as holding keys of [`KEY_VERSION`].
pub(crate) fn keys_are_current(conn: &mut DbConnection) -> Result<bool, Error> {
    let value: Option<String> = store_meta::table
        .find(KEY_VERSION_NAME)
        .select(store_meta::value)
        .first(conn)
        .optional()?;
    Ok(value == Some(KEY_VERSION.to_string()))
}

/// Marks the store as holding keys of [`KEY_VERSION`]. Processes starting at once may all
/// mark it; the value is the same, so losing the race is success.
fn mark_keys_current(conn: &mut DbConnection) -> Result<(), Error> {
    if keys_are_current(conn)? {
        return Ok(());
    }
    diesel::delete(store_meta::table.find(KEY_VERSION_NAME)).execute(conn)?;
    let inserted = diesel::insert_into(store_meta::table)
        .values((
            store_meta::name.eq(KEY_VERSION_NAME),
            store_meta::value.eq(KEY_VERSION.to_string()),
        ))
        .execute(conn);
    match inserted {
        Ok(_) | Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(()),
        Err(other) => Err(other.into()),
    }
}
use crate::{DbConnection, Error};

/// The version of [`Username::canonical`] that keys are computed with: 1 was canonical
/// caseless matching (Unicode D145), 2 is compatibility caseless matching with runs of
/// spaces collapsed (D146). Stored as `username_key_version` in `store_meta` after a clean
/// run of [`rekey_users`].
pub const KEY_VERSION: u32 = 2;

/// How many users are read per query while scanning.
pub const BATCH: i64 = 1000;

/// What [`rekey_users`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RekeyReport {
    /// Users read.
    pub scanned: usize,
    /// Users whose key was replaced by the current one.
    pub rekeyed: usize,
    /// Users left with their old key because another user holds their new one, by id of
    /// the user left unchanged.
    pub collisions: Vec<KeyCollision>,
    /// Users whose stored name today's policy refuses (so no key can be computed for it),
    /// left unchanged, by id.
    pub invalid: Vec<InvalidStoredName>,
}

impl RekeyReport {
    /// Whether every user now has the current key.
    pub fn is_clean(&self) -> bool {
        self.collisions.is_empty() && self.invalid.is_empty()
    }
}

/// Two users whose names now compare equal: `holder` has the shared key, `unchanged`
/// keeps its old one.
///
/// Until the operator resolves it, signing in as either name reaches `holder`; `unchanged`
/// keeps its sessions and tokens (they name it by id) but cannot sign in by name. Names
/// are looked up by the new key, so `tessera users delete NAME` with *either* name reaches
/// `holder`. The ways out: delete `holder` with `tessera users delete` (the next run then
/// gives `unchanged` the key), or rename `unchanged` (`UPDATE users SET username = 'new
/// name' WHERE id = …`, then `tessera migrate` gives it the new name's key) and, if it
/// should go, delete it by its new name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCollision {
    /// The key both names have now.
    pub key: String,
    /// The user who has the key.
    pub holder: UserId,
    /// The holder's stored name.
    pub holder_username: String,
    /// The user left with its old key.
    pub unchanged: UserId,
    /// That user's stored name.
    pub unchanged_username: String,
    /// That user's old key, still stored.
    pub unchanged_key: String,
}

impl std::fmt::Display for KeyCollision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "users {} ({:?}) and {} ({:?}) now share the username key {:?}: user {} keeps it, \
             user {} keeps its old key and cannot sign in by name until one of them is \
             deleted (`tessera users delete --id {}` or `--id {}`) or user {} is renamed \
             (UPDATE users SET username = '…' WHERE id = {}; then `tessera migrate`)",
            self.holder,
            self.holder_username,
            self.unchanged,
            self.unchanged_username,
            self.key,
            self.holder,
            self.unchanged,
            self.holder,
            self.unchanged,
            self.unchanged,
            self.unchanged,
        )
    }
}

/// A stored name that [`Username::parse`] refuses today, for instance one whose key would
/// be longer than [`Username::MAX_CANONICAL_CHARS`]. Its row is left as it was; the user
/// cannot sign in by name until renamed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidStoredName {
    /// The user.
    pub id: UserId,
    /// Its stored name.
    pub username: String,
    /// Why the name is refused.
    pub error: UsernameError,
}

/// What [`crate::migrate`] did: the migrations applied, then the rekeying.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationReport {
    /// How many migrations ran.
    pub applied: usize,
    /// What [`rekey_users`] did afterwards.
    pub rekey: RekeyReport,
}

/// Opens a connection to `url` and runs [`rekey_users`] on it.
pub fn rekey_usernames(url: &str) -> Result<RekeyReport, Error> {
    let mut connection = crate::connection::establish(url)?;
    rekey_users(&mut connection)
}

/// Gives every user whose stored `username_key` is not [`Username::canonical`] of its
/// stored name the current key, reporting (and logging) those it cannot give it: see the
/// module docs. Fails only when the database does.
pub fn rekey_users(conn: &mut DbConnection) -> Result<RekeyReport, Error> {
    let mut report = RekeyReport::default();
    let mut stale = Vec::new();
    scan(conn, &mut report, &mut stale)?;
    if !stale.is_empty() {
        resolve(conn, &mut report, stale)?;
    }
    for invalid in &report.invalid {
        tracing::warn!(
            user_id = invalid.id.0,
            reason = %invalid.error,
            "the stored name of this user is refused by the username policy; its key was \
             left unchanged and it cannot sign in by name until renamed"
        );
    }
    for collision in &report.collisions {
        tracing::warn!(
            key = %collision.key,
            holder_id = collision.holder.0,
            unchanged_id = collision.unchanged.0,
            "two users now share a username key: the holder keeps it, the other keeps its \
             old key and cannot sign in by name; delete one (`tessera users delete --id ID`) \
             or rename the other, then run `tessera migrate`"
        );
    }
    if report.rekeyed > 0 {
        tracing::info!(
            rekeyed = report.rekeyed,
            scanned = report.scanned,
            "recomputed username keys"
        );
    }
    if report.is_clean() {
        mark_keys_current(conn)?;
    }
    Ok(report)
}

/// A user whose stored key is not the current one.
#[derive(Debug)]
struct Stale {
    id: i32,
    username: String,
    current: String,
    wanted: String,
}

fn scan(
    conn: &mut DbConnection,
    report: &mut RekeyReport,
    stale: &mut Vec<Stale>,
) -> QueryResult<()> {
    let mut after = i32::MIN;
    loop {
        let rows: Vec<(i32, String, String)> = users::table
            .filter(users::id.gt(after))
            .order(users::id)
            .select((users::id, users::username, users::username_key))
            .limit(BATCH)
            .load(conn)?;
        let Some(&(last, _, _)) = rows.last() else {
            return Ok(());
        };
        after = last;
        report.scanned += rows.len();
        for (id, username, current) in rows {
            match Username::parse(&username) {
                Ok(name) => {
                    let wanted = name.canonical();
                    if wanted != current {
                        stale.push(Stale {
                            id,
                            username,
                            current,
                            wanted,
                        });
                    }
                }
                Err(error) => report.invalid.push(InvalidStoredName {
                    id: UserId(i64::from(id)),
                    username,
                    error,
                }),
            }
        }
    }
}

/// Who holds `key` in the database now.
fn holder_of(conn: &mut DbConnection, key: &str) -> QueryResult<Option<(i32, String)>> {
    users::table
        .filter(users::username_key.eq(key))
        .select((users::id, users::username))
        .first(conn)
        .optional()
}

enum Update {
    Done,
    /// The row no longer has the name and key it was read with (renamed, deleted or
    /// rekeyed by another process meanwhile): left to whoever changed it.
    Changed,
    /// Another row holds the key (inserted meanwhile).
    Taken,
}

fn update(conn: &mut DbConnection, user: &Stale) -> QueryResult<Update> {
    // In its own transaction (a savepoint inside one), so that a unique violation leaves
    // any enclosing transaction usable on PostgreSQL.
    let result = conn.transaction(|conn| {
        diesel::update(
            users::table
                .filter(users::id.eq(user.id))
                .filter(users::username.eq(&user.username))
                .filter(users::username_key.eq(&user.current)),
        )
        .set(users::username_key.eq(&user.wanted))
        .execute(conn)
    });
    match result {
        Ok(0) => Ok(Update::Changed),
        Ok(_) => Ok(Update::Done),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(Update::Taken),
        Err(other) => Err(other),
    }
}

/// Gives stale users their keys, lowest id first, in passes: a key held by a user that is
/// itself stale may be freed when that user moves to its own new key. What cannot move
/// once no pass makes progress is a collision.
fn resolve(
    conn: &mut DbConnection,
    report: &mut RekeyReport,
    mut pending: Vec<Stale>,
) -> QueryResult<()> {
    pending.sort_by_key(|user| user.id);
    // Who holds each key that matters, as far as this run knows: the stale users' current
    // keys (they hold them) and the keys they want.
    let mut holders: HashMap<String, (i32, String)> = pending
        .iter()
        .map(|user| (user.current.clone(), (user.id, user.username.clone())))
        .collect();
    for user in &pending {
        if !holders.contains_key(&user.wanted) {
            if let Some(holder) = holder_of(conn, &user.wanted)? {
                holders.insert(user.wanted.clone(), holder);
            }
        }
    }
    loop {
        let mut progressed = false;
        let mut blocked = Vec::new();
        for user in pending {
            if holders.contains_key(&user.wanted) {
                blocked.push(user);
                continue;
            }
            match update(conn, &user)? {
                Update::Done => {
                    holders.remove(&user.current);
                    holders.insert(user.wanted.clone(), (user.id, user.username.clone()));
                    report.rekeyed += 1;
                    progressed = true;
                }
                Update::Changed => {
                    holders.remove(&user.current);
                    progressed = true;
                }
                Update::Taken => {
                    if let Some(holder) = holder_of(conn, &user.wanted)? {
                        holders.insert(user.wanted.clone(), holder);
                    }
                    blocked.push(user);
                }
            }
        }
        pending = blocked;
        if !progressed || pending.is_empty() {
            break;
        }
    }
    for user in pending {
        // Who holds the key now, read again: the report must name the actual holder.
        let Some((holder, holder_username)) = holder_of(conn, &user.wanted)? else {
            // Freed at the last moment by another process; the next run gives it.
            tracing::info!(
                user_id = user.id,
                "a username key became free during rekeying; it is given on the next run"
            );
            continue;
        };
        report.collisions.push(KeyCollision {
            key: user.wanted,
            holder: UserId(i64::from(holder)),
            holder_username,
            unchanged: UserId(i64::from(user.id)),
            unchanged_username: user.username,
            unchanged_key: user.current,
        });
    }
    Ok(())
}

/// Test support: rows as an older Tessera wrote them.
#[cfg(feature = "testing")]
pub mod testing {
    use diesel::prelude::*;
    use tessera_domain::UserId;

    use crate::models::NewUserRow;
    use crate::schema::{store_meta, users};

    /// Removes the mark that keys are current, as in a database an older Tessera wrote.
    pub fn forget_key_version(url: &str) {
        let mut conn = crate::connection::establish(url).expect("the test database opens");
        diesel::delete(store_meta::table)
            .execute(&mut conn)
            .expect("the mark is removed");
    }

    /// Inserts a user named `username` (stored as given) with `username_key` as its key,
    /// as an older version's key function would have computed it, and returns its id.
    pub fn insert_with_key(url: &str, username: &str, username_key: &str) -> UserId {
        let mut conn = crate::connection::establish(url).expect("the test database opens");
        let now = chrono::Utc::now().naive_utc();
        let row = NewUserRow {
            username,
            username_key,
            password_hash: "$2b$04$hash",
            created_at: now,
            updated_at: now,
        };
        diesel::insert_into(users::table)
            .values(&row)
            .execute(&mut conn)
            .expect("the old-style row is inserted");
        let id: i32 = users::table
            .filter(users::username_key.eq(username_key))
            .select(users::id)
            .first(&mut conn)
            .expect("the row reads back");
        UserId(i64::from(id))
    }

    /// The stored key of user `id`.
    pub fn stored_key(url: &str, id: UserId) -> Option<String> {
        let mut conn = crate::connection::establish(url).expect("the test database opens");
        let id = i32::try_from(id.0).ok()?;
        users::table
            .find(id)
            .select(users::username_key)
            .first(&mut conn)
            .optional()
            .expect("the key reads")
    }

    /// Stores `username` as the name of user `id` without touching its key, as an
    /// operator's `UPDATE users SET username = …` does.
    pub fn rename_in_sql(url: &str, id: UserId, username: &str) {
        let mut conn = crate::connection::establish(url).expect("the test database opens");
        let id = i32::try_from(id.0).expect("an id in range");
        diesel::update(users::table.find(id))
            .set(users::username.eq(username))
            .execute(&mut conn)
            .expect("the name is updated");
    }
}
