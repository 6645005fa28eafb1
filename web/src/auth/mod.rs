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

mod provider;
mod refresh;
mod schedule;
mod session;
mod sign_out;
mod state;
mod storage;
mod tabs;

#[cfg(test)]
mod fixtures;

pub use provider::{Auth, AuthProvider, use_auth};
pub use session::Session;
pub use sign_out::EndReason;
