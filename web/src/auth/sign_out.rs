//! Ending the session: the user signing out ([`Auth::end_on_server`], then
//! [`Auth::logout`]; `Client::sign_out` does both), or the session ending by itself
//! ([`Auth::end`]).
//!
//! A sign-out the server did not hear of (it could not be reached) would be undone by the
//! next load, as the HttpOnly cookies it clears are out of the app's reach. So a mark in
//! localStorage (no secret: just "pending") stands until the server has answered, and the
//! next load sends the sign-out again before looking for a session.

use gloo_storage::{LocalStorage, Storage};

use super::state::AuthAction;
use super::tabs::News;
use super::{Auth, Session};
use crate::api::{self, ApiError};
use crate::time;

/// The localStorage key of the mark saying a sign-out has not reached the server yet.
const SIGN_OUT_PENDING_KEY: &str = "tessera.sign-out-pending";

/// Why a session ended without the user signing out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// Its access token reached `exp` and it could not be renewed.
    Expired,
    /// The server refused its access token (401).
    Rejected,
}

pub(super) fn sign_out_pending() -> bool {
    LocalStorage::raw()
        .get_item(SIGN_OUT_PENDING_KEY)
        .ok()
        .flatten()
        .is_some()
}

fn mark_sign_out_pending() {
    // Without storage the mark cannot be left; the sign-out then holds until a reload.
    let _ = LocalStorage::raw().set_item(SIGN_OUT_PENDING_KEY, "1");
}

pub(super) fn forget_pending_sign_out() {
    LocalStorage::delete(SIGN_OUT_PENDING_KEY);
}

impl Auth {
    /// Ends the session on the server: with the access token while it is good, else (or
    /// when the server refuses it) with the session cookie, which also works when this tab
    /// holds no session. Leaves the pending mark if the server cannot be reached.
    pub async fn end_on_server(&self) {
        mark_sign_out_pending();
        if end_on_server(self.session()).await.is_ok() {
            forget_pending_sign_out();
        }
    }

    /// Forgets the session here and in the other tabs, saying `message`. After
    /// [`Auth::end_on_server`], whatever it achieved: an unreachable server must not keep
    /// anyone signed in on this device.
    pub fn logout(&self, message: &'static str) {
        self.state.dispatch(AuthAction::SignedOut);
        self.tabs.announce(News::SignedOut);
        self.toasts.success(message);
    }

    /// Sends the sign-out a previous page could not deliver; then nobody is signed in.
    pub(super) async fn finish_sign_out(&self) -> Result<(), ApiError> {
        let epoch = self.state.epoch;
        end_on_server(None).await?;
        forget_pending_sign_out();
        self.state.dispatch(AuthAction::Resumed {
            epoch,
            session: None,
        });
        Ok(())
    }

    /// Ends `session` for `reason`, unless another one has replaced it meanwhile.
    pub fn end(&self, session: &Session, reason: EndReason) {
        if self.state.session.as_ref() != Some(session) {
            return;
        }
        self.state
            .dispatch(AuthAction::Ended(session.access_token.clone()));
        self.toasts.info(match reason {
            EndReason::Expired => "Your session has expired. Please sign in again.",
            EndReason::Rejected => "Your session is no longer valid. Please sign in again.",
        });
    }
}

/// `POST /api/v1/logout`; `Ok` once the server has ended the session, or found none to end
/// (401: an expired access token is retried with the cookie alone).
async fn end_on_server(session: Option<Session>) -> Result<(), ApiError> {
    let token = session.filter(|s| !s.is_expired_at(time::now_ms()));
    let mut answer = api::logout(token.as_ref().map(Session::access_token)).await;
    if token.is_some() && is_refused(&answer) {
        answer = api::logout(None).await;
    }
    if is_refused(&answer) { Ok(()) } else { answer }
}

fn is_refused(answer: &Result<(), ApiError>) -> bool {
    matches!(answer, Err(error) if error.status() == Some(401))
}
