//! Queries on `users`. Each takes the connection it runs on and returns Diesel's own
//! result, so they compose inside transactions and tests can call them directly.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::DbConnection;
use crate::models::{NewUserRow, UserRow};
use crate::schema::users;

/// Inserts a user and reads it back (MySQL has no `RETURNING`, so it is a second query in
/// the same transaction). InnoDB can end one of several racing inserts of the same name as a
/// deadlock victim; tried again (by `Database::with`), it meets the winner's row as a unique
/// violation.
pub(crate) fn insert(conn: &mut DbConnection, row: &NewUserRow<'_>) -> QueryResult<UserRow> {
    crate::connection::write_transaction(conn, |conn| {
        diesel::insert_into(users::table)
            .values(row)
            .execute(conn)?;
        by_key(conn, row.username_key)?.ok_or(diesel::result::Error::NotFound)
    })
}

pub(crate) fn by_key(conn: &mut DbConnection, username_key: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::username_key.eq(username_key))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub(crate) fn by_id(conn: &mut DbConnection, id: i32) -> QueryResult<Option<UserRow>> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub(crate) fn all(conn: &mut DbConnection) -> QueryResult<Vec<UserRow>> {
    users::table
        .order(users::id)
        .select(UserRow::as_select())
        .load(conn)
}

/// A new password: the hash, the end of older session-less tokens, and the end of every
/// session but `keep`, in one transaction.
pub(crate) fn set_password_hash(
    conn: &mut DbConnection,
    id: i32,
    password_hash: &str,
    updated_at: NaiveDateTime,
    keep: Option<&str>,
) -> QueryResult<bool> {
    crate::connection::write_transaction(conn, |conn| {
        let changed = diesel::update(users::table.find(id))
            .set((
                users::password_hash.eq(password_hash),
                users::updated_at.eq(updated_at),
                users::tokens_not_before.eq(updated_at),
            ))
            .execute(conn)?;
        if changed == 0 {
            return Ok(false);
        }
        crate::sessions::revoke_for_user(conn, id, keep, updated_at)?;
        Ok(true)
    })
}

pub(crate) fn set_tokens_not_before(
    conn: &mut DbConnection,
    id: i32,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let changed = diesel::update(users::table.find(id))
        .set(users::tokens_not_before.eq(at))
        .execute(conn)?;
    Ok(changed > 0)
}

/// Deletes a user and, in the same transaction, ends their sessions: however a user is
/// deleted (API or CLI), every process learns of it through the revoked sessions.
pub(crate) fn delete(conn: &mut DbConnection, id: i32) -> QueryResult<bool> {
    crate::connection::write_transaction(conn, |conn| {
        let now = chrono::Utc::now().naive_utc();
        crate::sessions::revoke_for_user(conn, id, None, now)?;
        Ok(diesel::delete(users::table.find(id)).execute(conn)? > 0)
    })
}

/// Compare-and-swap of the password hash: changes nothing unless the stored hash is still
/// `expected`. One statement, so atomic on every backend.
pub(crate) fn replace_password_hash(
    conn: &mut DbConnection,
    id: i32,
    expected: &str,
    password_hash: &str,
    updated_at: NaiveDateTime,
) -> QueryResult<bool> {
    let changed = diesel::update(
        users::table
            .filter(users::id.eq(id))
            .filter(users::password_hash.eq(expected)),
    )
    .set((
        users::password_hash.eq(password_hash),
        users::updated_at.eq(updated_at),
    ))
    .execute(conn)?;
    Ok(changed > 0)
}

/// Some password hash starting with `prefix`. `LIKE` treats `%` and `_` specially, so
/// the prefix is matched loosely by `LIKE` and then exactly here.
pub(crate) fn password_hash_with_prefix(
    conn: &mut DbConnection,
    prefix: &str,
) -> QueryResult<Option<String>> {
    let pattern: String = prefix
        .chars()
        .map(|c| if matches!(c, '%' | '_') { '_' } else { c })
        .chain(std::iter::once('%'))
        .collect();
    let candidates: Vec<String> = users::table
        .filter(users::password_hash.like(pattern))
        .select(users::password_hash)
        .limit(16)
        .load(conn)?;
    Ok(candidates.into_iter().find(|hash| hash.starts_with(prefix)))
}
