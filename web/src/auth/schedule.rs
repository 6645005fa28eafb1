//! When the session is renewed: by a timer shortly before its access token expires
//! (ended at expiry instead when it cannot be renewed), again later while the server
//! cannot be reached, and before a request that would go out with a token about to expire.

use gloo_timers::callback::Timeout;
use gloo_timers::future::TimeoutFuture;
use yew::platform::spawn_local;
use yew::prelude::*;

use super::{Auth, EndReason, Session};
use crate::api::ApiError;
use crate::time;

/// A request does not go out with an access token expiring sooner than this: it is
/// renewed first.
const FRESH_ENOUGH_MS: u32 = 1_000;
/// First and longest pause before trying a renewal again that failed without an answer.
const RETRY_FIRST_MS: u32 = 2_000;
const RETRY_MAX_MS: u32 = 60_000;

impl Auth {
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

/// Renews on time, or leaves on time: a timer per session, replaced when it changes.
#[hook]
pub(super) fn use_session_timer(auth: Auth) {
    let session = auth.session();
    use_effect_with(session, move |session| {
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
