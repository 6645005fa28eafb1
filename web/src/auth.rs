//! Who is signed in: the session, where it is kept, and when it ends.
//!
//! One [`AuthProvider`] holds the session for the whole app; [`use_auth`] gives pages
//! `login` and `logout`. The session is mirrored to localStorage so a reload keeps the user
//! signed in, and it ends by itself when its access token expires (a timer set from the
//! token's `exp`), so no page waits for a request to fail first. Tabs follow each other:
//! signing in or out in one changes the session in all.

use std::fmt;
use std::rc::Rc;

use gloo_events::EventListener;
use gloo_storage::{LocalStorage, Storage};
use gloo_timers::callback::Timeout;
use serde::{Deserialize, Serialize};
use yew::prelude::*;

use crate::time;
use crate::toast::{Toasts, use_toasts};
use crate::token;

/// The localStorage key of the session.
pub const STORAGE_KEY: &str = "tessera.session";

/// The session as stored. An object rather than a bare token so that the refresh token
/// of issue 5 can join it without a new key or a migration.
#[derive(Serialize, Deserialize)]
struct Stored {
    access_token: String,
}

/// A signed-in user's credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Session {
    access_token: Rc<str>,
    expires_at: i64,
}

impl Session {
    /// A session for `access_token`, or `None` if its expiry cannot be read.
    pub fn from_token(access_token: &str) -> Option<Session> {
        let expires_at = token::expires_at(access_token)?;
        Some(Session {
            access_token: access_token.into(),
            expires_at,
        })
    }

    /// The bearer token to send.
    pub fn access_token(&self) -> &str {
        &self.access_token
    }

    /// When the access token expires, in Unix seconds.
    pub fn expires_at(&self) -> i64 {
        self.expires_at
    }

    /// Whether the session has ended by `now` (Unix milliseconds).
    pub fn is_expired_at(&self, now_ms: f64) -> bool {
        now_ms >= self.expires_at as f64 * 1000.0
    }

