//! Queries on `store_meta`, the store's own name/value rows.

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::DbConnection;
use crate::schema::store_meta;

/// Sets `name` to `value`, inserting the row when it is missing. An insert that loses a
/// race with another process's insert of the same row has still written nothing wrong.
pub(crate) fn write(conn: &mut DbConnection, name: &str, value: &str) -> QueryResult<()> {
    let updated = diesel::update(store_meta::table.find(name))
        .set(store_meta::value.eq(value))
        .execute(conn)?;
    if updated > 0 {
        return Ok(());
    }
    match diesel::insert_into(store_meta::table)
        .values((store_meta::name.eq(name), store_meta::value.eq(value)))
        .execute(conn)
    {
        Ok(_) | Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(()),
        Err(other) => Err(other),
    }
}
