//! The API as pages use it: requests carry the session's token (renewed first when it is
//! about to expire), show the loading bar, and a refused token ends the session (the
//! router then sends the user to Sign in, remembering the page).

use serde::Serialize;
use serde::de::DeserializeOwned;
use tessera_api::{
    AccountDeletion, Credentials, PasswordChange, SessionDelivery, SessionView, SignInRequest,
    UserView,
};
use yew::prelude::*;
use yew_router::prelude::Navigator;

use crate::api::{self, ApiError, Method};
use crate::auth::{Auth, EndReason, Session, use_auth};
use crate::progress::{Progress, use_progress};
use crate::routes::{self, Route};
use crate::time;
use crate::toast::{Toasts, use_toasts};

const SIGNED_OUT: &str = "You have signed out.";

/// From [`use_client`].
#[derive(Clone)]
pub struct Client {
    auth: Auth,
    progress: Progress,
    toasts: Toasts,
}

impl Client {
    /// A request on behalf of the signed-in user (anonymous when nobody is).
    async fn call<B, T>(&self, method: Method, path: &str, body: Option<&B>) -> Result<T, ApiError>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let json = body.map(api::to_json).transpose()?;
        let text = self.send(method, path, json).await?;
        api::from_json(&text)
    }

    /// [`Client::call`] without the types, so the bundle holds it once.
    async fn send(
        &self,
        method: Method,
        path: &str,
        json: Option<String>,
    ) -> Result<String, ApiError> {
        let _busy = self.progress.start();
        let session = self.auth.fresh_session().await?;
        let token = session.as_ref().map(Session::access_token);
        let result = api::send(method, path, token, json, None).await;
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

    /// Changes the signed-in user's password (`PUT /api/v1/me/password`); the server
    /// ends the user's other sessions and keeps this one.
    pub async fn change_password(&self, change: &PasswordChange) -> Result<(), ApiError> {
        self.call(Method::Put, "/api/v1/me/password", Some(change))
            .await
    }

    /// The signed-in user's live sessions (`GET /api/v1/sessions`).
    pub async fn sessions(&self) -> Result<Vec<SessionView>, ApiError> {
        self.call::<(), _>(Method::Get, "/api/v1/sessions", None)
            .await
    }

    /// Ends one of the user's sessions (`DELETE /api/v1/sessions/{id}`); one that has
    /// already ended counts as ended.
    pub async fn end_session(&self, id: &str) -> Result<(), ApiError> {
        let id = String::from(js_sys::encode_uri_component(id));
        let path = format!("/api/v1/sessions/{id}");
        match self.call::<(), ()>(Method::Delete, &path, None).await {
            Err(error) if error.status() == Some(404) => Ok(()),
            other => other,
        }
    }

    /// Ends every session of the user but this one.
    pub async fn end_other_sessions(&self) -> Result<(), ApiError> {
        for other in self.sessions().await?.iter().filter(|s| !s.current) {
            self.end_session(&other.id).await?;
        }
        Ok(())
    }

    /// Deletes the account (`DELETE /api/v1/me`, the password again), then forgets the
    /// session here and goes to Sign in.
    pub async fn delete_account(
        &self,
        deletion: &AccountDeletion,
        navigator: &Navigator,
    ) -> Result<(), ApiError> {
        self.call::<_, ()>(Method::Delete, "/api/v1/me", Some(deletion))
            .await?;
        // The server has ended every session; this clears the cookies.
        self.end_on_server().await;
        self.forget(navigator, "Your account has been deleted.");
        Ok(())
    }

    /// Creates an account; does not sign in.
    pub async fn register(&self, credentials: &Credentials) -> Result<UserView, ApiError> {
        let _busy = self.progress.start();
        api::register(credentials).await
    }

    /// Signs in and starts the session; the refresh token stays in the server's HttpOnly
    /// cookie.
    pub async fn sign_in(&self, credentials: &Credentials) -> Result<(), ApiError> {
        let _busy = self.progress.start();
        let sign_in = SignInRequest {
            credentials: credentials.clone(),
            session: SessionDelivery::Cookie,
        };
        let answer = api::issue_token(&sign_in).await?;
        let session = Session::from_response(&answer, time::now_ms()).ok_or_else(|| {
            ApiError::Unexpected("the access token has no readable expiry".into())
        })?;
        self.auth.login(session);
        Ok(())
    }

    /// Signs out: ends the session on the server, then forgets it here and goes to Sign
    /// in. It is forgotten here whatever the server answers: an unreachable server must
    /// not keep anyone signed in on this device.
    pub async fn sign_out(&self, navigator: &Navigator) {
        self.end_on_server().await;
        self.forget(navigator, SIGNED_OUT);
    }

    /// [`Client::sign_out`] for the sign-out link (`/logout`), which other sites use too:
    /// afterwards to `rd` when the server allows it, else to Sign in.
    pub async fn sign_out_to(&self, rd: Option<&str>, navigator: &Navigator) {
        self.end_on_server().await;
        self.auth.logout(SIGNED_OUT);
        match rd {
            Some(rd) => routes::leave_for(rd, &Route::SignIn, navigator, &self.toasts).await,
            None => navigator.replace(&Route::SignIn),
        }
    }

    /// Signs out on every device: ends the user's other sessions, then this one. If an
    /// other session cannot be ended, the user stays signed in here to try again.
    pub async fn sign_out_everywhere(&self, navigator: &Navigator) -> Result<(), ApiError> {
        self.end_other_sessions().await?;
        self.end_on_server().await;
        self.forget(navigator, "You have signed out on every device.");
        Ok(())
    }

    async fn end_on_server(&self) {
        let _busy = self.progress.start();
        self.auth.end_on_server().await;
    }

    fn forget(&self, navigator: &Navigator, message: &'static str) {
        // Straight to Sign in, not via the gate, which would remember this page.
        navigator.replace(&Route::SignIn);
        self.auth.logout(message);
    }
}

/// The API client; needs the auth and progress providers above.
#[hook]
pub fn use_client() -> Client {
    Client {
        auth: use_auth(),
        progress: use_progress(),
        toasts: use_toasts(),
    }
}
