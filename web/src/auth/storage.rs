//! The session's copy in localStorage, under [`STORAGE_KEY`]: a reload keeps the user
//! signed in, and every tab reads the same session.

use gloo_storage::{LocalStorage, Storage};
use serde::{Deserialize, Serialize};

use super::Session;

/// The localStorage key of the session.
const STORAGE_KEY: &str = "tessera.session";

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

impl Stored {
    fn of(session: &Session) -> Stored {
        Stored {
            access_token: session.access_token.to_string(),
            refresh_token: session.refresh_token.as_deref().map(str::to_owned),
            clock_skew_ms: session.clock_skew_ms,
        }
    }

    fn session(&self) -> Option<Session> {
        Session::new(
            &self.access_token,
            self.refresh_token.as_deref(),
            self.clock_skew_ms,
        )
    }
}

/// Whatever session is stored, usable or not.
pub(super) fn read() -> Option<Session> {
    LocalStorage::get::<Stored>(STORAGE_KEY).ok()?.session()
}

/// The stored session, if it is still usable: it can be renewed, or it has not expired.
pub(super) fn load(now_ms: f64) -> Option<Session> {
    read().filter(|s| s.renews() || !s.is_expired_at(now_ms))
}

/// Stores `session`, or removes the stored one.
pub(super) fn save(session: Option<&Session>) {
    match session {
        // Storage can be full or disabled (private windows): the user then stays signed
        // in until the page is closed, which is the best that can be done.
        Some(session) => {
            let _ = LocalStorage::set(STORAGE_KEY, Stored::of(session));
        }
        None => LocalStorage::delete(STORAGE_KEY),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{response, session};
    use super::*;

    #[test]
    fn the_stored_form_keeps_the_old_shape_and_adds_the_refresh_token() {
        let plain = session(1_000, "a");
        let json = serde_json::to_value(Stored::of(&plain)).expect("serialises");
        assert_eq!(
            json,
            serde_json::json!({ "access_token": plain.access_token() })
        );
        let full = Session::from_response(&response(1_000, 1_600, Some("a.b")), 1_003_000.0)
            .expect("readable");
        let json = serde_json::to_value(Stored::of(&full)).expect("serialises");
        assert_eq!(json["refresh_token"], "a.b");
        assert_eq!(json["clock_skew_ms"], 2_000);
        let back: Stored = serde_json::from_value(json).expect("deserialises");
        assert_eq!(back.session(), Some(full));
    }
}
