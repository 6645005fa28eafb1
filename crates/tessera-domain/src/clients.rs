//! Service clients: backend jobs that authenticate with a client id and secret (OAuth 2.0
//! confidential clients, RFC 6749 §2.1) and get access tokens of their own with the
//! client-credentials grant. They are not users: no password, no sessions, and the user
//! routes refuse their tokens.
//!
//! A client secret is 256 random bits, so the store keeps its SHA-256 (a slow password hash
//! would add nothing against guessing and cost every grant a bcrypt). Every process keeps
//! the clients in memory, reloaded with the revocation sync: authenticating a known client
//! touches no database. A client deleted or given a new secret by another process (the CLI)
//! is seen here within that interval.

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use subtle::ConstantTimeEq;

use crate::random::secret_digest;
use crate::{Error, StoreError, random_token};

/// A service client as the operator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceClient {
    /// The `client_id`: `svc_` and 96 random bits.
    pub id: String,
    /// The operator's name for it.
    pub name: String,
    /// The audiences its tokens may name (`aud`); none: the configured audience, if any.
    pub audiences: Vec<String>,
    /// The scopes it may ask for.
    pub scopes: Vec<String>,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// When its secret was last set.
    pub secret_rotated_at: DateTime<Utc>,
}

/// A client with the hash of its secret, as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredClient {
    /// The client.
    pub client: ServiceClient,
    /// Hex SHA-256 of the secret.
    pub secret_hash: String,
}

impl std::fmt::Debug for StoredClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredClient")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

/// A client secret, shown to the operator once; never stored or logged.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(String);

impl ClientSecret {
    /// The secret to hand to the client's operator.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientSecret(<redacted>)")
    }
}

/// What a client presents to authenticate: its id and secret (HTTP Basic or form fields).
#[derive(Clone, Copy)]
pub struct ClientCredentials<'a> {
    /// The `client_id`.
    pub id: &'a str,
    /// The `client_secret`.
    pub secret: &'a str,
}

impl std::fmt::Debug for ClientCredentials<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Storage of service clients. Implemented by `tessera-store`; synchronous and blocking.
pub trait ClientRepository: Send + Sync + 'static {
    /// Inserts a client.
    fn insert_client(&self, client: &StoredClient) -> Result<(), StoreError>;
    /// A client by id.
    fn find_client(&self, id: &str) -> Result<Option<StoredClient>, StoreError>;
    /// Every client, ordered by creation.
    fn list_clients(&self) -> Result<Vec<StoredClient>, StoreError>;
    /// Deletes a client; `false` when there was none.
    fn delete_client(&self, id: &str) -> Result<bool, StoreError>;
    /// Sets a new secret hash; `false` when there is no such client.
    fn replace_client_secret(
        &self,
        id: &str,
        secret_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
}

/// Longest client name, audience and scope accepted.
const MAX_NAME: usize = 128;
const MAX_AUDIENCE: usize = 256;
const MAX_SCOPE: usize = 64;
/// Most audiences or scopes one client may hold.
const MAX_ENTRIES: usize = 32;
/// A presented client id longer than this names no client (ours are 20 characters).
const MAX_CLIENT_ID: usize = 64;

/// The service clients, over the store, with every known one in memory.
#[derive(Clone)]
pub struct Clients {
    repository: Arc<dyn ClientRepository>,
    known: Arc<ArcSwap<HashMap<String, StoredClient>>>,
}

impl std::fmt::Debug for Clients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clients")
            .field("known", &self.known.load().len())
            .finish_non_exhaustive()
    }
}

