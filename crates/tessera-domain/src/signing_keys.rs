//! Asymmetric signing keys with a lifecycle, kept in the database so every process agrees.
//!
//! A key is made **next**: published in the JWKS, verifying, not signing. At a rotation it
//! becomes **active** (the one that signs) while the active key becomes **retired**:
//! still published and verifying until every token it signed has expired, then removed.
//! Because a next key is published at least [`KeyPolicy::publish_lead`] before it signs, a
//! verifier that caches the JWKS for less than that never meets an unknown `kid`.
//!
//! Several processes may rotate at once; the store lets exactly one of them win (see
//! [`SigningKeyRepository`]), and the others read the winner's keys.
//!
//! Private parts are stored sealed (AES-256-GCM) under a key derived (HKDF-SHA256) from the
//! configured HS256 secret, bound to the key's id and algorithm. Every configured secret is
//! tried when opening, so the secret can rotate through `secret_keys` like the HS256 keys.

use std::sync::{Arc, Mutex};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Duration, Utc};
use hkdf::Hkdf;
use sha2::Sha256;
use tessera_token::{Algorithm, Jwk, Key, KeySet, Secret};

use crate::{Error, RotationRefusal, StoreError};

/// Where a key is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Published and verifying; signs after the next rotation.
    Next,
    /// Signs new tokens.
    Active,
    /// Published and verifying until its tokens have expired.
    Retired,
}

impl KeyState {
    /// `next`, `active` or `retired`.
    pub const fn as_str(self) -> &'static str {
        match self {
            KeyState::Next => "next",
            KeyState::Active => "active",
            KeyState::Retired => "retired",
        }
    }
}

/// A signing key as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSigningKey {
    /// The key id: the RFC 7638 thumbprint of its public JWK.
    pub kid: String,
    /// Its place in the order keys were made; unique.
    pub generation: i64,
    /// `EdDSA` or `ES256`.
    pub algorithm: String,
    /// The public JWK, as JSON.
    pub public_jwk: String,
    /// The private part, sealed: base64 of nonce and ciphertext.
    pub sealed_private: String,
    /// When it was made (and first published).
    pub created_at: DateTime<Utc>,
    /// When it started signing.
    pub activated_at: Option<DateTime<Utc>>,
    /// When it stopped signing.
    pub retired_at: Option<DateTime<Utc>>,
    /// When it leaves the JWKS and the store.
    pub remove_after: Option<DateTime<Utc>>,
}

impl StoredSigningKey {
    /// Its lifecycle state.
    pub fn state(&self) -> KeyState {
        match (self.activated_at, self.retired_at) {
            (_, Some(_)) => KeyState::Retired,
            (Some(_), None) => KeyState::Active,
            (None, None) => KeyState::Next,
        }
    }
}

/// One rotation, applied by the store in one transaction.
#[derive(Debug, Clone)]
pub struct Rotation<'a> {
    /// The next key, which becomes active at `at`; the rotation fails when it is no longer
    /// next (another process rotated first).
    pub next_kid: &'a str,
    /// The active key, which becomes retired at `at` (none on a first activation).
    pub active_kid: Option<&'a str>,
    /// When.
    pub at: DateTime<Utc>,
    /// When the retired key leaves the JWKS.
    pub remove_retired_after: DateTime<Utc>,
    /// The new next key; its generation must be unused.
    pub new_next: &'a StoredSigningKey,
}

/// Storage of signing keys. Implemented by `tessera-store`; synchronous.
///
/// Races between processes are settled by the store, never by a check-then-write: a
/// generation is unique, and a rotation only applies if its next key is still next.
pub trait SigningKeyRepository: Send + Sync + 'static {
    /// Every stored key, by generation.
    fn signing_keys(&self) -> Result<Vec<StoredSigningKey>, StoreError>;
    /// Inserts `keys` in one transaction; `false`, with nothing written, when another
    /// process already holds one of their generations.
    fn insert_signing_keys(&self, keys: &[StoredSigningKey]) -> Result<bool, StoreError>;
    /// Applies `rotation` in one transaction; `false`, with nothing written, when another
    /// process rotated first.
    fn rotate_signing_keys(&self, rotation: &Rotation<'_>) -> Result<bool, StoreError>;
    /// Deletes the retired keys whose `remove_after` is before `now`.
    fn delete_signing_keys_removed_before(&self, now: DateTime<Utc>) -> Result<usize, StoreError>;
}

