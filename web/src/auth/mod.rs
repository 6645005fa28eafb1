//! Who is signed in: the session, how it is renewed, how tabs follow each other, and when
//! it ends.
//!
//! One [`AuthProvider`] holds the session for the whole app; [`use_auth`] gives pages
//! `login` and `logout`. The access token is kept in memory only, never in localStorage,
//! sessionStorage or a cookie a script can read; the refresh token never reaches
//! JavaScript at all: the server sets it as an HttpOnly cookie for
//! `/api/v1/tokens/refresh`. So on load the app asks that path for the session
//! (`POST` with `{}`: 200 signed in, 401 signed out), and renews the same way shortly
//! before the access token expires ([`Session::millis_until_refresh`]).
//!
//! Each tab holds its own access token and renews it by itself. Tabs that renew at the same
//! moment present the same cookie; the server answers all of them with the session's
//! current pair (its reuse interval), so no tab waits for another. Tabs tell each other
//! of a sign-in or sign-out on a `BroadcastChannel` (nothing secret travels): the others
//! ask the cookie for their own token, or forget theirs.
//!
//! A refused renewal (401) ends the session; an unreachable server keeps it and renewal is
//! tried again later. A sign-out the server did not hear of leaves a non-secret mark in
//! localStorage, and the next load finishes it before anything else: the cookie would
//! otherwise sign the user back in.

mod provider;
mod refresh;
mod schedule;
mod session;
mod sign_out;
mod state;
mod tabs;

#[cfg(test)]
mod fixtures;

pub use provider::{Auth, AuthProvider, use_auth};
pub use session::Session;
pub use sign_out::EndReason;