/// RFC 6749 §3.3 `scope-token`: `%x21 / %x23-5B / %x5D-7E`, here at most [`MAX_SCOPE`].
fn is_scope_token(scope: &str) -> bool {
    !scope.is_empty()
        && scope.len() <= MAX_SCOPE
        && scope
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

/// An audience: printable ASCII without spaces (it goes into `aud` and space-separated lists).
fn is_audience(audience: &str) -> bool {
    !audience.is_empty()
        && audience.len() <= MAX_AUDIENCE
        && audience.bytes().all(|b| b.is_ascii_graphic())
}

fn checked_list(
    entries: &[String],
    what: &str,
    valid: fn(&str) -> bool,
    rule: &str,
) -> Result<Vec<String>, Error> {
    if entries.len() > MAX_ENTRIES {
        return Err(Error::InvalidSetting(format!(
            "at most {MAX_ENTRIES} {what}s"
        )));
    }
    let mut list: Vec<String> = Vec::with_capacity(entries.len());
    for entry in entries {
        if !valid(entry) {
            return Err(Error::InvalidSetting(format!("{what} {entry:?}: {rule}")));
        }
        if !list.contains(entry) {
            list.push(entry.clone());
        }
    }
    Ok(list)
}

impl Clients {
    /// The clients of `repository`; none known in memory until [`Clients::reload`].
    pub fn new(repository: Arc<dyn ClientRepository>) -> Clients {
        Clients {
            repository,
            known: Arc::default(),
        }
    }

    /// Adds a client with a new secret.
    pub fn add(
        &self,
        name: &str,
        audiences: &[String],
        scopes: &[String],
        now: DateTime<Utc>,
    ) -> Result<(ServiceClient, ClientSecret), Error> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control)
        {
            return Err(Error::InvalidSetting(format!(
                "a client name is 1 to {MAX_NAME} characters, none of them control characters"
            )));
        }
        let audiences = checked_list(
            audiences,
            "audience",
            is_audience,
            "printable ASCII without spaces, at most 256 characters",
        )?;
        let scopes = checked_list(
            scopes,
            "scope",
            is_scope_token,
            "printable ASCII without spaces, quotes or backslashes, at most 64 characters",
        )?;
        let secret = ClientSecret(random_token::<32>()?);
        let client = ServiceClient {
            id: format!("svc_{}", random_token::<12>()?),
            name: name.to_owned(),
            audiences,
            scopes,
            created_at: now,
            secret_rotated_at: now,
        };
        let stored = StoredClient {
            client: client.clone(),
            secret_hash: secret_digest(secret.expose()),
        };
        self.repository.insert_client(&stored)?;
        self.remember(stored);
        Ok((client, secret))
    }

    /// Every client, oldest first.
    pub fn list(&self) -> Result<Vec<ServiceClient>, Error> {
        Ok(self
            .repository
            .list_clients()?
            .into_iter()
            .map(|stored| stored.client)
            .collect())
    }

    /// Deletes a client: its secret stops at once here, within the sync interval elsewhere,
    /// and so do its tokens at the introspection endpoint.
    pub fn delete(&self, id: &str) -> Result<ServiceClient, Error> {
        let stored = self
            .repository
            .find_client(id)?
            .ok_or(Error::ClientNotFound)?;
        if !self.repository.delete_client(id)? {
            return Err(Error::ClientNotFound);
        }
        self.forget(id);
        Ok(stored.client)
    }

    /// Gives a client a new secret; the old one stops (here at once, elsewhere within the
    /// sync interval). Tokens already issued live on until they expire.
    pub fn rotate_secret(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<(ServiceClient, ClientSecret), Error> {
        let secret = ClientSecret(random_token::<32>()?);
        let hash = secret_digest(secret.expose());
        if !self.repository.replace_client_secret(id, &hash, now)? {
            return Err(Error::ClientNotFound);
        }
        let stored = self
            .repository
            .find_client(id)?
            .ok_or(Error::ClientNotFound)?;
        let client = stored.client.clone();
        self.remember(stored);
        Ok((client, secret))
    }

    /// The client whose credentials these are; `None` for an unknown id or a wrong secret
    /// (deliberately one answer). A known client with its right secret is checked in
    /// memory; anything else is checked against the store, so a secret given by another
    /// process works at once (the old one stops with the next reload).
    pub fn authenticate(
        &self,
        credentials: ClientCredentials<'_>,
    ) -> Result<Option<ServiceClient>, Error> {
        if credentials.id.is_empty() || credentials.id.len() > MAX_CLIENT_ID {
            return Ok(None);
        }
        let presented = secret_digest(credentials.secret);
        let matches = |stored: &StoredClient| {
            bool::from(presented.as_bytes().ct_eq(stored.secret_hash.as_bytes()))
        };
        if let Some(stored) = self.known.load().get(credentials.id) {
            if matches(stored) {
                return Ok(Some(stored.client.clone()));
            }
        }
        let Some(stored) = self.repository.find_client(credentials.id)? else {
            return Ok(None);
        };
        let client = matches(&stored).then(|| stored.client.clone());
        self.remember(stored);
        Ok(client)
    }

    /// A client by id: from memory, else from the store (and then remembered).
    pub fn find(&self, id: &str) -> Result<Option<StoredClient>, Error> {
        if id.is_empty() || id.len() > MAX_CLIENT_ID {
            return Ok(None);
        }
        if let Some(stored) = self.known.load().get(id) {
            return Ok(Some(stored.clone()));
        }
        let found = self.repository.find_client(id)?;
        if let Some(stored) = &found {
            self.remember(stored.clone());
        }
        Ok(found)
    }

    /// Replaces what is in memory with the store's clients: what other processes added,
    /// deleted or gave new secrets.
    pub fn reload(&self) -> Result<(), Error> {
        let all = self.repository.list_clients()?;
        self.known.store(Arc::new(
            all.into_iter()
                .map(|stored| (stored.client.id.clone(), stored))
                .collect(),
        ));
        Ok(())
    }

    fn remember(&self, stored: StoredClient) {
        self.known.rcu(|known| {
            let mut known = HashMap::clone(known);
            known.insert(stored.client.id.clone(), stored.clone());
            known
        });
    }

    fn forget(&self, id: &str) {
        self.known.rcu(|known| {
            let mut known = HashMap::clone(known);
            known.remove(id);
            known
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_tokens_follow_rfc_6749() {
        for good in ["read", "a:b", "x!", "[]", "~"] {
            assert!(is_scope_token(good), "{good}");
        }
        for bad in ["", "a b", "\"", "\\", "é", "\u{7f}", &"s".repeat(65)] {
            assert!(!is_scope_token(bad), "{bad:?}");
        }
    }

    #[test]
    fn audiences_are_printable_without_spaces() {
        assert!(is_audience("https://api.example/v1"));
        for bad in ["", "a b", "a\tb", "ä", &"a".repeat(257)] {
            assert!(!is_audience(bad), "{bad:?}");
        }
    }

    /// A store that counts lookups and holds one client, `svc_known`, secret `right`.
    #[derive(Default)]
    struct Counting(std::sync::atomic::AtomicUsize);

    impl ClientRepository for Counting {
        fn insert_client(&self, _: &StoredClient) -> Result<(), StoreError> {
            Ok(())
        }
        fn find_client(&self, id: &str) -> Result<Option<StoredClient>, StoreError> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let now = Utc::now();
            Ok((id == "svc_known").then(|| StoredClient {
                client: ServiceClient {
                    id: id.to_owned(),
                    name: "known".into(),
                    audiences: Vec::new(),
                    scopes: Vec::new(),
                    created_at: now,
                    secret_rotated_at: now,
                },
                secret_hash: secret_digest("right"),
            }))
        }
        fn list_clients(&self) -> Result<Vec<StoredClient>, StoreError> {
            Ok(Vec::new())
        }
        fn delete_client(&self, _: &str) -> Result<bool, StoreError> {
            Ok(false)
        }
        fn replace_client_secret(
            &self,
            _: &str,
            _: &str,
            _: DateTime<Utc>,
        ) -> Result<bool, StoreError> {
            Ok(false)
        }
    }

    #[test]
    fn oversized_and_empty_ids_are_never_looked_up() {
        let store = Arc::new(Counting::default());
        let clients = Clients::new(store.clone());
        let lookups = || store.0.load(std::sync::atomic::Ordering::SeqCst);
        for id in [
            String::new(),
            "s".repeat(MAX_CLIENT_ID + 1),
            "x".repeat(1 << 20),
        ] {
            let presented = ClientCredentials {
                id: &id,
                secret: "right",
            };
            assert_eq!(clients.authenticate(presented).unwrap(), None);
        }
        assert_eq!(lookups(), 0);
        let known = |secret| ClientCredentials {
            id: "svc_known",
            secret,
        };
        assert!(clients.authenticate(known("right")).unwrap().is_some());
        assert_eq!(lookups(), 1);
        assert!(
            clients.authenticate(known("right")).unwrap().is_some(),
            "from memory"
        );
        assert_eq!(lookups(), 1);
        assert_eq!(clients.authenticate(known("wrong")).unwrap(), None);
        assert_eq!(lookups(), 2, "a mismatch is checked against the store");
    }

    #[test]
    fn secrets_and_credentials_never_show_in_debug() {
        let secret = ClientSecret("s3cret-value".into());
        assert!(!format!("{secret:?}").contains("s3cret"));
        let credentials = ClientCredentials {
            id: "svc_x",
            secret: "s3cret-value",
        };
        let shown = format!("{credentials:?}");
        assert!(
            shown.contains("svc_x") && !shown.contains("s3cret"),
            "{shown}"
        );
    }
}
