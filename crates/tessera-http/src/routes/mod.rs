//! The routes, one module per family.

pub(crate) mod health;
pub(crate) mod tutorial;
pub(crate) mod v1;

use actix_web::{HttpRequest, HttpResponse, Resource, web};
use tessera_domain::User;

use crate::error::Challenge;
use crate::limits::SignInAttempt;
use crate::metrics::{Metrics, SignIn};
use crate::state::AppState;

use crate::error::ApiError;

/// A resource that answers other methods with a JSON 405 naming the allowed ones.
pub(crate) fn resource(path: &str, allow: &'static str) -> Resource {
    web::resource(path).default_service(web::to(move || async move {
        Err::<HttpResponse, _>(ApiError::method_not_allowed(allow))
    }))
}

/// Runs a blocking domain call (storage) off the async workers.
pub(crate) async fn blocking<T, F>(work: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, tessera_domain::Error> + Send + 'static,
    T: Send + 'static,
{
    web::block(work)
        .await
        .map_err(|e| ApiError::internal(&e.to_string()))?
        .map_err(ApiError::from)
}

/// Checks a username and password within the rate limits: 429 while the account or the
/// client address is locked, 401 (with `challenge`) for wrong credentials.
pub(crate) async fn sign_in(
    state: &AppState,
    metrics: &Metrics,
    request: &HttpRequest,
    username: String,
    password: String,
    challenge: Challenge,
) -> Result<User, ApiError> {
    let attempt = SignInAttempt::reserve(state, metrics, request, &username).await?;
    let accounts = state.accounts.clone();
    match state
        .hashing
        .run(move || accounts.authenticate(&username, &password))
        .await?
    {
        Ok(user) => {
            attempt.succeeded(state).await?;
            metrics.sign_in(SignIn::Succeeded);
            Ok(user)
        }
        Err(tessera_domain::Error::InvalidCredentials) => {
            metrics.sign_in(SignIn::Failed);
            Err(ApiError::invalid_credentials(challenge))
        }
        Err(other) => Err(other.into()),
    }
}

/// Creates an account within the per-address registration limit.
pub(crate) async fn register(
    state: &AppState,
    request: &HttpRequest,
    username: String,
    password: String,
) -> Result<User, ApiError> {
    crate::limits::reserve_registration(state, request).await?;
    let accounts = state.accounts.clone();
    Ok(state
        .hashing
        .run(move || accounts.register(&username, &password))
        .await??)
}
