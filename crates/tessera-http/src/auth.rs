//! Authentication: parsing `Authorization` headers and the extractors handlers use.
//!
//! A handler that takes [`AuthUser`] runs only for a request with a valid token; the
//! extractor answers 401 itself. A bad token is always an error, never "anonymous".

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use tessera_domain::{User, UserId};
use tessera_token::Claims;

pub use crate::authorization::{Credentials, HeaderError, parse_authorization};
use crate::error::{ApiError, Challenge};
use crate::state::AppState;

/// The credentials of a request, `None` when it has no `Authorization` header.
pub fn request_credentials(
    request: &HttpRequest,
    challenge: Challenge,
) -> Result<Option<Credentials>, ApiError> {
    match request.headers().get(header::AUTHORIZATION) {
        None => Ok(None),
        Some(value) => parse_authorization(value.as_bytes())
            .map(Some)
            .map_err(|e| ApiError::invalid_authorization(challenge, e.to_string())),
    }
}

/// A request authenticated by a token. On the versioned API only `Bearer` is accepted;
/// on the tutorial's routes ([`TutorialAuthUser`]) also Basic `token:anything`.
///
/// While `TESSERA_LEGACY_SECRET_KEY` is configured, the token may also be one the Flask
/// tutorial minted with itsdangerous ([`AuthUser::is_legacy`]).
#[derive(Debug)]
pub struct AuthUser {
    /// The user the token names, as stored now.
    pub user: User,
    /// The verified claims. For a legacy token: `sub` is its `id`, `iat` and `exp` are its
    /// own, `jti` is `legacy:<id>:<iat>`, and there is no session.
    pub claims: Claims,
}

/// How the `jti` of a legacy token's claims begins; Tessera's own never contain a colon.
const LEGACY_JTI_PREFIX: &str = "legacy:";

impl AuthUser {
    /// True when the request carried a legacy itsdangerous token rather than a Tessera JWT.
    pub fn is_legacy(&self) -> bool {
        self.claims.jti.starts_with(LEGACY_JTI_PREFIX)
    }

    async fn from_token(
        state: web::Data<AppState>,
        token: String,
        challenge: Challenge,
    ) -> Result<AuthUser, ApiError> {
        let claims = verify_token(&state, &token)
            .map_err(|e| ApiError::invalid_token(challenge, token_error_detail(e.kind())))?;
        // Revocation is checked in memory: this process records its own revocations at
        // once and learns of other processes' ones within the sync interval.
        if claims
            .sid
            .as_deref()
            .is_some_and(|sid| state.sessions.revoked().contains(sid))
        {
            return Err(ApiError::invalid_token(challenge, "the session has ended"));
        }
        let id: i64 = claims
            .sub
            .parse()
            .map_err(|_| ApiError::invalid_token(challenge, "the token names no user"))?;
        let user = match state.users.get(UserId(id)) {
            Some(user) => user,
            None => {
                let accounts = state.accounts.clone();
                let user = web::block(move || accounts.find(UserId(id)))
                    .await
                    .map_err(|e| ApiError::internal(&e.to_string()))?
                    .map_err(|e| match e {
                        tessera_domain::Error::UserNotFound => {
                            ApiError::invalid_token(challenge, "the token's user no longer exists")
                        }
                        other => ApiError::from(other),
                    })?;
                state.users.put(&user);
                user
            }
        };
        Ok(AuthUser { user, claims })
    }
}

/// Tessera's own token first; failing that, a legacy token when they are accepted. The
/// error reported is the JWT's, unless the legacy verifier got as far as the expiry.
fn verify_token(state: &AppState, token: &str) -> Result<Claims, tessera_token::Error> {
    let jwt_error = match state.tokens.verify(token) {
        Ok(claims) => return Ok(claims),
        Err(error) => error,
    };
    match state.tokens.verify_legacy(token) {
        Some(Ok(legacy)) => Ok(legacy_claims(&legacy)),
        Some(Err(error)) if error.kind() == tessera_token::ErrorKind::Expired => Err(error),
        _ => Err(jwt_error),
    }
}