/// How keys are made and rotated.
#[derive(Debug, Clone)]
pub struct KeyPolicy {
    /// The algorithm of new keys; HS256 signs with the configured secret and stores nothing.
    pub algorithm: Algorithm,
    /// How long a key signs before it is rotated on schedule; `None` only by hand.
    pub rotation: Option<Duration>,
    /// How long access tokens live.
    pub token_ttl: Duration,
    /// How often every process reads the keys again (the revocation sync interval).
    pub sync_interval: Duration,
}

/// The longest a verifier should cache the JWKS.
const MAX_JWKS_MAX_AGE: Duration = Duration::minutes(5);

impl KeyPolicy {
    /// How long a verifier may cache the JWKS: five minutes, or a quarter of the rotation
    /// period when that is shorter.
    pub fn jwks_max_age(&self) -> Duration {
        self.rotation.map_or(MAX_JWKS_MAX_AGE, |rotation| {
            (rotation / 4).min(MAX_JWKS_MAX_AGE)
        })
    }

    /// How long a next key is published before it may sign: a JWKS cache lifetime (so a
    /// verifier's cached copy has it), plus the time other processes take to publish it.
    pub fn publish_lead(&self) -> Duration {
        self.jwks_max_age() + self.sync_interval
    }

    /// How long a retired key stays published: the tokens it signed live `token_ttl`, and
    /// processes that have not yet learnt of the rotation sign with it for up to a sync
    /// interval (doubled, and a minute for clocks that differ).
    pub fn retired_for(&self) -> Duration {
        self.token_ttl + self.sync_interval * 2 + Duration::minutes(1)
    }
}

/// A key in the list `tessera keys list` shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyInfo {
    /// The key id.
    pub kid: String,
    /// Its algorithm.
    pub algorithm: String,
    /// Its state.
    pub state: KeyState,
    /// When it was made.
    pub created_at: Option<DateTime<Utc>>,
    /// When it started signing.
    pub activated_at: Option<DateTime<Utc>>,
    /// When it stops (or stopped) signing: the schedule for an active key.
    pub retires_at: Option<DateTime<Utc>>,
    /// When it leaves the JWKS.
    pub remove_after: Option<DateTime<Utc>>,
    /// Where it comes from: `database` or `configuration` (HS256 secrets).
    pub source: &'static str,
}

/// The signing keys of this deployment: the configured HS256 secrets and the stored keys.
#[derive(Clone)]
pub struct SigningKeys {
    store: Arc<dyn SigningKeyRepository>,
    policy: KeyPolicy,
    configured: KeySet,
    /// The stored keys the current key set was built from, so an unchanged store costs one
    /// read and no key parsing or unsealing.
    built_from: Arc<Mutex<Option<Vec<StoredSigningKey>>>>,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeys")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl SigningKeys {
    /// Keys under `policy`; `configured` holds the HS256 secrets from the configuration
    /// (its signing key signs in HS256 mode and seals the stored private keys).
    pub fn new(
        store: Arc<dyn SigningKeyRepository>,
        policy: KeyPolicy,
        configured: KeySet,
    ) -> SigningKeys {
        SigningKeys {
            store,
            policy,
            configured,
            built_from: Arc::default(),
        }
    }

    /// The policy.
    pub fn policy(&self) -> &KeyPolicy {
        &self.policy
    }

    /// Brings the stored keys up to the policy at `now` — the first keys made, a rotation
    /// when one is due, expired retired keys removed — and returns the key set to sign and
    /// verify with, or `None` when it is the one returned last time.
    pub fn refresh(&self, now: DateTime<Utc>) -> Result<Option<KeySet>, Error> {
        let mut stored = self.store.signing_keys()?;
        if stored
            .iter()
            .any(|key| key.remove_after.is_some_and(|at| at < now))
        {
            self.store.delete_signing_keys_removed_before(now)?;
            stored = self.store.signing_keys()?;
        }
        if self.policy.algorithm != Algorithm::HS256 && self.advance(&stored, now)? {
            stored = self.store.signing_keys()?;
        }
        let mut built_from = self
            .built_from
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if built_from.as_ref() == Some(&stored) {
            return Ok(None);
        }
        let keys = self.key_set(&stored)?;
        *built_from = Some(stored);
        Ok(Some(keys))
    }

