//! The session as a context: the [`Auth`] handle pages get from [`use_auth`], and the
//! [`AuthProvider`] that holds it for everything below.

use yew::platform::spawn_local;
use yew::prelude::*;

use super::Session;
use super::schedule::use_session_timer;
use super::sign_out::forget_pending_sign_out;
use super::state::{AuthAction, AuthState};
use super::tabs::{News, Tabs, use_other_tabs};
use crate::toast::{Toasts, use_toasts};

/// The session and what can be done with it; from [`use_auth`].
#[derive(Clone, PartialEq)]
pub struct Auth {
    pub(super) state: UseReducerHandle<AuthState>,
    pub(super) toasts: Toasts,
    pub(super) tabs: Tabs,
}

impl Auth {
    /// The current session, read at call time (so also right after an `await`).
    pub fn session(&self) -> Option<Session> {
        self.state.session.clone()
    }

    /// Whether the app is still asking the cookie if anyone is signed in (just loaded).
    pub fn is_restoring(&self) -> bool {
        self.state.restoring
    }

    /// Starts a session, here and in the other tabs; the router then leaves Sign in.
    pub fn login(&self, session: Session) {
        forget_pending_sign_out();
        self.state.dispatch(AuthAction::SignedIn(session));
        self.tabs.announce(News::SignedIn);
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
    let auth = Auth {
        state: use_reducer(AuthState::default),
        toasts: use_toasts(),
        tabs: (*use_state(Tabs::open)).clone(),
    };
    {
        let auth = auth.clone();
        use_effect_with((), move |_| spawn_local(auth.restore()));
    }
    use_session_timer(auth.clone());
    use_other_tabs(auth.clone());

    html! {
        <ContextProvider<Auth> context={auth}>
            { props.children.clone() }
        </ContextProvider<Auth>>
    }
}
