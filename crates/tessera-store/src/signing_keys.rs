//! Queries on `signing_keys`. Races between processes are settled here: `generation` is
//! unique, and a rotation applies only while its next key is still next and its active key
//! still active, all in one transaction.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use tessera_domain::{Rotation, StoredSigningKey};

use crate::DbConnection;
use crate::schema::signing_keys;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys)]
pub(crate) struct SigningKeyRow {
    pub kid: String,
    pub generation: i64,
    pub alg: String,
    pub public_jwk: String,
    pub private_key: String,
    pub created_at: NaiveDateTime,
    pub activated_at: Option<NaiveDateTime>,
    pub retired_at: Option<NaiveDateTime>,
    pub remove_after: Option<NaiveDateTime>,
}

fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(at, Utc)
}

impl From<SigningKeyRow> for StoredSigningKey {
    fn from(row: SigningKeyRow) -> StoredSigningKey {
        StoredSigningKey {
            kid: row.kid,
            generation: row.generation,
            algorithm: row.alg,
            public_jwk: row.public_jwk,
            sealed_private: row.private_key,
            created_at: utc(row.created_at),
            activated_at: row.activated_at.map(utc),
            retired_at: row.retired_at.map(utc),
            remove_after: row.remove_after.map(utc),
        }
    }
}

impl From<&StoredSigningKey> for SigningKeyRow {
    fn from(key: &StoredSigningKey) -> SigningKeyRow {
        SigningKeyRow {
            kid: key.kid.clone(),
            generation: key.generation,
            alg: key.algorithm.clone(),
            public_jwk: key.public_jwk.clone(),
            private_key: key.sealed_private.clone(),
            created_at: key.created_at.naive_utc(),
            activated_at: key.activated_at.map(|at| at.naive_utc()),
            retired_at: key.retired_at.map(|at| at.naive_utc()),
            remove_after: key.remove_after.map(|at| at.naive_utc()),
        }
    }
}

pub(crate) fn all(conn: &mut DbConnection) -> QueryResult<Vec<StoredSigningKey>> {
    Ok(signing_keys::table
        .order(signing_keys::generation.asc())
        .select(SigningKeyRow::as_select())
        .load(conn)?
        .into_iter()
        .map(StoredSigningKey::from)
        .collect())
}

/// Why a transaction was rolled back on purpose: another process got there first.
fn lost() -> DieselError {
    DieselError::RollbackTransaction
}

/// Inserts `keys` in one transaction; `false` when a generation (or kid) was taken.
pub(crate) fn insert(conn: &mut DbConnection, keys: &[StoredSigningKey]) -> QueryResult<bool> {
    let rows: Vec<SigningKeyRow> = keys.iter().map(SigningKeyRow::from).collect();
    let outcome = crate::connection::write_transaction(conn, |conn| {
        for row in &rows {
            diesel::insert_into(signing_keys::table)
                .values(row)
                .execute(conn)?;
        }
        Ok(())
    });
    settled(outcome)
}

/// Applies `rotation` in one transaction; `false` when another process rotated first. The
/// conditional updates are what decides: a racing transaction's update waits for the
/// winner's commit, then finds its row no longer matching and changes nothing.
pub(crate) fn rotate(conn: &mut DbConnection, rotation: &Rotation<'_>) -> QueryResult<bool> {
    let at = rotation.at.naive_utc();
    let new_next = SigningKeyRow::from(rotation.new_next);
    let outcome = crate::connection::write_transaction(conn, |conn| {
        let activated = diesel::update(
            signing_keys::table
                .find(rotation.next_kid)
                .filter(signing_keys::activated_at.is_null())
                .filter(signing_keys::retired_at.is_null()),
        )
        .set(signing_keys::activated_at.eq(at))
        .execute(conn)?;
        if activated != 1 {
            return Err(lost());
        }
        if let Some(active) = rotation.active_kid {
            let retired = diesel::update(
                signing_keys::table
                    .find(active)
                    .filter(signing_keys::activated_at.is_not_null())
                    .filter(signing_keys::retired_at.is_null()),
            )
            .set((
                signing_keys::retired_at.eq(at),
                signing_keys::remove_after.eq(rotation.remove_retired_after.naive_utc()),
            ))
            .execute(conn)?;
            if retired != 1 {
                return Err(lost());
            }
        }
        diesel::insert_into(signing_keys::table)
            .values(&new_next)
            .execute(conn)?;
        Ok(())
    });
    settled(outcome)
}

/// `true` when the transaction committed, `false` when it lost a race (rolled back on
/// purpose, a unique key taken, or, on InnoDB, chosen as a deadlock's victim), the error
/// otherwise. A loser reads the keys again and finds the winner's.
fn settled(outcome: QueryResult<()>) -> QueryResult<bool> {
    match outcome {
        Ok(()) => Ok(true),
        Err(DieselError::RollbackTransaction)
        | Err(DieselError::DatabaseError(
            DatabaseErrorKind::UniqueViolation | DatabaseErrorKind::SerializationFailure,
            _,
        )) => Ok(false),
        Err(other) => Err(other),
    }
}

pub(crate) fn delete_removed_before(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::delete(signing_keys::table.filter(signing_keys::remove_after.lt(now.naive_utc())))
        .execute(conn)
}
