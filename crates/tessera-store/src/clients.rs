//! Queries on `service_clients`.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use tessera_domain::{ServiceClient, StoredClient};

use crate::DbConnection;
use crate::schema::service_clients;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = service_clients)]
struct ClientRow {
    id: String,
    name: String,
    secret_hash: String,
    audiences: String,
    scopes: String,
    created_at: NaiveDateTime,
    secret_rotated_at: NaiveDateTime,
}

fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(at, Utc)
}

/// Audiences and scopes hold no spaces (the domain checks it), so a space separates them.
fn words(list: &str) -> Vec<String> {
    list.split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

impl From<ClientRow> for StoredClient {
    fn from(row: ClientRow) -> StoredClient {
        StoredClient {
            client: ServiceClient {
                id: row.id,
                name: row.name,
                audiences: words(&row.audiences),
                scopes: words(&row.scopes),
                created_at: utc(row.created_at),
                secret_rotated_at: utc(row.secret_rotated_at),
            },
            secret_hash: row.secret_hash,
        }
    }
}

pub(crate) fn insert(conn: &mut DbConnection, stored: &StoredClient) -> QueryResult<()> {
    let client = &stored.client;
    let row = ClientRow {
        id: client.id.clone(),
        name: client.name.clone(),
        secret_hash: stored.secret_hash.clone(),
        audiences: client.audiences.join(" "),
        scopes: client.scopes.join(" "),
        created_at: client.created_at.naive_utc(),
        secret_rotated_at: client.secret_rotated_at.naive_utc(),
    };
    diesel::insert_into(service_clients::table)
        .values(&row)
        .execute(conn)
        .map(drop)
}

pub(crate) fn by_id(conn: &mut DbConnection, id: &str) -> QueryResult<Option<StoredClient>> {
    Ok(service_clients::table
        .find(id)
        .select(ClientRow::as_select())
        .first(conn)
        .optional()?
        .map(StoredClient::from))
}

pub(crate) fn all(conn: &mut DbConnection) -> QueryResult<Vec<StoredClient>> {
    Ok(service_clients::table
        .order((service_clients::created_at, service_clients::id))
        .select(ClientRow::as_select())
        .load(conn)?
        .into_iter()
        .map(StoredClient::from)
        .collect())
}

pub(crate) fn delete(conn: &mut DbConnection, id: &str) -> QueryResult<bool> {
    Ok(diesel::delete(service_clients::table.find(id)).execute(conn)? > 0)
}

pub(crate) fn replace_secret(
    conn: &mut DbConnection,
    id: &str,
    secret_hash: &str,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let changed = diesel::update(service_clients::table.find(id))
        .set((
            service_clients::secret_hash.eq(secret_hash),
            service_clients::secret_rotated_at.eq(at),
        ))
        .execute(conn)?;
    Ok(changed > 0)
}
