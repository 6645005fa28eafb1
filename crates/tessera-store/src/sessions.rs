//! Queries on `sessions`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::DbConnection;
use crate::models::{NewSessionRow, SessionRow};
use crate::schema::{sessions, spent_refresh_secrets};

pub(crate) fn insert(conn: &mut DbConnection, row: &NewSessionRow<'_>) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub(crate) fn by_id(conn: &mut DbConnection, id: &str) -> QueryResult<Option<SessionRow>> {
    sessions::table
        .find(id)
        .select(SessionRow::as_select())
        .first(conn)
        .optional()
}

/// Compare-and-swap of the refresh hash: concurrent refreshes of one secret cannot both win.
/// The winner keeps the replaced hash as spent, in the same transaction, so presenting it
/// again is recognised as reuse.
pub(crate) fn rotate(
    conn: &mut DbConnection,
    id: &str,
    expected: &str,
    replacement: &str,
    used_at: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<bool> {
    crate::connection::write_transaction(conn, |conn| {
        let changed = diesel::update(
            sessions::table
                .find(id)
                .filter(sessions::refresh_hash.eq(expected))
                .filter(sessions::revoked_at.is_null()),
        )
        .set((
            sessions::refresh_hash.eq(replacement),
            sessions::last_used_at.eq(used_at),
        ))
        .execute(conn)?;
        if changed == 0 {
            return Ok(false);
        }
        diesel::insert_into(spent_refresh_secrets::table)
            .values((
                spent_refresh_secrets::secret_hash.eq(expected),
                spent_refresh_secrets::session_id.eq(id),
                spent_refresh_secrets::expires_at.eq(expires_at),
                spent_refresh_secrets::rotated_at.eq(used_at),
            ))
            .execute(conn)?;
        Ok(true)
    })
}

/// When session `id` rotated out the secret `hash`, if it did.
pub(crate) fn spent_at(
    conn: &mut DbConnection,
    id: &str,
    hash: &str,
) -> QueryResult<Option<NaiveDateTime>> {
    spent_refresh_secrets::table
        .find(hash)
        .filter(spent_refresh_secrets::session_id.eq(id))
        .select(spent_refresh_secrets::rotated_at)
        .first(conn)
        .optional()
}

pub(crate) fn revoke(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> QueryResult<bool> {
    let changed = diesel::update(
        sessions::table
            .find(id)
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(at))
    .execute(conn)?;
    Ok(changed > 0)
}

pub(crate) fn revoke_for_user(
    conn: &mut DbConnection,
    user_id: i32,
    keep: Option<&str>,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    let live = sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null());
    match keep {
        Some(keep) => diesel::update(live.filter(sessions::id.ne(keep)))
            .set(sessions::revoked_at.eq(at))
            .execute(conn),
        None => diesel::update(live)
            .set(sessions::revoked_at.eq(at))
            .execute(conn),
    }
}

pub(crate) fn live_for_user(
    conn: &mut DbConnection,
    user_id: i32,
    now: NaiveDateTime,
) -> QueryResult<Vec<SessionRow>> {
    sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .order((sessions::created_at.desc(), sessions::id))
        .select(SessionRow::as_select())
        .load(conn)
}

/// Ends the user's live sessions beyond the `keep` most recently used; their ids.
pub(crate) fn revoke_beyond(
    conn: &mut DbConnection,
    user_id: i32,
    keep: usize,
    now: NaiveDateTime,
) -> QueryResult<Vec<String>> {
    crate::connection::write_transaction(conn, |conn| {
        // A user has at most one more live session than `keep` when this runs, so loading
        // the ids is cheap, and portable where OFFSET without LIMIT is not (MariaDB).
        let live: Vec<String> = sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::expires_at.gt(now))
            .order((
                sessions::last_used_at.desc(),
                sessions::created_at.desc(),
                sessions::id,
            ))
            .select(sessions::id)
            .load(conn)?;
        let beyond: Vec<String> = live.into_iter().skip(keep).collect();
        if !beyond.is_empty() {
            diesel::update(
                sessions::table
                    .filter(sessions::id.eq_any(&beyond))
                    .filter(sessions::revoked_at.is_null()),
            )
            .set(sessions::revoked_at.eq(now))
            .execute(conn)?;
        }
        Ok(beyond)
    })
}

pub(crate) fn revoked_since(
    conn: &mut DbConnection,
    since: NaiveDateTime,
) -> QueryResult<Vec<(String, Option<NaiveDateTime>)>> {
    sessions::table
        .filter(sessions::revoked_at.ge(since))
        .select((sessions::id, sessions::revoked_at))
        .load(conn)
}

pub(crate) fn delete_expired(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(
        spent_refresh_secrets::table.filter(spent_refresh_secrets::expires_at.lt(before)),
    )
    .execute(conn)?;
    diesel::delete(sessions::table.filter(sessions::expires_at.lt(before))).execute(conn)
}
