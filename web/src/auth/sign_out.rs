//! Ending the session here: the user signing out ([`Auth::logout`]; the server's side is
//! `Client::sign_out`), or the session ending by itself ([`Auth::end`]).

use super::state::AuthAction;
use super::{Auth, Session, storage};
use crate::time;

/// Why a session ended without the user signing out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// Its access token reached `exp` and it could not be renewed.
    Expired,
    /// The server refused its access token (401).
    Rejected,
}

impl Auth {
    /// Forgets the session here (see `Client::sign_out` for the server's side), saying
    /// `message`.
    pub fn logout(&self, message: &'static str) {
        if self.state.session.is_some() {
            storage::save(None);
            self.state.dispatch(AuthAction::SignedOut);
            self.toasts.success(message);
        }
    }

    /// Ends `session` for `reason`, unless another one has replaced it meanwhile, here or
    /// in storage (another tab may have renewed it or signed in again).
    pub fn end(&self, session: &Session, reason: EndReason) {
        if self.state.session.as_ref() != Some(session) {
            return;
        }
        if let Some(stored) = storage::load(time::now_ms()) {
            if stored.access_token != session.access_token {
                self.state.dispatch(AuthAction::SignedIn(stored));
                return;
            }
        }
        storage::save(None);
        self.state
            .dispatch(AuthAction::Ended(session.access_token.clone()));
        self.toasts.info(match reason {
            EndReason::Expired => "Your session has expired. Please sign in again.",
            EndReason::Rejected => "Your session is no longer valid. Please sign in again.",
        });
    }
}
