//! Who is signed in: the session, where it is kept, how it is renewed, and when it ends.
//!
//! One [`AuthProvider`] holds the session for the whole app; [`use_auth`] gives pages
//! `login` and `logout`. The session is mirrored to localStorage so a reload keeps the user
//! signed in. Tabs follow each other through `storage` events: signing in or out, or
//! renewing the tokens, in one changes the session in all.
//!
//! A session with a refresh token is renewed shortly before its access token expires
//! ([`Session::millis_until_refresh`]). A refresh token works once, and presenting it a
//! second time ends the whole session on the server, so every renewal runs under one lock
//! shared by all tabs ([`crate::lock`]) and first looks in localStorage whether another
//! tab (or another task of this one) has renewed the session meanwhile; if so it takes
//! those tokens instead of asking the server. New tokens are written to localStorage
//! before the lock is released. That write reaches another tab's process a moment later,
//! possibly after the lock has; so a tab also leaves a mark ([`crate::lock::mark`]) on
//! each refresh token it uses, and a tab that finds the mark waits for the new tokens to
//! arrive instead of presenting the used one. If the server refuses the refresh token the session
//! ends; if it cannot be reached, renewal is tried again later and the session is kept.
//! A session without a refresh token ends by itself when its access token expires.

use std::fmt;
use std::rc::Rc;

use gloo_events::EventListener;
use gloo_storage::{LocalStorage, Storage};
use gloo_timers::callback::Timeout;
use gloo_timers::future::TimeoutFuture;
use serde::{Deserialize, Serialize};
use tessera_api::TokenResponse;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::lock;
use crate::time;
use crate::toast::{Toasts, use_toasts};
use crate::token;

/// The localStorage key of the session.
pub const STORAGE_KEY: &str = "tessera.session";
/// The name of the lock every renewal runs under, in all tabs.
const REFRESH_LOCK: &str = "tessera.refresh";
/// Longest wait before renewing: 30 seconds before expiry, or at 80 % of the token's
/// lifetime when that is later (short lifetimes).
const REFRESH_MARGIN_MAX_MS: f64 = 30_000.0;
/// A request does not go out with an access token expiring sooner than this: it is
/// renewed first.
const FRESH_ENOUGH_MS: u32 = 1_000;
/// How long a tab that used a refresh token keeps the mark saying so: far longer than
/// localStorage takes to reach the other tabs.
const SPENT_MARK_MS: u32 = 30_000;
/// How long a tab waits for another tab's renewal to show in its localStorage, and how
/// often it looks.
const RENEWAL_ELSEWHERE_WAIT_MS: u32 = 5_000;
const STORAGE_POLL_MS: u32 = 20;
/// First and longest pause before trying a renewal again that failed without an answer.
const RETRY_FIRST_MS: u32 = 2_000;
const RETRY_MAX_MS: u32 = 60_000;

/// The session as stored.
#[derive(Serialize, Deserialize)]
struct Stored {
    access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    clock_skew_ms: i64,
}

fn is_zero(value: &i64) -> bool {
    *value == 0
}

/// A signed-in user's credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Session {
    access_token: Rc<str>,
    refresh_token: Option<Rc<str>>,
    user: Option<Rc<str>>,
    issued_at: Option<i64>,
    expires_at: i64,
    /// How far this browser's clock runs ahead of the server's, in milliseconds, as
    /// estimated when the tokens arrived: `exp` and `iat` are server times.
    clock_skew_ms: i64,
}

impl Session {
    /// A session for `access_token` (and `refresh_token`, when the server gave one), or
    /// `None` if the access token's expiry cannot be read.
    fn new(access_token: &str, refresh_token: Option<&str>, clock_skew_ms: i64) -> Option<Session> {
        let claims = token::claims(access_token)?;
        Some(Session {
            access_token: access_token.into(),
            refresh_token: refresh_token.map(Rc::from),
            user: claims.sub.map(Rc::from),
            issued_at: claims.iat,
            expires_at: claims.exp,
            clock_skew_ms,
        })
    }

