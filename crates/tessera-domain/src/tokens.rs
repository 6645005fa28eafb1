//! Access tokens: issuing them for a session, and deciding whether one presented is good.
//!
//! Tessera's own tokens are JWTs (`tessera-token`) that must name a session (`sid`) and a
//! user by canonical decimal id (`sub`). While the operator configures the Flask tutorial's
//! old secret, its itsdangerous tokens are accepted too, as a typed [`TokenSource::Legacy`]:
//! they have no session, so they end by the user's `tokens_not_before` time instead (set by
//! a password change and by signing out with one).

use std::sync::Arc;

use arc_swap::ArcSwap;
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use tessera_token::legacy::{LegacyClaims, LegacyVerifier};
use tessera_token::{Algorithm, Audience, Claims, ErrorKind, KeySet};

use crate::token_refusal::{TokenFormat, TokenRefusal};
use crate::{Error, ServiceClient, SessionId, User, UserId, random_token};

/// How a verified token authenticates its bearer.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenSource {
    /// A Tessera JWT of a session.
    Session {
        /// The session it belongs to.
        session: SessionId,
        /// Its verified claims.
        claims: Claims,
    },
    /// The Flask tutorial's token: no session.
    Legacy {
        /// Its verified claims.
        claims: LegacyClaims,
    },
}

impl TokenSource {
    /// The session, for a Tessera token.
    pub fn session(&self) -> Option<&SessionId> {
        match self {
            TokenSource::Session { session, .. } => Some(session),
            TokenSource::Legacy { .. } => None,
        }
    }

    /// Which format the token had.
    pub fn format(&self) -> TokenFormat {
        match self {
            TokenSource::Session { .. } => TokenFormat::Jwt,
            TokenSource::Legacy { .. } => TokenFormat::Legacy,
        }
    }
}

/// A token whose signature and claims hold; whether its session and user still do is
/// decided by [`crate::Auth`].
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedToken {
    /// The user it names.
    pub user_id: UserId,
    /// What kind of token it is.
    pub source: TokenSource,
}

/// Signs access tokens and verifies presented ones.
#[derive(Debug, Clone)]
pub struct TokenIssuer {
    keys: Arc<ArcSwap<KeySet>>,
    ttl: Duration,
    audience: IssuerAndAudience,
    legacy: Option<Arc<LegacyVerifier>>,
    verified: VerifiedTokens,
}

/// What tokens say about where they come from and whom they are for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssuerAndAudience {
    /// `iss` of every token issued.
    pub issuer: Option<String>,
    /// Whether a token naming another issuer is refused: when the operator configured the
    /// issuer, not when it is a development default that differs between processes.
    pub check_issuer: bool,
    /// `aud` of every token issued; a token naming audiences without this one is refused.
    pub audience: Option<String>,
}

impl TokenIssuer {
    /// Tokens signed by the key set's signing key, living `ttl`.
    pub fn new(keys: KeySet, ttl: Duration) -> TokenIssuer {
        TokenIssuer {
            keys: Arc::new(ArcSwap::from_pointee(keys)),
            ttl,
            audience: IssuerAndAudience::default(),
            legacy: None,
            verified: VerifiedTokens::default(),
        }
    }

    /// Also accepts the Flask tutorial's itsdangerous tokens checked by `verifier`; `None`
    /// leaves them refused.
    pub fn with_legacy(mut self, verifier: Option<LegacyVerifier>) -> TokenIssuer {
        self.legacy = verifier.map(Arc::new);
        self
    }

    /// Writes `iss` and `aud` into tokens issued, and checks them in tokens presented.
    pub fn with_audience(mut self, audience: IssuerAndAudience) -> TokenIssuer {
        self.audience = audience;
        self
    }

    /// How long access tokens live.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The issuer written into tokens, if configured.
    pub fn issuer(&self) -> Option<&str> {
        self.audience.issuer.as_deref()
    }

    /// The key set in use.
    pub fn keys(&self) -> Arc<KeySet> {
        self.keys.load_full()
    }

    /// Signs and verifies with `keys` from now on, in every clone of this issuer. Tokens
    /// verified earlier are checked afresh, so a key removed from the set stops at once.
    pub fn replace_keys(&self, keys: KeySet) {
        self.keys.store(Arc::new(keys));
        self.verified.clear();
    }

    /// A signed access token for `user` in `session`.
    pub(crate) fn issue(
        &self,
        user: &User,
        session: &SessionId,
        now: DateTime<Utc>,
    ) -> Result<String, Error> {
        self.issue_lasting(user, session, now, self.ttl)
    }