/// Claims standing in for a verified legacy token.
fn legacy_claims(legacy: &tessera_token::legacy::LegacyClaims) -> Claims {
    let issued_at = chrono::DateTime::from_timestamp(legacy.iat, 0).unwrap_or_default();
    let jti = format!("{LEGACY_JTI_PREFIX}{}:{}", legacy.id, legacy.iat);
    let mut claims = Claims::new(
        legacy.id.to_string(),
        jti,
        issued_at,
        chrono::Duration::zero(),
    );
    claims.exp = legacy.exp;
    claims
}

fn token_error_detail(kind: tessera_token::ErrorKind) -> &'static str {
    use tessera_token::ErrorKind;
    match kind {
        ErrorKind::Expired => "the token has expired",
        ErrorKind::NotYetValid => "the token is not valid yet",
        ErrorKind::Malformed => "the token is malformed",
        ErrorKind::UnsupportedAlgorithm => "the token's algorithm is not accepted",
        ErrorKind::UnknownKey | ErrorKind::BadSignature => "the token's signature is invalid",
    }
}

fn app_state(request: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    request
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("AppState missing from the app"))
}

type ExtractFuture<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = ExtractFuture<AuthUser>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let challenge = Challenge::Bearer;
        let parsed = request_credentials(request, challenge);
        let state = app_state(request);
        Box::pin(async move {
            let state = state?;
            match parsed? {
                Some(Credentials::Bearer(token)) => {
                    AuthUser::from_token(state, token, challenge).await
                }
                Some(Credentials::Basic { .. }) => Err(ApiError::invalid_authorization(
                    challenge,
                    "this API takes Authorization: Bearer <token>, not Basic",
                )),
                None => Err(ApiError::missing_credentials(challenge)),
            }
        })
    }
}

/// Authentication as the tutorial's `GET /` does it: the token as `Bearer <token>` or as
/// the user-id of HTTP Basic (`token:anything`). Failures challenge with Basic.
#[derive(Debug)]
pub struct TutorialAuthUser(pub AuthUser);

impl FromRequest for TutorialAuthUser {
    type Error = ApiError;
    type Future = ExtractFuture<TutorialAuthUser>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let challenge = Challenge::Basic;
        let parsed = request_credentials(request, challenge);
        let state = app_state(request);
        Box::pin(async move {
            let state = state?;
            let token = match parsed? {
                Some(Credentials::Bearer(token)) => token,
                Some(Credentials::Basic { user_id, .. }) => user_id,
                None => return Err(ApiError::missing_credentials(challenge)),
            };
            AuthUser::from_token(state, token, challenge)
                .await
                .map(TutorialAuthUser)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_legacy_token_becomes_claims_naming_its_user_and_expiry() {
        let legacy = tessera_token::legacy::LegacyClaims {
            id: 42,
            iat: 1_700_000_000,
            exp: 1_700_000_600,
            alg: tessera_token::legacy::LegacyAlgorithm::Hs512,
        };
        let claims = legacy_claims(&legacy);
        assert_eq!(
            (claims.sub.as_str(), claims.iat, claims.exp),
            ("42", 1_700_000_000, 1_700_000_600)
        );
        assert_eq!(claims.sid, None);
        let user = User {
            id: UserId(42),
            username: "ann".into(),
            password_hash: String::new(),
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        };
        let legacy_user = AuthUser {
            user: user.clone(),
            claims,
        };
        assert!(legacy_user.is_legacy());
        let own = AuthUser {
            user,
            claims: Claims::new(
                "42",
                "A-b_c",
                chrono::Utc::now(),
                chrono::Duration::minutes(1),
            ),
        };
        assert!(!own.is_legacy());
    }
}
