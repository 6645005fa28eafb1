//! Authentication: parsing `Authorization` headers and the extractors handlers use.
//!
//! A handler that takes [`AuthUser`] runs only for a request with a valid token; the
//! extractor answers 401 itself. A bad token is always an error, never "anonymous".

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use tessera_domain::{Authenticated, TokenCheck};

use crate::authorization::{Credentials, parse_authorization};
use crate::blocking::blocking;
use crate::error::{ApiError, Challenge};
use crate::state::AppState;

/// The credentials of a request, `None` when it has no `Authorization` header; several
/// headers are an error, not "the first one".
pub fn request_credentials(
    request: &HttpRequest,
    challenge: Challenge,
) -> Result<Option<Credentials>, ApiError> {
    let mut values = request.headers().get_all(header::AUTHORIZATION);
    match (values.next(), values.next()) {
        (None, _) => Ok(None),
        (Some(_), Some(_)) => Err(ApiError::several_authorizations(challenge)),
        (Some(value), None) => parse_authorization(value.as_bytes())
            .map(Some)
            .map_err(|e| ApiError::invalid_authorization(challenge, e.to_string())),
    }
}

/// A request authenticated by a token: the domain's [`Authenticated`]. On the versioned API
/// only `Bearer` is accepted; on the tutorial's routes ([`TutorialAuthUser`]) also Basic
/// `token:anything`. While `TESSERA_LEGACY_SECRET_KEY` is configured, the token may also
/// be one the Flask tutorial minted ([`tessera_domain::TokenSource::Legacy`]).
#[derive(Debug)]
pub struct AuthUser(pub Authenticated);

impl std::ops::Deref for AuthUser {
    type Target = Authenticated;

    fn deref(&self) -> &Authenticated {
        &self.0
    }
}

impl AuthUser {
    /// The token check of [`Auth::check_token`](tessera_domain::Auth::check_token): in
    /// memory, and off the async workers only when the user must be read from the store.
    async fn from_token(
        state: web::Data<AppState>,
        token: String,
        challenge: Challenge,
    ) -> Result<AuthUser, ApiError> {
        let refused = |error| match error {
            tessera_domain::Error::InvalidToken(refusal) => {
                ApiError::invalid_token(challenge, refusal.to_string())
            }
            other => ApiError::from(other),
        };
        let authenticated = match state.auth.check_token(&token).map_err(refused)? {
            TokenCheck::Done(authenticated) => authenticated,
            TokenCheck::NeedsUser(verified) => {
                let auth = state.auth.clone();
                // The outcome comes back whole, so the challenge is chosen here.
                blocking(move || Ok(auth.finish_token_check(verified)))
                    .await?
                    .map_err(refused)?
            }
        };
        Ok(AuthUser(authenticated))
    }
}

fn app_state(request: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    request
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("AppState missing from the app"))
}

type ExtractFuture<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

/// The token of a request as a route with `challenge` takes it: Bearer everywhere, and on
/// the tutorial's Basic routes also the user-id of HTTP Basic (`token:anything`).
fn token_of(credentials: Option<Credentials>, challenge: Challenge) -> Result<String, ApiError> {
    match (credentials, challenge) {
        (Some(Credentials::Bearer(token)), _) => Ok(token),
        (Some(Credentials::Basic { user_id, .. }), Challenge::Basic) => Ok(user_id),
        (Some(Credentials::Basic { .. }), Challenge::Bearer) => {
            Err(ApiError::invalid_authorization(
                challenge,
                "this API takes Authorization: Bearer <token>, not Basic",
            ))
        }
        (None, _) => Err(ApiError::missing_credentials(challenge)),
    }
}

/// The extraction both extractors share.
fn extract(request: &HttpRequest, challenge: Challenge) -> ExtractFuture<AuthUser> {
    let token = request_credentials(request, challenge).and_then(|c| token_of(c, challenge));
    let state = app_state(request);
    let request = request.clone();
    Box::pin(async move {
        let user = AuthUser::from_token(state?, token?, challenge).await?;
        crate::logging::record_user(&request, user.user.id);
        Ok(user)
    })
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = ExtractFuture<AuthUser>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        extract(request, Challenge::Bearer)
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
        let extracted = extract(request, Challenge::Basic);
        Box::pin(async move { extracted.await.map(TutorialAuthUser) })
    }
}