    /// The session a token response starts, received at `now_ms` (Unix milliseconds).
    pub fn from_response(answer: &TokenResponse, now_ms: f64) -> Option<Session> {
        let claims = token::claims(&answer.access_token)?;
        // `iat` is whole seconds, so the token was issued in the second after it: taking
        // the end of that second errs towards acting early, never late.
        let skew = claims
            .iat
            .map_or(0, |iat| (now_ms - (iat as f64 + 1.0) * 1000.0) as i64);
        Session::new(&answer.access_token, answer.refresh_token.as_deref(), skew)
    }

    /// The bearer token to send.
    pub fn access_token(&self) -> &str {
        &self.access_token
    }

    /// Whether the session can be renewed.
    pub fn renews(&self) -> bool {
        self.refresh_token.is_some()
    }

    /// Who the session belongs to (the token's `sub`), else something as particular.
    pub fn user(&self) -> &str {
        self.user.as_deref().unwrap_or(&self.access_token)
    }

    /// When the access token expires, in Unix seconds by this browser's clock.
    pub fn expires_at(&self) -> i64 {
        self.expires_at + self.clock_skew_ms / 1000
    }

    /// `now_ms` (Unix milliseconds, this browser's clock) by the server's clock.
    fn server_time(&self, now_ms: f64) -> f64 {
        now_ms - self.clock_skew_ms as f64
    }

    /// Whether the access token has expired by `now` (Unix milliseconds).
    pub fn is_expired_at(&self, now_ms: f64) -> bool {
        self.server_time(now_ms) >= self.expires_at as f64 * 1000.0
    }

    /// Milliseconds from `now_ms` until expiry, within what `setTimeout` accepts.
    fn millis_left(&self, now_ms: f64) -> u32 {
        timeout(self.expires_at as f64 * 1000.0 - self.server_time(now_ms))
    }

    /// Milliseconds from `now_ms` until the session is due for renewal: 30 seconds before
    /// the access token expires, or at 80 % of its lifetime if that is later.
    fn millis_until_refresh(&self, now_ms: f64) -> u32 {
        let now = self.server_time(now_ms);
        let expiry = self.expires_at as f64 * 1000.0;
        // Without `iat`, the lifetime left stands in for the whole.
        let issued = self.issued_at.map_or(now, |iat| iat as f64 * 1000.0);
        let margin = ((expiry - issued) / 5.0).clamp(0.0, REFRESH_MARGIN_MAX_MS);
        timeout(expiry - margin - now)
    }

    fn stored(&self) -> Stored {
        Stored {
            access_token: self.access_token.to_string(),
            refresh_token: self.refresh_token.as_deref().map(str::to_owned),
            clock_skew_ms: self.clock_skew_ms,
        }
    }
}

/// A delay for `setTimeout`: not negative, not beyond its limit.
fn timeout(millis: f64) -> u32 {
    millis.clamp(0.0, f64::from(i32::MAX)) as u32
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("access_token", &"<redacted>")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("user", &self.user)
            .field("expires_at", &self.expires_at)
            .field("clock_skew_ms", &self.clock_skew_ms)
            .finish()
    }
}

/// Why a session ended without the user signing out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// Its access token reached `exp` and it could not be renewed.
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
    /// New tokens for the session holding `old`; ignored if it holds another by now (the
    /// user signed out or in meanwhile).
    Renewed {
        old: Rc<str>,
        new: Session,
    },
}

impl Reducible for AuthState {
    type Action = AuthAction;

    fn reduce(self: Rc<Self>, action: AuthAction) -> Rc<Self> {
        let holds = |token: &Rc<str>| {
            self.session
                .as_ref()
                .is_some_and(|session| session.access_token == *token)
        };
        match action {
            AuthAction::SignedIn(session) => Rc::new(AuthState {
                session: Some(session),
            }),
            AuthAction::SignedOut => Rc::new(AuthState { session: None }),
            AuthAction::Ended(token) if holds(&token) => Rc::new(AuthState { session: None }),
            AuthAction::Renewed { old, new } if holds(&old) => {
                Rc::new(AuthState { session: Some(new) })
            }
            AuthAction::Ended(_) | AuthAction::Renewed { .. } => self,
        }
    }
}

