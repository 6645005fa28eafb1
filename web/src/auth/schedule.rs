//! When the session is renewed or looked for: on load (again later while the server cannot
//! be reached), by a timer shortly before the access token expires, and before a request
//! that would go out with a token about to expire.

use gloo_timers::callback::Timeout;
use gloo_timers::future::TimeoutFuture;
use yew::platform::spawn_local;
use yew::prelude::*;

use super::sign_out::sign_out_pending;
use super::state::AuthAction;
use super::{Auth, Session};
use crate::api::ApiError;
use crate::time;

/// A request does not go out with an access token expiring sooner than this: it is
/// renewed first.
const FRESH_ENOUGH_MS: u32 = 1_000;
/// First and longest pause before trying again what failed without an answer.
const RETRY_FIRST_MS: u32 = 2_000;
const RETRY_MAX_MS: u32 = 60_000;

/// The pause after `pause`.
fn longer(pause: u32) -> u32 {
    pause.saturating_mul(2).min(RETRY_MAX_MS)
}

impl Auth {
    /// The session to send a request with now: renewed first if its access token is about
    /// to expire. `Ok(None)` when nobody is signed in (any more).
    pub async fn fresh_session(&self) -> Result<Option<Session>, ApiError> {
        match self.session() {
            Some(session) if session.millis_left(time::now_ms()) < FRESH_ENOUGH_MS => {
                self.refresh(&session).await
            }
            other => Ok(other),
        }
    }

    /// On load: finishes a sign-out the server has not heard of, else takes the cookie's
    /// session. While the server cannot be reached the user is shown signed out and this is
    /// tried again, until it answers or the user signs in (or out) meanwhile.
    pub(super) async fn restore(self) {
        let asked = self.state.epoch;
        if self.try_restore().await.is_ok() || self.state.epoch != asked {
            return;
        }
        self.state.dispatch(AuthAction::Resumed {
            epoch: asked,
            session: None,
        });
        self.toasts
            .error("The server cannot be reached. This page will keep trying.");
        let waiting = self.state.epoch;
        let mut pause = RETRY_FIRST_MS;
        loop {
            TimeoutFuture::new(pause).await;
            if self.state.epoch != waiting || self.try_restore().await.is_ok() {
                return;
            }
            pause = longer(pause);
        }
    }

    async fn try_restore(&self) -> Result<(), ApiError> {
        if sign_out_pending() {
            self.finish_sign_out().await
        } else {
            self.resume().await
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
            pause = longer(pause);
            if self.session().as_ref() != Some(&session) {
                return;
            }
        }
    }
}

/// Renews on time: a timer per session, replaced when it changes.
#[hook]
pub(super) fn use_session_timer(auth: Auth) {
    let session = auth.session();
    use_effect_with(session, move |session| {
        let timer = session.clone().map(|session| {
            let delay = session.millis_until_refresh(time::now_ms());
            Timeout::new(delay, move || spawn_local(auth.keep_fresh(session)))
        });
        move || drop(timer)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_a_minute() {
        let pauses: Vec<u32> = std::iter::successors(Some(RETRY_FIRST_MS), |&p| Some(longer(p)))
            .take(8)
            .collect();
        assert_eq!(
            pauses,
            [2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]
        );
    }
}
