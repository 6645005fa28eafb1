use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use tessera_domain::{User, UserId};

use crate::schema::users;

/// A row of `users` as read. Timestamps are stored as UTC without a zone on SQLite.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub(crate) struct UserRow {
    pub id: i32,
    pub username: String,
    pub password_hash: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub tokens_not_before: Option<NaiveDateTime>,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> User {
        User {
            id: UserId(i64::from(row.id)),
            username: row.username,
            password_hash: row.password_hash,
            created_at: DateTime::from_naive_utc_and_offset(row.created_at, Utc),
            updated_at: DateTime::from_naive_utc_and_offset(row.updated_at, Utc),
            tokens_not_before: row.tokens_not_before.map(utc),
        }
    }
}

/// A row of `users` about to be inserted.
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub(crate) struct NewUserRow<'a> {
    pub username: &'a str,
    pub username_key: &'a str,
    pub password_hash: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A row of `sessions` as read.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = crate::schema::sessions)]
pub(crate) struct SessionRow {
    pub id: String,
    pub user_id: i32,
    pub refresh_hash: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub user_agent: Option<String>,
    pub address: Option<String>,
}

/// A row of `sessions` about to be inserted.
#[derive(Debug, Insertable)]
#[diesel(table_name = crate::schema::sessions)]
pub(crate) struct NewSessionRow<'a> {
    pub id: &'a str,
    pub user_id: i32,
    pub refresh_hash: &'a str,
    pub created_at: NaiveDateTime,
    pub last_used_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub user_agent: Option<&'a str>,
    pub address: Option<&'a str>,
}

fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(at, Utc)
}

impl From<SessionRow> for tessera_domain::StoredSession {
    fn from(row: SessionRow) -> Self {
        tessera_domain::StoredSession {
            session: tessera_domain::Session {
                id: tessera_domain::SessionId(row.id),
                user_id: UserId(i64::from(row.user_id)),
                created_at: utc(row.created_at),
                last_used_at: utc(row.last_used_at),
                expires_at: utc(row.expires_at),
                revoked_at: row.revoked_at.map(utc),
                origin: tessera_domain::SessionOrigin {
                    user_agent: row.user_agent,
                    address: row.address,
                },
            },
            refresh_hash: row.refresh_hash,
        }
    }
}