    /// Every key, configured and stored, for `tessera keys list`.
    pub fn list(&self) -> Result<Vec<SigningKeyInfo>, Error> {
        let configured = self.configured.keys().enumerate().map(|(i, key)| {
            let signs = i == 0 && self.policy.algorithm == Algorithm::HS256;
            SigningKeyInfo {
                kid: key.id().to_owned(),
                algorithm: key.algorithm().to_string(),
                state: if signs {
                    KeyState::Active
                } else {
                    KeyState::Retired
                },
                created_at: None,
                activated_at: None,
                retires_at: None,
                remove_after: None,
                source: "configuration",
            }
        });
        let stored = self.store.signing_keys()?.into_iter().map(|key| {
            let retires_at = match key.state() {
                KeyState::Active => self
                    .policy
                    .rotation
                    .zip(key.activated_at)
                    .map(|(rotation, at)| at + rotation),
                _ => key.retired_at,
            };
            SigningKeyInfo {
                state: key.state(),
                kid: key.kid,
                algorithm: key.algorithm,
                created_at: Some(key.created_at),
                activated_at: key.activated_at,
                retires_at,
                remove_after: key.remove_after,
                source: "database",
            }
        });
        Ok(stored.rev().chain(configured).collect())
    }

    /// Rotates now, by hand: next → active, active → retired, a new next. Refused while
    /// the next key is younger than the publish lead, unless `force`.
    pub fn rotate(&self, now: DateTime<Utc>, force: bool) -> Result<(), Error> {
        if self.policy.algorithm == Algorithm::HS256 {
            return Err(Error::RotationRefused(RotationRefusal::Symmetric));
        }
        let stored = self.store.signing_keys()?;
        if self.advance(&stored, now)? {
            // The first keys were just made, or a scheduled rotation was due: that was it.
            return Ok(());
        }
        let next = latest(&stored, KeyState::Next)
            .ok_or_else(|| Error::Internal("no next signing key".into()))?;
        let ready = next.created_at + self.policy.publish_lead();
        if ready > now && !force {
            return Err(Error::RotationRefused(RotationRefusal::NextTooNew {
                kid: next.kid.clone(),
                published: next.created_at,
                ready,
            }));
        }
        if self.rotate_from(&stored, next, now)? {
            Ok(())
        } else {
            Err(Error::RotationRefused(RotationRefusal::Lost))
        }
    }

    /// Makes the first keys, or rotates when due. `true` when the store changed (by this
    /// process or, having lost a race, by another).
    fn advance(&self, stored: &[StoredSigningKey], now: DateTime<Utc>) -> Result<bool, Error> {
        let active = latest(stored, KeyState::Active);
        let next = latest(stored, KeyState::Next);
        let generation = stored.iter().map(|key| key.generation).max().unwrap_or(0);
        match (active, next) {
            (None, Some(next)) => {
                // Back from HS256 with a next key still published: it was published all
                // along, so it signs now.
                self.rotate_from(stored, next, now)?;
                Ok(true)
            }
            (None, None) => {
                // A first start: one key that signs at once, and its successor. Tokens it signs are verified by this process at once;
                // other processes load it on their next refresh before meeting them.
                let mut first = self.new_key(generation + 1, now)?;
                first.activated_at = Some(now);
                let second = self.new_key(generation + 2, now)?;
                self.store.insert_signing_keys(&[first, second])?;
                Ok(true)
            }
            (Some(_), None) => {
                let next = self.new_key(generation + 1, now)?;
                self.store.insert_signing_keys(&[next])?;
                Ok(true)
            }
            (Some(active), Some(next)) => {
                let due = self
                    .policy
                    .rotation
                    .zip(active.activated_at)
                    .is_some_and(|(rotation, at)| at + rotation <= now);
                let ready = next.created_at + self.policy.publish_lead() <= now;
                if due && ready {
                    self.rotate_from(stored, next, now)?;
                    return Ok(true);
                }
                Ok(false)
            }
        }
    }

