//! The API as pages use it: requests carry the session's token, show the loading bar, and
//! a refused token ends the session (the router then sends the user to Sign in,
//! remembering the page).

use serde::Serialize;
use serde::de::DeserializeOwned;
use tessera_api::{Credentials, UserView};
use yew::prelude::*;

use crate::api::{self, ApiError, Method};
use crate::auth::{Auth, EndReason, Session, use_auth};
use crate::progress::{Progress, use_progress};
use crate::time;

/// From [`use_client`].
#[derive(Clone)]
pub struct Client {
    auth: Auth,
    progress: Progress,
}

impl Client {
    /// A request on behalf of the signed-in user (anonymous when nobody is).
    async fn call<B, T>(&self, method: Method, path: &str, body: Option<&B>) -> Result<T, ApiError>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let _busy = self.progress.start();
        let session = self.auth.session();
        let token = session.as_ref().map(Session::access_token);
        let result = api::request(method, path, token, body).await;
        if let (Err(error), Some(session)) = (&result, &session) {
            if error.status() == Some(401) {
                // A computer that slept past the timer learns of expiry this way.
                let reason = if session.is_expired_at(time::now_ms()) {
                    EndReason::Expired
                } else {
                    EndReason::Rejected
                };
                self.auth.end(session, reason);
            }
        }
        result
    }

    /// The signed-in user (`GET /api/v1/me`).
    pub async fn me(&self) -> Result<UserView, ApiError> {
        self.call::<(), _>(Method::Get, "/api/v1/me", None).await
    }

    /// Creates an account; does not sign in.
    pub async fn register(&self, credentials: &Credentials) -> Result<UserView, ApiError> {
        let _busy = self.progress.start();
        api::register(credentials).await
    }

    /// Signs in and starts the session.
    pub async fn sign_in(&self, credentials: &Credentials) -> Result<(), ApiError> {
        let _busy = self.progress.start();
        let answer = api::issue_token(credentials).await?;
        let session = Session::from_token(&answer.access_token).ok_or_else(|| {
            ApiError::Unexpected("the access token has no readable expiry".into())
        })?;
        self.auth.login(session);
        Ok(())
    }
}

/// The API client; needs the auth and progress providers above.
#[hook]
pub fn use_client() -> Client {
    Client {
        auth: use_auth(),
        progress: use_progress(),
    }
}
