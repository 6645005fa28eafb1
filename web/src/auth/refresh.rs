//! Renewing through the refresh cookie: the signed-in session's access token before it
//! expires ([`Auth::refresh`]), and whatever session the cookie holds when the app starts
//! or another tab signs in ([`Auth::resume`]).

use super::state::AuthAction;
use super::{Auth, EndReason, Session};
use crate::api::{self, ApiError};
use crate::time;

impl Auth {
    /// Renews `held`'s access token; answers the session in force afterwards. A refused
    /// renewal ends the session.
    pub(super) async fn refresh(&self, held: &Session) -> Result<Option<Session>, ApiError> {
        let answer = match api::refresh().await {
            Ok(answer) => answer,
            Err(error) => {
                // 401: the session has ended on the server (signed out elsewhere, at its
                // end, or its cookie is gone). Else: try again later.
                if error.status() == Some(401) {
                    self.end(held, EndReason::Expired);
                }
                return Err(error);
            }
        };
        let Some(renewed) = Session::from_response(&answer, time::now_ms()) else {
            self.end(held, EndReason::Rejected);
            return Err(ApiError::Unexpected(
                "the access token has no readable expiry".into(),
            ));
        };
        self.state.dispatch(AuthAction::Renewed {
            old: held.access_token.clone(),
            new: renewed,
        });
        Ok(self.session())
    }

    /// Takes whatever the cookie holds: a session (200) or none (401). Any other outcome
    /// (the server unreachable or failing) changes nothing and is the error.
    pub(super) async fn resume(&self) -> Result<(), ApiError> {
        let epoch = self.state.epoch;
        let session = match api::refresh().await {
            Ok(answer) => Session::from_response(&answer, time::now_ms()),
            Err(error) if error.status() == Some(401) => None,
            Err(error) => return Err(error),
        };
        self.state.dispatch(AuthAction::Resumed { epoch, session });
        Ok(())
    }
}
