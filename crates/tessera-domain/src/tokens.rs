//! Access tokens: issuing them for a session, and deciding whether one presented is good.
//!
//! Tessera's own tokens are JWTs (`tessera-token`) that must name a session (`sid`) and a
//! user by canonical decimal id (`sub`). While the operator configures the Flask tutorial's
//! old secret, its itsdangerous tokens are accepted too, as a typed [`TokenSource::Legacy`]:
//! they have no session, so they end by the user's `tokens_not_before` time instead (set by
//! a password change and by signing out with one).

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tessera_token::legacy::{LegacyClaims, LegacyVerifier};
use tessera_token::{Claims, ErrorKind, KeySet};

use crate::token_refusal::{TokenFormat, TokenRefusal};
use crate::{Error, SessionId, User, UserId, random_token};

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
    keys: Arc<KeySet>,
    ttl: Duration,
    legacy: Option<Arc<LegacyVerifier>>,
}

impl TokenIssuer {
    /// Tokens signed by the key set's signing key, living `ttl`.
    pub fn new(keys: KeySet, ttl: Duration) -> TokenIssuer {
        TokenIssuer {
            keys: Arc::new(keys),
            ttl,
            legacy: None,
        }
    }

    /// Also accepts the Flask tutorial's itsdangerous tokens checked by `verifier`; `None`
    /// leaves them refused.
    pub fn with_legacy(mut self, verifier: Option<LegacyVerifier>) -> TokenIssuer {
        self.legacy = verifier.map(Arc::new);
        self
    }

    /// How long access tokens live.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A signed access token for `user` in `session`.
    pub(crate) fn issue(
        &self,
        user: &User,
        session: &SessionId,
        now: DateTime<Utc>,
    ) -> Result<String, Error> {
        let claims = Claims::new(user.id.to_string(), random_token::<16>()?, now, self.ttl)
            .with_sid(session.0.clone());
        self.keys
            .sign(&claims)
            .map_err(|e| Error::Internal(format!("signing failed: {e}")))
    }

    /// Checks signature, algorithm and time claims at `now`, and that the token names a
    /// session and a user. A Tessera JWT is tried first, then (when configured) the legacy
    /// format; the refusal is that of the format the token looks like (itsdangerous puts
    /// `exp` in the header).
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<VerifiedToken, TokenRefusal> {
        let jwt_error = match self.keys.verify(token, now) {
            Ok(claims) => return session_token(claims),
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
}
