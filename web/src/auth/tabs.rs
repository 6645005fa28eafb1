//! Following the other tabs: signing in or out, or renewing, in one tab writes
//! localStorage, which fires `storage` in the others; they take over what it holds.

use gloo_events::EventListener;
use yew::prelude::*;

use super::Auth;
use super::state::AuthAction;
use super::storage;
use crate::time;

impl Auth {
    /// Takes over the session another tab stored (or removed).
    pub(super) fn follow_storage(&self) {
        let stored = storage::load(time::now_ms());
        if stored == self.state.session {
            return;
        }
        match stored {
            Some(session) => self.state.dispatch(AuthAction::SignedIn(session)),
            None => {
                self.state.dispatch(AuthAction::SignedOut);
                self.toasts.info("Your session ended in another tab.");
            }
        }
    }
}

/// Follows the other tabs' changes to the stored session for as long as the caller lives.
#[hook]
pub(super) fn use_other_tabs(auth: Auth) {
    use_effect_with((), move |_| {
        let listener = web_sys::window()
            .map(|window| EventListener::new(&window, "storage", move |_| auth.follow_storage()));
        move || drop(listener)
    });
}
