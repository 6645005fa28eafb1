//! Queries on `login_throttle`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::DbConnection;
use crate::schema::login_throttle;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = login_throttle)]
#[diesel(treat_none_as_null = true)]
pub(crate) struct ThrottleRow {
    pub key: String,
    pub attempts: i32,
    pub locked_until: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

pub(crate) fn get(conn: &mut DbConnection, key: &str) -> QueryResult<Option<ThrottleRow>> {
    login_throttle::table
        .find(key)
        .select(ThrottleRow::as_select())
        .first(conn)
        .optional()
}

pub(crate) fn insert(conn: &mut DbConnection, row: &ThrottleRow) -> QueryResult<bool> {
    match diesel::insert_into(login_throttle::table)
        .values(row)
        .execute(conn)
    {
        Ok(_) => Ok(true),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(false),
        Err(other) => Err(other),
    }
}

/// Compare-and-set on `attempts`: only one of several racing updates of a count wins.
pub(crate) fn replace(
    conn: &mut DbConnection,
    expected_attempts: i32,
    row: &ThrottleRow,
) -> QueryResult<bool> {
    let changed = diesel::update(
        login_throttle::table
            .find(&row.key)
            .filter(login_throttle::attempts.eq(expected_attempts)),
    )
    .set(row)
    .execute(conn)?;
    Ok(changed > 0)
}

pub(crate) fn delete(conn: &mut DbConnection, key: &str) -> QueryResult<()> {
    diesel::delete(login_throttle::table.find(key))
        .execute(conn)
        .map(|_| ())
}

pub(crate) fn delete_before(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(login_throttle::table.filter(login_throttle::updated_at.lt(before)))
        .execute(conn)
}
