//! Keys derived from the configured secret for what sessions compute rather than store: the
//! successor of a refresh secret (so a secret presented again within the reuse interval can
//! be followed to the session's current one without keeping any secret in the store) and
//! the session cookie's MAC (so forward auth checks a cookie before any lookup).
//!
//! Each is HMAC-SHA256 under its own HKDF-SHA256 key. Every process of a deployment shares
//! the configured secret, so they all compute the same values.

use base64::Engine;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use tessera_token::Secret;

use crate::{Error, SessionId};

const SUCCESSOR_INFO: &[u8] = b"tessera refresh successor v1";
const COOKIE_INFO: &[u8] = b"tessera session cookie v1";

/// The two derived keys; never printed.
#[derive(Clone)]
pub struct SessionKeys {
    successor: [u8; 32],
    cookie: [u8; 32],
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKeys(<redacted>)")
    }
}

impl SessionKeys {
    /// The keys of `secret` (the configured signing secret that signs).
    pub fn derive(secret: &Secret) -> Result<SessionKeys, Error> {
        let expand = |info: &[u8]| {
            let mut key = [0u8; 32];
            Hkdf::<Sha256>::new(None, secret.expose())
                .expand(info, &mut key)
                .map_err(|_| Error::Internal("HKDF refused the output length".into()))?;
            Ok::<_, Error>(key)
        };
        Ok(SessionKeys {
            successor: expand(SUCCESSOR_INFO)?,
            cookie: expand(COOKIE_INFO)?,
        })
    }

    /// The refresh secret that replaces `secret` of session `id` when it is rotated.
    pub(crate) fn successor(&self, id: &SessionId, secret: &str) -> String {
        mac(
            &self.successor,
            &[id.0.as_bytes(), b"\0", secret.as_bytes()],
        )
    }

    /// The session cookie of session `id`: `<id>.<MAC of id>`.
    pub(crate) fn cookie(&self, id: &SessionId) -> String {
        format!("{}.{}", id.0, mac(&self.cookie, &[id.0.as_bytes()]))
    }

    /// The session a cookie names, when its MAC holds.
    pub(crate) fn session_of_cookie(&self, cookie: &str) -> Option<SessionId> {
        let (id, _) = cookie.split_once('.')?;
        let id = SessionId(id.to_owned());
        bool::from(self.cookie(&id).as_bytes().ct_eq(cookie.as_bytes())).then_some(id)
    }
}

fn mac(key: &[u8; 32], parts: &[&[u8]]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    for part in parts {
        mac.update(part);
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str) -> SessionKeys {
        SessionKeys::derive(&Secret::new(secret)).unwrap()
    }

    #[test]
    fn successors_depend_on_the_secret_the_session_and_the_key() {
        let a = keys("a secret of thirty-two bytes....");
        let id = SessionId("s1".into());
        let next = a.successor(&id, "old");
        assert_eq!(
            next,
            a.successor(&id, "old"),
            "every process computes the same"
        );
        assert_ne!(next, a.successor(&id, "other"));
        assert_ne!(next, a.successor(&SessionId("s2".into()), "old"));
        assert_ne!(
            next,
            keys("another secret, thirty-two bytes").successor(&id, "old")
        );
        assert_eq!(next.len(), 43, "256 bits, as a random refresh secret");
    }

    #[test]
    fn a_cookie_names_its_session_only_with_its_own_mac() {
        let a = keys("a secret of thirty-two bytes....");
        let id = SessionId("s1".into());
        let cookie = a.cookie(&id);
        assert_eq!(a.session_of_cookie(&cookie), Some(id.clone()));
        let forged = cookie.replacen("s1", "s2", 1);
        assert_eq!(a.session_of_cookie(&forged), None, "another session's id");
        assert_eq!(a.session_of_cookie("s1"), None);
        assert_eq!(a.session_of_cookie("s1."), None);
        let other = keys("another secret, thirty-two bytes");
        assert_eq!(
            other.session_of_cookie(&cookie),
            None,
            "another deployment's"
        );
        assert_ne!(
            a.cookie(&id).split_once('.').unwrap().1,
            a.successor(&id, ""),
            "the two keys differ"
        );
    }
}
