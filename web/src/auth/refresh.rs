//! Exchanging a refresh token for new tokens, once across all tabs: under one lock, after
//! looking whether another tab has done it already, and leaving a mark on each refresh
//! token spent so that no tab presents it again.

use gloo_timers::future::TimeoutFuture;

use super::state::AuthAction;
use super::{Auth, EndReason, Session, storage};
use crate::api::{self, ApiError};
use crate::lock;
use crate::time;

/// The name of the lock every renewal runs under, in all tabs.
const REFRESH_LOCK: &str = "tessera.refresh";
/// How long a tab that used a refresh token keeps the mark saying so: far longer than
/// localStorage takes to reach the other tabs.
const SPENT_MARK_MS: u32 = 30_000;
/// How long a tab waits for another tab's renewal to show in its localStorage, and how
/// often it looks.
const RENEWAL_ELSEWHERE_WAIT_MS: u32 = 5_000;
const STORAGE_POLL_MS: u32 = 20;

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

impl Auth {
    /// Exchanges `held`'s refresh token for new tokens, once across all tabs; answers the
    /// session in force afterwards. A refused refresh token ends the session.
    pub(super) async fn refresh(&self, held: &Session) -> Result<Option<Session>, ApiError> {
        let Some(refresh_token) = held.refresh_token.clone() else {
            return Ok(Some(held.clone()));
        };
        lock::exclusive(REFRESH_LOCK, async {
            // While this task waited for the lock, another tab or task may have renewed
            // the session (its refresh token is then used up) or ended it.
            if storage::read().and_then(|s| s.refresh_token) != Some(refresh_token.clone()) {
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
            if storage::read().and_then(|s| s.refresh_token) != Some(refresh_token) {
                return Ok(self.session());
            }
            // Stored before the lock is released, so the next holder finds it (once it
            // has reached that holder's tab: see the mark above).
            storage::save(Some(&renewed));
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
        while storage::read().and_then(|s| s.refresh_token).as_deref() == Some(spent)
            && time::now_ms() < deadline
        {
            TimeoutFuture::new(STORAGE_POLL_MS).await;
        }
        self.follow_storage();
        self.session()
    }
}