    /// Milliseconds from `now_ms` until expiry, within what `setTimeout` accepts.
    fn millis_left(&self, now_ms: f64) -> u32 {
        (self.expires_at as f64 * 1000.0 - now_ms).clamp(0.0, f64::from(i32::MAX)) as u32
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("access_token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Why a session ended without the user signing out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// Its access token reached `exp`.
    Expired,
    /// The server refused its access token (401).
    Rejected,
}

#[derive(Debug, Default, PartialEq)]
pub struct AuthState {
    session: Option<Session>,
}

pub enum AuthAction {
    SignedIn(Session),
    SignedOut,
    /// Ends the session only if it still holds this token: an answer to an old request
    /// must not end a session the user has started since.
    Ended(Rc<str>),
}

impl Reducible for AuthState {
    type Action = AuthAction;

    fn reduce(self: Rc<Self>, action: AuthAction) -> Rc<Self> {
        match action {
            AuthAction::SignedIn(session) => Rc::new(AuthState {
                session: Some(session),
            }),
            AuthAction::SignedOut => Rc::new(AuthState { session: None }),
            AuthAction::Ended(token) => match &self.session {
                Some(session) if session.access_token == token => {
                    Rc::new(AuthState { session: None })
                }
                _ => self,
            },
        }
    }
}

/// The session kept by an earlier visit, if it is still usable.
fn load(now_ms: f64) -> Option<Session> {
    let stored: Stored = LocalStorage::get(STORAGE_KEY).ok()?;
    Session::from_token(&stored.access_token).filter(|s| !s.is_expired_at(now_ms))
}

fn save(session: Option<&Session>) {
    match session {
        Some(session) => {
            let stored = Stored {
                access_token: session.access_token().to_owned(),
            };
            // Storage can be full or disabled (private windows): the user then stays
            // signed in until the page is closed, which is the best that can be done.
            let _ = LocalStorage::set(STORAGE_KEY, stored);
        }
        None => LocalStorage::delete(STORAGE_KEY),
    }
}

/// The session and what can be done with it; from [`use_auth`].
#[derive(Clone, PartialEq)]
pub struct Auth {
    state: UseReducerHandle<AuthState>,
    toasts: Toasts,
}

impl Auth {
    /// The current session, read at call time (so also right after an `await`).
    pub fn session(&self) -> Option<Session> {
        self.state.session.clone()
    }

    /// Starts a session; the router then leaves Sign in.
    pub fn login(&self, session: Session) {
        self.state.dispatch(AuthAction::SignedIn(session));
    }

    /// Ends the session at the user's request.
    pub fn logout(&self) {
        if self.state.session.is_some() {
            self.state.dispatch(AuthAction::SignedOut);
            self.toasts.success("You have signed out.");
        }
    }

    /// Takes over the session another tab stored (or removed).
    fn follow_storage(&self) {
        let stored = load(time::now_ms());
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
    let state = use_reducer(|| AuthState {
        session: load(time::now_ms()),
    });
    let auth = Auth {
        state: state.clone(),
        toasts: use_toasts(),
    };

    // localStorage follows the state, whatever changed it.
    use_effect_with(state.session.clone(), |session| save(session.as_ref()));

    // Leave on time: a timer per session, replaced when the session changes.
    {
        let auth = auth.clone();
        use_effect_with(state.session.clone(), move |session| {
            let timer = session.clone().map(|session| {
                let delay = session.millis_left(time::now_ms());
                Timeout::new(delay, move || auth.end(&session, EndReason::Expired))
            });
            move || drop(timer)
        });
    }

    // Another tab signing in or out writes localStorage, which fires `storage` here.
    {
        let auth = auth.clone();
        use_effect_with((), move |_| {
            let listener = web_sys::window().map(|window| {
                EventListener::new(&window, "storage", move |_| auth.follow_storage())
            });
            move || drop(listener)
        });
    }

    html! {
        <ContextProvider<Auth> context={auth}>
            { props.children.clone() }
        </ContextProvider<Auth>>
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    fn token(exp: i64, jti: &str) -> String {
        let payload = URL_SAFE_NO_PAD.encode(format!(r#"{{"exp":{exp},"jti":"{jti}"}}"#));
        format!("eyJhbGciOiJIUzI1NiJ9.{payload}.c2ln")
    }

    fn session(exp: i64, jti: &str) -> Session {
        Session::from_token(&token(exp, jti)).expect("readable token")
    }

    #[test]
    fn a_session_knows_when_it_ends() {
        let s = session(1_000, "a");
        assert_eq!(s.expires_at(), 1_000);
        assert!(!s.is_expired_at(999_999.0));
        assert!(s.is_expired_at(1_000_000.0));
        assert_eq!(s.millis_left(990_000.0), 10_000);
        assert_eq!(s.millis_left(2_000_000.0), 0, "already over: fire at once");
        let far = session(i64::from(i32::MAX) * 1000, "b");
        assert_eq!(far.millis_left(0.0), i32::MAX as u32, "setTimeout's limit");
    }

    #[test]
    fn a_token_without_exp_makes_no_session() {
        assert!(Session::from_token("not.a.jwt").is_none());
    }

    #[test]
    fn debug_hides_the_token() {
        let s = session(1_000, "secret-jti");
        let shown = format!("{s:?}");
        assert!(!shown.contains(s.access_token()), "{shown}");
        assert!(shown.contains("1000"));
    }

    #[test]
    fn ending_an_old_session_keeps_the_new_one() {
        let old = session(1_000, "old");
        let new = session(2_000, "new");
        let state = Rc::new(AuthState::default())
            .reduce(AuthAction::SignedIn(old.clone()))
            .reduce(AuthAction::SignedIn(new.clone()));
        let state = state.reduce(AuthAction::Ended(old.access_token.clone()));
        assert_eq!(state.session.as_ref(), Some(&new));
        let state = state.reduce(AuthAction::Ended(new.access_token.clone()));
        assert_eq!(state.session, None);
    }

    #[test]
    fn sign_out_ends_any_session() {
        let state = Rc::new(AuthState::default())
            .reduce(AuthAction::SignedIn(session(1_000, "a")))
            .reduce(AuthAction::SignedOut);
        assert_eq!(state.session, None);
    }
}