    /// The rotation from `stored` with `next` becoming active; `false` when another process
    /// rotated first.
    fn rotate_from(
        &self,
        stored: &[StoredSigningKey],
        next: &StoredSigningKey,
        now: DateTime<Utc>,
    ) -> Result<bool, Error> {
        let generation = stored.iter().map(|key| key.generation).max().unwrap_or(0);
        let new_next = self.new_key(generation + 1, now)?;
        let rotation = Rotation {
            next_kid: &next.kid,
            active_kid: latest(stored, KeyState::Active).map(|key| key.kid.as_str()),
            at: now,
            remove_retired_after: now + self.policy.retired_for(),
            new_next: &new_next,
        };
        let won = self.store.rotate_signing_keys(&rotation)?;
        if won {
            tracing::info!(
                active = %next.kid,
                next = %new_next.kid,
                retired = rotation.active_kid.unwrap_or("none"),
                "rotated the signing keys"
            );
        }
        Ok(won)
    }

    /// A new key of the policy's algorithm, sealed, made at `now`.
    fn new_key(&self, generation: i64, now: DateTime<Utc>) -> Result<StoredSigningKey, Error> {
        let key = Key::generate(self.policy.algorithm).map_err(key_error)?;
        let jwk = key
            .public_jwk()
            .ok_or_else(|| Error::Internal("an asymmetric key has a public JWK".into()))?;
        let public_jwk = serde_json::to_string(&jwk)
            .map_err(|e| Error::Internal(format!("JWK serialisation: {e}")))?;
        let private = key
            .private_bytes()
            .ok_or_else(|| Error::Internal("a generated key has a private part".into()))?;
        let sealed_private = seal(
            &self.sealing_secret()?,
            key.id(),
            key.algorithm(),
            private.expose(),
        )?;
        Ok(StoredSigningKey {
            kid: key.id().to_owned(),
            generation,
            algorithm: key.algorithm().to_string(),
            public_jwk,
            sealed_private,
            created_at: now,
            activated_at: None,
            retired_at: None,
            remove_after: None,
        })
    }

    /// The key set: in HS256 mode the configured signing key signs; otherwise the stored
    /// active key. Every other key, configured or stored, verifies.
    fn key_set(&self, stored: &[StoredSigningKey]) -> Result<KeySet, Error> {
        let active = match self.policy.algorithm {
            Algorithm::HS256 => None,
            _ => latest(stored, KeyState::Active),
        };
        let Some(active) = active else {
            return stored.iter().try_fold(self.configured.clone(), |set, key| {
                Ok(set.with_verification_key(public_key(key)?))
            });
        };
        let signing = self.open(active)?;
        let verifying = stored
            .iter()
            .filter(|key| key.kid != active.kid)
            .map(public_key)
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(verifying
            .into_iter()
            .chain(self.configured.keys().cloned())
            .fold(KeySet::new(signing), KeySet::with_verification_key))
    }

    /// The private key of `stored`, unsealed with whichever configured secret sealed it.
    fn open(&self, stored: &StoredSigningKey) -> Result<Key, Error> {
        let algorithm: Algorithm = stored.algorithm.parse().map_err(key_error)?;
        let private = self
            .configured
            .keys()
            .filter_map(Key::private_bytes)
            .find_map(|secret| unseal(&secret, &stored.kid, algorithm, &stored.sealed_private))
            .ok_or_else(|| {
                Error::Internal(format!(
                    "the signing key {} in the database was sealed under a secret that is not \
                     configured: keep the old secret in secret_keys (after the new one)",
                    stored.kid
                ))
            })?;
        Key::from_private_bytes(stored.kid.clone(), algorithm, &private).map_err(key_error)
    }

    fn sealing_secret(&self) -> Result<Secret, Error> {
        self.configured
            .keys()
            .next()
            .and_then(Key::private_bytes)
            .ok_or_else(|| Error::Internal("no configured secret to seal signing keys".into()))
    }
}

