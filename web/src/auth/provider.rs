//! The session as a context: the [`Auth`] handle pages get from [`use_auth`], and the
//! [`AuthProvider`] that holds it for everything below.

use yew::prelude::*;

use super::Session;
use super::schedule::use_session_timer;
use super::state::{AuthAction, AuthState};
use super::storage;
use super::tabs::use_other_tabs;
use crate::time;
use crate::toast::{Toasts, use_toasts};

/// The session and what can be done with it; from [`use_auth`].
#[derive(Clone, PartialEq)]
pub struct Auth {
    pub(super) state: UseReducerHandle<AuthState>,
    pub(super) toasts: Toasts,
}

impl Auth {
    /// The current session, read at call time (so also right after an `await`).
    pub fn session(&self) -> Option<Session> {
        self.state.session.clone()
    }

    /// Starts a session; the router then leaves Sign in.
    pub fn login(&self, session: Session) {
        storage::save(Some(&session));
        self.state.dispatch(AuthAction::SignedIn(session));
    }
}

/// The session handle; needs an [`AuthProvider`] above.
#[hook]
pub fn use_auth() -> Auth {
    use_context::<Auth>().expect("use_auth needs an AuthProvider above")
}

#[derive(Properties, PartialEq)]
pub struct ProviderProps {
    pub children: Html,
}

/// Holds the session for everything below it; needs a `ToastProvider` above.
#[component]
pub fn AuthProvider(props: &ProviderProps) -> Html {
    let state = use_reducer(|| {
        let session = storage::load(time::now_ms());
        if session.is_none() {
            // An expired or unreadable leftover.
            storage::save(None);
        }
        AuthState { session }
    });
    let auth = Auth {
        state,
        toasts: use_toasts(),
    };
    use_session_timer(auth.clone());
    use_other_tabs(auth.clone());

    html! {
        <ContextProvider<Auth> context={auth}>
            { props.children.clone() }
        </ContextProvider<Auth>>
    }
}
