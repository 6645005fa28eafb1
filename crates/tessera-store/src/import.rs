//! Importing users in one transaction, keeping their old ids where free (see
//! [`tessera_domain::UserRepository::import_users`]).

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use tessera_domain::{ImportOutcome, ImportedUser, UserId};

use crate::models::NewUserRow;
use crate::schema::users;
use crate::{Backend, DbConnection, users as queries};

/// A user inserted under a chosen id.
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
struct UserRowWithId<'a> {
    id: i32,
    username: &'a str,
    username_key: &'a str,
    password_hash: &'a str,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// Runs the import on `conn`. On error the transaction is rolled back; only an id
/// reservation may remain (MySQL's `AUTO_INCREMENT`, PostgreSQL's sequence), which leaves
/// nothing but a gap in future ids.
pub(crate) fn import_users(
    conn: &mut DbConnection,
    backend: Backend,
    users: &[ImportedUser<'_>],
    reserve_ids_through: Option<UserId>,
    progress: &mut dyn FnMut(usize),
) -> QueryResult<Vec<ImportOutcome>> {
    let reserve = reserve_ids_through
        .and_then(|id| i32::try_from(id.0).ok())
        .filter(|&id| id > 0);
    if backend == Backend::Mysql {
        if let Some(reserve) = reserve {
            // DDL commits implicitly in MySQL, so it cannot be part of the transaction.
            reserve_ids(conn, reserve)?;
        }
    }
    crate::connection::write_transaction(conn, |conn| {
        let mut outcomes: Vec<Option<ImportOutcome>> = vec![None; users.len()];
        let mut renumber = Vec::new();
        let mut taken_ids = HashSet::new();
        let mut done = 0;
        for (index, user) in users.iter().enumerate() {
            let key = user.username.canonical();
            if let Some(existing) = queries::by_key(conn, &key)? {
                let same_account = user.id == Some(UserId(i64::from(existing.id)))
                    || existing.password_hash == user.password_hash;
                let existing_id = UserId(i64::from(existing.id));
                outcomes[index] = Some(if same_account {
                    ImportOutcome::AlreadyPresent(existing_id)
                } else {
                    ImportOutcome::UsernameTaken(existing_id)
                });
            } else {
                let free_id = match user.id.and_then(|id| i32::try_from(id.0).ok()) {
                    Some(id) if id > 0 && !taken_ids.contains(&id) => {
                        queries::by_id(conn, id)?.is_none().then_some(id)
                    }
                    _ => None,
                };
                match free_id {
                    Some(id) => {
                        let now = user.created_at.naive_utc();
                        diesel::insert_into(users::table)
                            .values(&UserRowWithId {
                                id,
                                username: user.username.as_str(),
                                username_key: &key,
                                password_hash: user.password_hash,
                                created_at: now,
                                updated_at: now,
                            })
                            .execute(conn)?;
                        taken_ids.insert(id);
                        outcomes[index] = Some(ImportOutcome::Imported(UserId(i64::from(id))));
                    }
                    None => {
                        renumber.push(index);
                        continue;
                    }
                }
            }
            done += 1;
            progress(done);
        }

        if backend != Backend::Mysql {
            let highest_kept = taken_ids.iter().copied().max();
            if let Some(through) = highest_kept.max(reserve) {
                reserve_ids(conn, through)?;
            }
        }
        for index in renumber {
            let user = &users[index];
            let key = user.username.canonical();
            let now = user.created_at.naive_utc();
            let row = queries::insert(
                conn,
                &NewUserRow {
                    username: user.username.as_str(),
                    username_key: &key,
                    password_hash: user.password_hash,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            outcomes[index] = Some(ImportOutcome::Imported(UserId(i64::from(row.id))));
            done += 1;
            progress(done);
        }
        outcomes
            .into_iter()
            .map(|outcome| {
                outcome.ok_or_else(|| {
                    diesel::result::Error::QueryBuilderError("an import outcome is missing".into())
                })
            })
            .collect()
    })
}

/// Makes every id up to `through` unavailable to future inserts without an id.
fn reserve_ids(conn: &mut DbConnection, through: i32) -> QueryResult<()> {
    use diesel::sql_types::Integer;
    match conn {
        #[cfg(feature = "sqlite")]
        DbConnection::Sqlite(conn) => {
            // AUTOINCREMENT never hands out ids up to `seq` (nor up to the largest rowid).
            diesel::sql_query("UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = 'users'")
                .bind::<Integer, _>(through)
                .execute(conn)?;
            diesel::sql_query(
                "INSERT INTO sqlite_sequence (name, seq) SELECT 'users', ? \
                 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'users')",
            )
            .bind::<Integer, _>(through)
            .execute(conn)?;
        }
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(conn) => {
            // Explicit ids do not advance a SERIAL's sequence; without this the next
            // registration would collide with an imported id.
            diesel::sql_query(
                "SELECT setval(pg_get_serial_sequence('users', 'id'), \
                 GREATEST((SELECT COALESCE(MAX(id), 0) FROM users), $1))",
            )
            .bind::<Integer, _>(through)
            .execute(conn)?;
        }
        #[cfg(feature = "mysql")]
        DbConnection::Mysql(conn) => {
            // InnoDB ignores values at or below the largest id; a plain integer, not a
            // placeholder, since DDL takes none.
            diesel::sql_query(format!(
                "ALTER TABLE users AUTO_INCREMENT = {}",
                i64::from(through) + 1
            ))
            .execute(conn)?;
        }
    }
    Ok(())
}