/// The newest stored key in `state`.
fn latest(stored: &[StoredSigningKey], state: KeyState) -> Option<&StoredSigningKey> {
    stored
        .iter()
        .filter(|key| key.state() == state)
        .max_by_key(|key| key.generation)
}

fn public_key(stored: &StoredSigningKey) -> Result<Key, Error> {
    let jwk: Jwk = serde_json::from_str(&stored.public_jwk)
        .map_err(|e| Error::Internal(format!("stored JWK {}: {e}", stored.kid)))?;
    Key::from_jwk(&jwk).map_err(key_error)
}

fn key_error(error: tessera_token::Error) -> Error {
    Error::Internal(format!("signing key: {error}"))
}

/// Names the derived key, so it serves this one purpose.
const SEAL_INFO: &[u8] = b"tessera signing-key seal v1";
const NONCE_LEN: usize = 12;

fn cipher(secret: &Secret) -> Result<Aes256Gcm, Error> {
    let mut key = [0u8; 32];
    Hkdf::<Sha256>::new(None, secret.expose())
        .expand(SEAL_INFO, &mut key)
        .map_err(|_| Error::Internal("HKDF refused the output length".into()))?;
    let cipher = Aes256Gcm::new_from_slice(&key)
        .map_err(|_| Error::Internal("AES-256-GCM refused the key".into()));
    key.iter_mut().for_each(|byte| *byte = 0);
    cipher
}

/// The key's id and algorithm, authenticated with the ciphertext: a sealed private part
/// copied onto another row does not open.
fn associated_data(kid: &str, algorithm: Algorithm) -> Vec<u8> {
    format!("{}\0{kid}", algorithm.as_str()).into_bytes()
}

fn seal(secret: &Secret, kid: &str, algorithm: Algorithm, private: &[u8]) -> Result<String, Error> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce)
        .map_err(|e| Error::Internal(format!("no randomness from the OS: {e}")))?;
    let aad = associated_data(kid, algorithm);
    let ciphertext = cipher(secret)?
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: private,
                aad: &aad,
            },
        )
        .map_err(|_| Error::Internal("sealing failed".into()))?;
    let mut sealed = nonce.to_vec();
    sealed.extend_from_slice(&ciphertext);
    Ok(STANDARD.encode(sealed))
}

fn unseal(secret: &Secret, kid: &str, algorithm: Algorithm, sealed: &str) -> Option<Secret> {
    let sealed = STANDARD.decode(sealed).ok()?;
    if sealed.len() <= NONCE_LEN {
        return None;
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    let aad = associated_data(kid, algorithm);
    cipher(secret)
        .ok()?
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: &aad,
            },
        )
        .ok()
        .map(Secret::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_open_only_with_their_secret_id_and_algorithm() {
        let secret = Secret::new("a secret of thirty-two bytes....");
        let sealed = seal(&secret, "kid-1", Algorithm::EdDSA, b"private bytes").unwrap();
        let opened = unseal(&secret, "kid-1", Algorithm::EdDSA, &sealed).unwrap();
        assert_eq!(opened.expose(), b"private bytes");

        let other = Secret::new("another secret, thirty-two bytes");
        assert!(unseal(&other, "kid-1", Algorithm::EdDSA, &sealed).is_none());
        assert!(unseal(&secret, "kid-2", Algorithm::EdDSA, &sealed).is_none());
        assert!(unseal(&secret, "kid-1", Algorithm::ES256, &sealed).is_none());
        let mut tampered = STANDARD.decode(&sealed).unwrap();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(
            unseal(
                &secret,
                "kid-1",
                Algorithm::EdDSA,
                &STANDARD.encode(tampered)
            )
            .is_none()
        );
        assert!(unseal(&secret, "kid-1", Algorithm::EdDSA, "AAAA").is_none());
        assert!(unseal(&secret, "kid-1", Algorithm::EdDSA, "not base64!").is_none());
    }

    #[test]
    fn every_seal_has_its_own_nonce() {
        let secret = Secret::new("a secret of thirty-two bytes....");
        let a = seal(&secret, "k", Algorithm::EdDSA, b"same").unwrap();
        let b = seal(&secret, "k", Algorithm::EdDSA, b"same").unwrap();
        assert_ne!(a, b);
        assert!(!a.contains("same"));
    }
}