/// The name of the mark saying that `refresh_token` has been used: a digest (FNV-1a), so
/// the token itself is not copied into lock names.
fn spent_mark(refresh_token: &str) -> String {
    let digest = refresh_token
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    format!("tessera.refresh-used.{digest:016x}")
}

/// Whatever session is stored, usable or not.
fn read() -> Option<Session> {
    let stored: Stored = LocalStorage::get(STORAGE_KEY).ok()?;
    Session::new(
        &stored.access_token,
        stored.refresh_token.as_deref(),
        stored.clock_skew_ms,
    )
}

/// The stored session, if it is still usable: it can be renewed, or it has not expired.
fn load(now_ms: f64) -> Option<Session> {
    read().filter(|s| s.renews() || !s.is_expired_at(now_ms))
}

fn save(session: Option<&Session>) {
    match session {
        // Storage can be full or disabled (private windows): the user then stays signed
        // in until the page is closed, which is the best that can be done.
        Some(session) => {
            let _ = LocalStorage::set(STORAGE_KEY, session.stored());
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
        save(Some(&session));
        self.state.dispatch(AuthAction::SignedIn(session));
    }

    /// Forgets the session here (see `Client::sign_out` for the server's side), saying
    /// `message`.
    pub fn logout(&self, message: &'static str) {
        if self.state.session.is_some() {
            save(None);
            self.state.dispatch(AuthAction::SignedOut);
            self.toasts.success(message);
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

    /// Ends `session` for `reason`, unless another one has replaced it meanwhile, here or
    /// in storage (another tab may have renewed it or signed in again).
    pub fn end(&self, session: &Session, reason: EndReason) {
        if self.state.session.as_ref() != Some(session) {
            return;
        }
        if let Some(stored) = load(time::now_ms()) {
            if stored.access_token != session.access_token {
                self.state.dispatch(AuthAction::SignedIn(stored));
                return;
            }
        }
        save(None);
        self.state
            .dispatch(AuthAction::Ended(session.access_token.clone()));
        self.toasts.info(match reason {
            EndReason::Expired => "Your session has expired. Please sign in again.",
            EndReason::Rejected => "Your session is no longer valid. Please sign in again.",
        });
    }

    /// The session to send a request with now: renewed first if its access token is about
    /// to expire. `Ok(None)` when nobody is signed in (any more).
    pub async fn fresh_session(&self) -> Result<Option<Session>, ApiError> {
        match self.session() {
            Some(session)
                if session.renews() && session.millis_left(time::now_ms()) < FRESH_ENOUGH_MS =>
            {
                self.refresh(&session).await
            }
            other => Ok(other),
        }
    }

    /// Exchanges `held`'s refresh token for new tokens, once across all tabs; answers the
    /// session in force afterwards. A refused refresh token ends the session.
    async fn refresh(&self, held: &Session) -> Result<Option<Session>, ApiError> {
        let Some(refresh_token) = held.refresh_token.clone() else {
            return Ok(Some(held.clone()));
        };
        lock::exclusive(REFRESH_LOCK, async {
            // While this task waited for the lock, another tab or task may have renewed
            // the session (its refresh token is then used up) or ended it.
            if read().and_then(|s| s.refresh_token) != Some(refresh_token.clone()) {
                self.follow_storage();
                return Ok(self.session());
            }
            // What another tab stored may not have reached this one yet; the mark it left
            // on this refresh token has, as marks come in lock order.
            let Some(spending) = lock::mark(&spent_mark(&refresh_token)).await else {
                return Ok(self.await_renewal_elsewhere(&refresh_token).await);
            };
            let answer = match api::refresh(&refresh_token).await {
                Ok(answer) => answer,
                Err(error) => {
                    spending.release();
                    // 401: the session has ended on the server (signed out elsewhere,
                    // expired, or this token was used already). Else: try again later.
                    if error.status() == Some(401) {
                        self.end(held, EndReason::Expired);
                    }
                    return Err(error);
                }
            };
            spending.keep_for(SPENT_MARK_MS);
            let Some(renewed) = Session::from_response(&answer, time::now_ms()) else {
                self.end(held, EndReason::Rejected);
                return Err(ApiError::Unexpected(
                    "the access token has no readable expiry".into(),
                ));
            };
            // Signed out while the request ran: the user's choice stands.
            if read().and_then(|s| s.refresh_token) != Some(refresh_token) {
                return Ok(self.session());
            }
            // Stored before the lock is released, so the next holder finds it (once it
            // has reached that holder's tab: see the mark above).
            save(Some(&renewed));
            self.state.dispatch(AuthAction::Renewed {
                old: held.access_token.clone(),
                new: renewed.clone(),
            });
            Ok(Some(renewed))
        })
        .await
    }

    /// Waits until localStorage here shows that another tab renewed the session of
    /// `spent` (or ended it), takes what it shows and answers the session in force. Gives
    /// up after [`RENEWAL_ELSEWHERE_WAIT_MS`], keeping the session as it is.
    async fn await_renewal_elsewhere(&self, spent: &str) -> Option<Session> {
        let deadline = time::now_ms() + f64::from(RENEWAL_ELSEWHERE_WAIT_MS);
        while read().and_then(|s| s.refresh_token).as_deref() == Some(spent)
            && time::now_ms() < deadline
        {
            TimeoutFuture::new(STORAGE_POLL_MS).await;
        }
        self.follow_storage();
        self.session()
    }

    /// Renews `session` when its timer fires, trying again while the server cannot be
    /// reached, until the session has been renewed, ended or replaced.
    async fn keep_fresh(self, session: Session) {
        let mut pause = RETRY_FIRST_MS;
        loop {
            let _ = self.refresh(&session).await;
            if self.session().as_ref() != Some(&session) {
                return;
            }
            TimeoutFuture::new(pause).await;
            pause = pause.saturating_mul(2).min(RETRY_MAX_MS);
            if self.session().as_ref() != Some(&session) {
                return;
            }
        }
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
        let session = load(time::now_ms());
        if session.is_none() {
            // An expired or unreadable leftover.
            save(None);
        }
        AuthState { session }
    });
    let auth = Auth {
        state: state.clone(),
        toasts: use_toasts(),
    };

    // Renew on time, or leave on time: a timer per session, replaced when it changes.
    {
        let auth = auth.clone();
        use_effect_with(state.session.clone(), move |session| {
            let now = time::now_ms();
            let timer = session.clone().map(|session| {
                if session.renews() {
                    let delay = session.millis_until_refresh(now);
                    Timeout::new(delay, move || spawn_local(auth.keep_fresh(session)))
                } else {
                    let delay = session.millis_left(now);
                    Timeout::new(delay, move || auth.end(&session, EndReason::Expired))
                }
            });
            move || drop(timer)
        });
    }

    // Another tab signing in or out, or renewing, writes localStorage, which fires
    // `storage` here.
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

    fn token(iat: Option<i64>, exp: i64, jti: &str) -> String {
        let iat = iat
            .map(|iat| format!(r#""iat":{iat},"#))
            .unwrap_or_default();
        let payload =
            URL_SAFE_NO_PAD.encode(format!(r#"{{"sub":"7",{iat}"exp":{exp},"jti":"{jti}"}}"#));
        format!("eyJhbGciOiJIUzI1NiJ9.{payload}.c2ln")
    }

    fn session(exp: i64, jti: &str) -> Session {
        Session::new(&token(None, exp, jti), None, 0).expect("readable token")
    }

    fn renewable(iat: i64, exp: i64) -> Session {
        Session::new(&token(Some(iat), exp, "r"), Some("sid.secret"), 0).expect("readable")
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
        assert_eq!(s.user(), "7");
    }

    #[test]
    fn a_token_without_exp_makes_no_session() {
        assert!(Session::new("not.a.jwt", Some("x.y"), 0).is_none());
    }

    #[test]
    fn renewal_is_due_30_seconds_before_expiry_or_at_80_percent_of_a_short_lifetime() {
        let ten_minutes = renewable(1_000, 1_600);
        assert_eq!(ten_minutes.millis_until_refresh(1_000_000.0), 570_000);
        let three_seconds = renewable(1_000, 1_003);
        assert_eq!(three_seconds.millis_until_refresh(1_000_000.0), 2_400);
        assert!(
            three_seconds.millis_until_refresh(1_000_000.0)
                < three_seconds.millis_left(1_000_000.0),
            "renewed before it expires"
        );
        assert_eq!(
            three_seconds.millis_until_refresh(1_002_500.0),
            0,
            "overdue"
        );
        // Without `iat`: 80 % of what is left.
        let unknown = Session::new(&token(None, 1_010, "u"), Some("x.y"), 0).expect("readable");
        assert_eq!(unknown.millis_until_refresh(1_000_000.0), 8_000);
    }

    fn response(iat: i64, exp: i64, refresh: Option<&str>) -> TokenResponse {
        TokenResponse {
            access_token: token(Some(iat), exp, "t"),
            token_type: "Bearer".into(),
            expires_in: exp - iat,
            refresh_token: refresh.map(str::to_owned),
        }
    }

    #[test]
    fn a_browser_clock_ahead_of_the_servers_does_not_end_or_renew_early() {
        // Issued at server time 1000.5; this browser's clock says 1060.5.
        let s = Session::from_response(&response(1_000, 1_600, Some("a.b")), 1_060_500.0)
            .expect("readable");
        assert!(!s.is_expired_at(1_060_500.0));
        assert!(s.is_expired_at(1_660_000.0));
        assert_eq!(s.expires_at(), 1_659);
        // 30 s before expiry by the server's clock, erring by at most a second early.
        assert_eq!(s.millis_until_refresh(1_060_500.0), 569_000);
        let behind =
            Session::from_response(&response(1_000, 1_003, None), 940_500.0).expect("readable");
        assert!(!behind.renews());
        assert_eq!(
            behind.millis_left(940_500.0),
            2_000,
            "a second early at most"
        );
    }

    #[test]
    fn the_stored_form_keeps_the_old_shape_and_adds_the_refresh_token() {
        let plain = session(1_000, "a");
        let json = serde_json::to_value(plain.stored()).expect("serialises");
        assert_eq!(
            json,
            serde_json::json!({ "access_token": plain.access_token() })
        );
        let full = Session::from_response(&response(1_000, 1_600, Some("a.b")), 1_003_000.0)
            .expect("readable");
        let json = serde_json::to_value(full.stored()).expect("serialises");
        assert_eq!(json["refresh_token"], "a.b");
        assert_eq!(json["clock_skew_ms"], 2_000);
        let back: Stored = serde_json::from_value(json).expect("deserialises");
        let back = Session::new(
            &back.access_token,
            back.refresh_token.as_deref(),
            back.clock_skew_ms,
        );
        assert_eq!(back, Some(full));
    }

    #[test]
    fn debug_hides_the_tokens() {
        let s = Session::new(
            &token(None, 1_000, "secret-jti"),
            Some("sid.refresh-secret"),
            0,
        )
        .expect("readable");
        let shown = format!("{s:?}");
        assert!(!shown.contains(s.access_token()), "{shown}");
        assert!(!shown.contains("refresh-secret"), "{shown}");
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
    fn renewal_applies_only_to_the_session_it_renews() {
        let first = renewable(1_000, 1_600);
        let renewed = renewable(1_500, 2_100);
        let state = Rc::new(AuthState::default()).reduce(AuthAction::SignedIn(first.clone()));
        let state = state.reduce(AuthAction::Renewed {
            old: first.access_token.clone(),
            new: renewed.clone(),
        });
        assert_eq!(state.session.as_ref(), Some(&renewed));
        // Signed out while the renewal ran: it must not sign the user back in.
        let state = state
            .reduce(AuthAction::SignedOut)
            .reduce(AuthAction::Renewed {
                old: renewed.access_token.clone(),
                new: renewable(1_900, 2_500),
            });
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
