//! A signed-in user's access token and its timing: when it expires, when it is due for
//! renewal, and how far this browser's clock is off the server's.

use std::fmt;
use std::rc::Rc;

use tessera_api::TokenResponse;

use crate::token;

/// Longest wait before renewing: 30 seconds before expiry, or at 80 % of the token's
/// lifetime when that is later (short lifetimes).
const REFRESH_MARGIN_MAX_MS: f64 = 30_000.0;

/// A signed-in user's access token (the refresh token is the server's HttpOnly cookie).
#[derive(Clone, PartialEq, Eq)]
pub struct Session {
    pub(super) access_token: Rc<str>,
    user: Option<Rc<str>>,
    issued_at: Option<i64>,
    expires_at: i64,
    /// How far this browser's clock runs ahead of the server's, in milliseconds, as
    /// estimated when the token arrived: `exp` and `iat` are server times.
    clock_skew_ms: i64,
}

impl Session {
    /// A session for `access_token`, or `None` if its expiry cannot be read.
    pub(super) fn new(access_token: &str, clock_skew_ms: i64) -> Option<Session> {
        let claims = token::claims(access_token)?;
        Some(Session {
            access_token: access_token.into(),
            user: claims.sub.map(Rc::from),
            issued_at: claims.iat,
            expires_at: claims.exp,
            clock_skew_ms,
        })
    }

    /// The session a token response starts, received at `now_ms` (Unix milliseconds). A
    /// refresh token in the body, which a cookie sign-in does not get, is not kept.
    pub fn from_response(answer: &TokenResponse, now_ms: f64) -> Option<Session> {
        let claims = token::claims(&answer.access_token)?;
        // `iat` is whole seconds, so the token was issued in the second after it: taking
        // the end of that second errs towards acting early, never late.
        let skew = claims
            .iat
            .map_or(0, |iat| (now_ms - (iat as f64 + 1.0) * 1000.0) as i64);
        Session::new(&answer.access_token, skew)
    }

    /// The bearer token to send.
    pub fn access_token(&self) -> &str {
        &self.access_token
    }

    /// Who the session belongs to (the token's `sub`), else something as particular.
    pub fn user(&self) -> &str {
        self.user.as_deref().unwrap_or(&self.access_token)
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
    pub(super) fn millis_left(&self, now_ms: f64) -> u32 {
        timeout(self.expires_at as f64 * 1000.0 - self.server_time(now_ms))
    }

    /// Milliseconds from `now_ms` until the session is due for renewal: 30 seconds before
    /// the access token expires, or at 80 % of its lifetime if that is later.
    pub(super) fn millis_until_refresh(&self, now_ms: f64) -> u32 {
        let now = self.server_time(now_ms);
        let expiry = self.expires_at as f64 * 1000.0;
        // Without `iat`, the lifetime left stands in for the whole.
        let issued = self.issued_at.map_or(now, |iat| iat as f64 * 1000.0);
        let margin = ((expiry - issued) / 5.0).clamp(0.0, REFRESH_MARGIN_MAX_MS);
        timeout(expiry - margin - now)
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
            .field("user", &self.user)
            .field("expires_at", &self.expires_at)
            .field("clock_skew_ms", &self.clock_skew_ms)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{response, session, token};
    use super::*;

    #[test]
    fn a_session_knows_when_it_ends() {
        let s = session(None, 1_000, "a");
        assert!(!s.is_expired_at(999_999.0));
        assert!(s.is_expired_at(1_000_000.0));
        assert_eq!(s.millis_left(990_000.0), 10_000);
        assert_eq!(s.millis_left(2_000_000.0), 0, "already over: fire at once");
        let far = session(None, i64::from(i32::MAX) * 1000, "b");
        assert_eq!(far.millis_left(0.0), i32::MAX as u32, "setTimeout's limit");
        assert_eq!(s.user(), "7");
    }

    #[test]
    fn a_token_without_exp_makes_no_session() {
        assert!(Session::new("not.a.jwt", 0).is_none());
    }

    #[test]
    fn renewal_is_due_30_seconds_before_expiry_or_at_80_percent_of_a_short_lifetime() {
        let ten_minutes = session(Some(1_000), 1_600, "t");
        assert_eq!(ten_minutes.millis_until_refresh(1_000_000.0), 570_000);
        let three_seconds = session(Some(1_000), 1_003, "t");
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
        let unknown = session(None, 1_010, "u");
        assert_eq!(unknown.millis_until_refresh(1_000_000.0), 8_000);
    }

    #[test]
    fn a_browser_clock_ahead_of_the_servers_does_not_end_or_renew_early() {
        // Issued at server time 1000.5; this browser's clock says 1060.5.
        let s = Session::from_response(&response(1_000, 1_600), 1_060_500.0).expect("readable");
        assert!(!s.is_expired_at(1_060_500.0));
        assert!(s.is_expired_at(1_660_000.0));
        // 30 s before expiry by the server's clock, erring by at most a second early.
        assert_eq!(s.millis_until_refresh(1_060_500.0), 569_000);
        let behind = Session::from_response(&response(1_000, 1_003), 940_500.0).expect("readable");
        assert_eq!(
            behind.millis_left(940_500.0),
            2_000,
            "a second early at most"
        );
    }

    #[test]
    fn a_refresh_token_in_the_body_is_not_kept() {
        let mut answer = response(1_000, 1_600);
        answer.refresh_token = Some("sid.refresh-secret".into());
        let s = Session::from_response(&answer, 1_000_000.0).expect("readable");
        assert!(!format!("{s:?}").contains("refresh-secret"));
        assert_eq!(
            s,
            Session::from_response(&response(1_000, 1_600), 1_000_000.0).expect("readable")
        );
    }

    #[test]
    fn debug_hides_the_token() {
        let s = Session::new(&token(None, 1_000, "secret-jti"), 0).expect("readable");
        let shown = format!("{s:?}");
        assert!(!shown.contains(s.access_token()), "{shown}");
        assert!(shown.contains("1000"));
    }
}