    /// [`TokenIssuer::issue`] for a token living `ttl` instead.
    pub(crate) fn issue_lasting(
        &self,
        user: &User,
        session: &SessionId,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<String, Error> {
        let mut claims = Claims::new(user.id.to_string(), random_token::<16>()?, now, ttl)
            .with_sid(session.0.clone());
        if let Some(issuer) = &self.audience.issuer {
            claims = claims.with_issuer(issuer.clone());
        }
        if let Some(audience) = &self.audience.audience {
            claims = claims.with_audience(audience.clone());
        }
        self.keys
            .load()
            .sign(&claims)
            .map_err(|e| Error::Internal(format!("signing failed: {e}")))
    }

    /// A signed access token for a service client (the client-credentials grant): `sub` and
    /// `client_id` the client's id, no session, `aud` the client's audiences (else the
    /// configured one), `scope` as granted.
    pub(crate) fn issue_for_client(
        &self,
        client: &ServiceClient,
        scope: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<String, Error> {
        let mut claims = Claims::new(client.id.clone(), random_token::<16>()?, now, self.ttl);
        claims
            .extra
            .insert(CLIENT_ID_CLAIM.into(), client.id.clone().into());
        if let Some(scope) = scope {
            claims.extra.insert("scope".into(), scope.into());
        }
        if let Some(issuer) = &self.audience.issuer {
            claims = claims.with_issuer(issuer.clone());
        }
        claims.aud = match client.audiences.as_slice() {
            [] => self.audience.audience.clone().map(Audience::One),
            [one] => Some(Audience::One(one.clone())),
            many => Some(Audience::Many(many.to_vec())),
        };
        self.keys
            .load()
            .sign(&claims)
            .map_err(|e| Error::Internal(format!("signing failed: {e}")))
    }

    /// Checks a service client's token at `now`: signature, algorithm, time claims, the
    /// issuer, and that it is a client's (`client_id` equal to `sub`, no session). Its
    /// audience is the resource servers' to judge, not Tessera's.
    pub fn verify_client(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, TokenRefusal> {
        let claims = self
            .verify_jwt(token, now)
            .map_err(|e| TokenRefusal::Rejected(TokenFormat::Jwt, e.kind()))?;
        self.check_issuer(&claims)?;
        match client_id(&claims) {
            Some(id) if id == claims.sub && claims.sid.is_none() => Ok(claims),
            _ => Err(TokenRefusal::NoUser),
        }
    }

    /// Checks signature, algorithm and time claims at `now`, and that the token names a
    /// session and a user. A Tessera JWT is tried first, then (when configured) the legacy
    /// format; the refusal is that of the format the token looks like (itsdangerous puts
    /// `exp` in the header).
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<VerifiedToken, TokenRefusal> {
        let jwt_error = match self.verify_jwt(token, now) {
            Ok(claims) => return self.session_token(claims),
            Err(error) => error.kind(),
        };
        let looks_legacy = || {
            tessera_token::decode_unverified(token)
                .is_ok_and(|(header, _)| header.get("exp").is_some())
        };
        match self.legacy.as_ref().map(|legacy| legacy.verify(token, now)) {
            Some(Ok(claims)) => legacy_token(claims),
            Some(Err(error)) if looks_legacy() => {
                Err(TokenRefusal::Rejected(TokenFormat::Legacy, error.kind()))
            }
            None if looks_legacy() => Err(TokenRefusal::Rejected(
                TokenFormat::Legacy,
                ErrorKind::UnknownKey,
            )),
            _ => Err(TokenRefusal::Rejected(TokenFormat::Jwt, jwt_error)),
        }
    }

    /// The key set's verdict, remembered for asymmetric keys: their signatures cost tens of
    /// microseconds to check, an HMAC one.
    fn verify_jwt(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, tessera_token::Error> {
        let keys = self.keys.load();
        if keys.signing_algorithm() == Some(Algorithm::HS256) {
            return keys.verify(token, now);
        }
        if let Some(claims) = self.verified.get(token, now) {
            return Ok(claims);
        }
        let claims = keys.verify(token, now)?;
        self.verified.put(token, &claims);
        Ok(claims)
    }

    fn check_issuer(&self, claims: &Claims) -> Result<(), TokenRefusal> {
        if let (Some(expected), Some(issuer), true) = (
            &self.audience.issuer,
            &claims.iss,
            self.audience.check_issuer,
        ) {
            if expected != issuer {
                return Err(TokenRefusal::WrongIssuer);
            }
        }
        Ok(())
    }

    fn session_token(&self, claims: Claims) -> Result<VerifiedToken, TokenRefusal> {
        self.check_issuer(&claims)?;
        if client_id(&claims).is_some() {
            return Err(TokenRefusal::ClientToken);
        }
        if let (Some(expected), Some(_)) = (&self.audience.audience, &claims.aud) {
            if !claims.has_audience(expected) {
                return Err(TokenRefusal::WrongAudience);
            }
        }
        session_token(claims)
    }
}

/// Tokens whose signature verified, by the SHA-256 of the whole token (so a cached verdict
/// never stands for another payload or header), until their `exp`. Only a good signature
/// is remembered; every other check (session, revocation, user) runs each time.
#[derive(Clone)]
struct VerifiedTokens {
    entries: Arc<quick_cache::sync::Cache<[u8; 32], Claims>>,
}

/// Most tokens remembered (about one per live token); past it the least used are evicted.
const VERIFIED_CAPACITY: usize = 50_000;

impl Default for VerifiedTokens {
    fn default() -> VerifiedTokens {
        VerifiedTokens {
            entries: Arc::new(quick_cache::sync::Cache::new(VERIFIED_CAPACITY)),
        }
    }
}

impl std::fmt::Debug for VerifiedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedTokens")
            .field("len", &self.entries.len())
            .finish()
    }
}

impl VerifiedTokens {
    fn get(&self, token: &str, now: DateTime<Utc>) -> Option<Claims> {
        let key = digest(token);
        let claims = self.entries.get(&key)?;
        if now.timestamp() < claims.exp {
            Some(claims)
        } else {
            self.entries.remove(&key);
            None
        }
    }

    fn put(&self, token: &str, claims: &Claims) {
        self.entries.insert(digest(token), claims.clone());
    }

    fn clear(&self) {
        self.entries.clear();
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The claim that marks a service client's token (RFC 9068 §2.2), beside `sub`.
const CLIENT_ID_CLAIM: &str = "client_id";

/// The `client_id` claim, when the token has one (a service client's token).
pub(crate) fn client_id(claims: &Claims) -> Option<&str> {
    claims
        .extra
        .get(CLIENT_ID_CLAIM)
        .map(|id| id.as_str().unwrap_or(""))
}

fn session_token(claims: Claims) -> Result<VerifiedToken, TokenRefusal> {
    let user_id = UserId::from_claim(&claims.sub).ok_or(TokenRefusal::NoUser)?;
    let session = match claims.sid.as_deref() {
        Some(sid) if !sid.is_empty() => SessionId(sid.to_owned()),
        _ => return Err(TokenRefusal::NoSession),
    };
    Ok(VerifiedToken {
        user_id,
        source: TokenSource::Session { session, claims },
    })
}

fn legacy_token(claims: LegacyClaims) -> Result<VerifiedToken, TokenRefusal> {
    if claims.id < 1 {
        return Err(TokenRefusal::NoUser);
    }
    Ok(VerifiedToken {
        user_id: UserId(claims.id),
        source: TokenSource::Legacy { claims },
    })
}

/// Whether a session-less token issued at `issued_at` (seconds) outlived the user's
/// `tokens_not_before`: refused when issued at or before it.
pub(crate) fn superseded(user: &User, source: &TokenSource) -> bool {
    match (source, user.tokens_not_before) {
        (TokenSource::Legacy { claims }, Some(not_before)) => claims.iat <= not_before.timestamp(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use tessera_token::{Key, Secret};

    use super::*;

    fn issuer() -> TokenIssuer {
        let key = Key::new("k1", Secret::new(vec![7u8; 32]));
        TokenIssuer::new(KeySet::new(key), Duration::minutes(10))
    }

    fn sign(claims: &Claims) -> String {
        let key = Key::new("k1", Secret::new(vec![7u8; 32]));
        KeySet::new(key).sign(claims).unwrap()
    }

    #[test]
    fn a_token_without_a_session_is_refused() {
        let now = Utc::now();
        let claims = Claims::new("1", "jti", now, Duration::minutes(1));
        assert_eq!(
            issuer().verify(&sign(&claims), now),
            Err(TokenRefusal::NoSession)
        );
        let empty = claims.clone().with_sid("");
        assert_eq!(
            issuer().verify(&sign(&empty), now),
            Err(TokenRefusal::NoSession)
        );
        let good = claims.with_sid("s1");
        let verified = issuer().verify(&sign(&good), now).unwrap();
        assert_eq!(verified.user_id, UserId(1));
        assert_eq!(verified.source.session(), Some(&SessionId("s1".into())));
    }

    #[test]
    fn a_subject_that_is_not_a_canonical_id_is_refused() {
        let now = Utc::now();
        for sub in [
            "01",
            "+1",
            "0",
            "-1",
            "1.0",
            " 1",
            "1 ",
            "",
            "abc",
            "99999999999999999999",
        ] {
            let claims = Claims::new(sub, "jti", now, Duration::minutes(1)).with_sid("s1");
            assert_eq!(
                issuer().verify(&sign(&claims), now),
                Err(TokenRefusal::NoUser),
                "{sub:?}"
            );
        }
    }

    #[test]
    fn issued_tokens_verify_with_their_session() {
        let now = Utc::now();
        let user = User {
            id: UserId(42),
            username: "ann".into(),
            password_hash: String::new(),
            created_at: now,
            updated_at: now,
            tokens_not_before: None,
        };
        let issuer = issuer();
        let token = issuer.issue(&user, &SessionId("s9".into()), now).unwrap();
        let verified = issuer.verify(&token, now).unwrap();
        assert_eq!(verified.user_id, UserId(42));
        assert_eq!(verified.source.format(), TokenFormat::Jwt);
    }

    fn ed25519_issuer() -> (TokenIssuer, KeySet) {
        let keys = KeySet::new(Key::generate(Algorithm::EdDSA).unwrap());
        (TokenIssuer::new(keys.clone(), Duration::minutes(10)), keys)
    }

    #[test]
    fn a_configured_issuer_and_audience_are_checked() {
        let now = Utc::now();
        let (issuer, keys) = ed25519_issuer();
        let issuer = issuer.with_audience(IssuerAndAudience {
            issuer: Some("https://auth.example".into()),
            check_issuer: true,
            audience: Some("api".into()),
        });
        let claims = Claims::new("1", "jti", now, Duration::minutes(1)).with_sid("s1");
        let sign = |claims: Claims| keys.sign(&claims).unwrap();
        assert!(
            issuer.verify(&sign(claims.clone()), now).is_ok(),
            "older tokens name neither"
        );
        let ours = claims
            .clone()
            .with_issuer("https://auth.example")
            .with_audience("api");
        assert!(issuer.verify(&sign(ours), now).is_ok());
        let other_issuer = claims.clone().with_issuer("https://evil.example");
        assert_eq!(
            issuer.verify(&sign(other_issuer.clone()), now),
            Err(TokenRefusal::WrongIssuer)
        );
        let other_audience = claims.with_audience("billing");
        assert_eq!(
            issuer.verify(&sign(other_audience), now),
            Err(TokenRefusal::WrongAudience)
        );
        let unchecked = TokenIssuer::new(keys.clone(), Duration::minutes(10)).with_audience(
            IssuerAndAudience {
                issuer: Some("http://127.0.0.1:1".into()),
                check_issuer: false,
                audience: None,
            },
        );
        assert!(
            unchecked.verify(&sign(other_issuer), now).is_ok(),
            "a development default is not enforced: processes differ in it"
        );
    }

    #[test]
    fn a_remembered_verdict_still_expires_and_ends_with_its_key() {
        let now = Utc::now();
        let (issuer, keys) = ed25519_issuer();
        let token = keys
            .sign(&Claims::new("1", "jti", now, Duration::seconds(60)).with_sid("s1"))
            .unwrap();
        assert!(issuer.verify(&token, now).is_ok());
        assert_eq!(issuer.verified.entries.len(), 1, "remembered");
        assert!(issuer.verify(&token, now).is_ok(), "from the cache");
        assert_eq!(
            issuer.verify(&token, now + Duration::seconds(60)),
            Err(TokenRefusal::Rejected(TokenFormat::Jwt, ErrorKind::Expired))
        );
        let mut tampered = token.clone();
        tampered.push('A');
        assert!(
            issuer.verify(&tampered, now).is_err(),
            "another token, not the cached one"
        );
        issuer.replace_keys(KeySet::new(Key::generate(Algorithm::EdDSA).unwrap()));
        assert_eq!(
            issuer.verify(&token, now),
            Err(TokenRefusal::Rejected(
                TokenFormat::Jwt,
                ErrorKind::UnknownKey
            )),
            "a key taken out of the set takes its tokens' verdicts with it"
        );
    }

    #[test]
    fn a_remembered_signature_never_vouches_for_another_payload() {
        let now = Utc::now();
        let (issuer, keys) = ed25519_issuer();
        let genuine = keys
            .sign(&Claims::new("1", "jti", now, Duration::seconds(60)).with_sid("s1"))
            .unwrap();
        assert!(issuer.verify(&genuine, now).is_ok());
        // The genuine header and signature around a payload naming user 2.
        let (header, rest) = genuine.split_once('.').unwrap();
        let signature = rest.rsplit_once('.').unwrap().1;
        let other = Claims::new("2", "jti", now, Duration::seconds(60)).with_sid("s1");
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&other).unwrap());
        let forged = format!("{header}.{payload}.{signature}");
        assert_eq!(
            issuer.verify(&forged, now),
            Err(TokenRefusal::Rejected(
                TokenFormat::Jwt,
                ErrorKind::BadSignature
            ))
        );
    }

    #[test]
    fn hmac_verdicts_are_not_remembered() {
        let now = Utc::now();
        let issuer = issuer();
        let token = sign(&Claims::new("1", "jti", now, Duration::seconds(60)).with_sid("s1"));
        assert!(issuer.verify(&token, now).is_ok());
        assert_eq!(issuer.verified.entries.len(), 0);
    }
}
