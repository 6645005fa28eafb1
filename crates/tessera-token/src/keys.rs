//! Secrets, keys and the key set that signs and verifies HS256 tokens.

use std::fmt;

use chrono::{DateTime, Utc};
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use crate::compact::{self, MAX_TOKEN_LEN};
use crate::strict_json::{self, JoseHeader, Member};
use crate::{Claims, Error, ErrorKind};

/// The only algorithm issued or accepted by [`KeySet`].
const ALGORITHM: &str = "HS256";

/// Secret key bytes. `Debug` never shows them, and they are overwritten with
/// zeros when dropped (best effort: copies made elsewhere are not reached).
///
/// The crate sets no minimum length; the service refuses secrets under 32 bytes
/// at startup, but legacy secrets are often short strings.
///
/// ```
/// use tessera_token::Secret;
///
/// let secret = Secret::new("correct horse battery staple");
/// assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
/// ```
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps secret bytes (a `&str`, `String`, `&[u8]` or `Vec<u8>`).
    ///
    /// ```
    /// use tessera_token::Secret;
    ///
    /// let from_text = Secret::new("s3cr3t");
    /// let from_bytes = Secret::new(vec![0x73, 0x33, 0x63, 0x72, 0x33, 0x74]);
    /// assert_eq!(from_text.expose(), from_bytes.expose());
    /// ```
    pub fn new(bytes: impl Into<Vec<u8>>) -> Secret {
        Secret(bytes.into())
    }

    /// The secret bytes. Named so that every use stands out in review.
    ///
    /// ```
    /// use tessera_token::Secret;
    ///
    /// assert_eq!(Secret::new("abc").expose(), b"abc");
    /// ```
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.iter_mut().for_each(|byte| *byte = 0);
        // Keeps the optimiser from dropping the writes as dead stores.
        std::hint::black_box(&self.0);
    }
}

/// A secret with the id (`kid`) that names it in token headers.
///
/// ```
/// use tessera_token::{Key, Secret};
///
/// let key = Key::new("2024-06", Secret::new("a secret of thirty-two bytes...."));
/// assert_eq!(key.id(), "2024-06");
/// assert!(!format!("{key:?}").contains("thirty-two"));
/// ```
#[derive(Clone)]
pub struct Key {
    id: String,
    secret: Secret,
    /// HMAC-SHA256 already keyed with `secret` (the inner and outer pads hashed), so
    /// each MAC starts from a copy instead of redoing that work. `None` only if the
    /// hmac crate ever refused a key, which it does not for HMAC.
    keyed: Option<Hmac<Sha256>>,
    /// The encoded header of the tokens this key signs. A token whose header segment
    /// is exactly these bytes needs no decoding or parsing: parsing is a function of
    /// the bytes, and these parse to `alg` HS256, this `kid` and no `crit`.
    issued_header: Option<String>,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The keyed state is as good as the secret: never shown.
        f.debug_struct("Key")
            .field("id", &self.id)
            .field("secret", &self.secret)
            .finish()
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        // Best effort, like `Secret`: overwrite the keyed state in place.
        if let Some(keyed) = &mut self.keyed {
            *keyed = <Hmac<Sha256> as KeyInit>::new(&Default::default());
        }
        std::hint::black_box(&self.keyed);
    }
}

impl Key {
    /// Names `secret` with the key id `id`.
    ///
    /// ```
    /// use tessera_token::{Key, Secret};
    ///
    /// let key = Key::new("primary", Secret::new("a secret of thirty-two bytes...."));
    /// assert_eq!(key.id(), "primary");
    /// ```
    pub fn new(id: impl Into<String>, secret: Secret) -> Key {
        let id = id.into();
        let keyed = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.expose()).ok();
        let header = Header {
            alg: ALGORITHM,
            typ: "JWT",
            kid: &id,
        };
        let issued_header = serde_json::to_vec(&header)
            .ok()
            .map(|json| compact::encode_segment(&json));
        Key {
            id,
            secret,
            keyed,
            issued_header,
        }
    }

    /// The key id, written as `kid` in the headers of tokens this key signs.
    ///
    /// ```
    /// use tessera_token::{Key, Secret};
    ///
    /// assert_eq!(Key::new("k1", Secret::new("s")).id(), "k1");
    /// ```
    pub fn id(&self) -> &str {
        &self.id
    }

    fn mac(&self) -> Result<Hmac<Sha256>, Error> {
        // HMAC takes keys of any length; mapped rather than unwrapped to stay panic-free.
        self.keyed
            .clone()
            .ok_or(Error::new(ErrorKind::BadSignature, "HMAC refused the key"))
    }

    /// Whether `tag` is this key's MAC of `message`, compared in constant time.
    fn signed(&self, message: &[u8], tag: &[u8]) -> bool {
        match self.mac() {
            Ok(mut mac) => {
                Mac::update(&mut mac, message);
                mac.verify_slice(tag).is_ok()
            }
            Err(_) => false,
        }
    }
}

/// The keys of a service: one that signs, any number that only verify.
///
/// Rotation: start signing with a new key and keep the old one as a
/// verification key until every token it signed has expired, then drop it.
///
/// Verification rules:
/// - the header must be a JSON object with `alg` exactly `"HS256"`; anything
///   else (including `none` or a missing `alg`) is [`ErrorKind::UnsupportedAlgorithm`];
/// - a `kid` selects the keys with that id, or fails with [`ErrorKind::UnknownKey`];
///   a token **without** `kid` is tried against every key, signing key first, so
///   tokens from tools that omit `kid` keep working across a rotation;
/// - the HMAC is checked, in constant time, over the bytes exactly as received,
///   before any claim is read;
/// - a header with `crit` is [`Malformed`](ErrorKind::Malformed), whatever its value
///   (RFC 7515 §4.1.11: no extension is understood);
/// - `exp` is required: the token is [`Expired`](ErrorKind::Expired) from the
///   second `exp` on, and [`NotYetValid`](ErrorKind::NotYetValid) before `nbf` and
///   before `iat` (a token is never issued in the future), all widened by the
///   leeway (0 unless set with [`KeySet::with_leeway`]);
/// - structure, encoding and claim types are strict: see [`ErrorKind::Malformed`].
///
/// ```
/// use chrono::{Duration, Utc};
/// use tessera_token::{Claims, ErrorKind, Key, KeySet, Secret};
///
/// let old = Key::new("2024-01", Secret::new("the old secret, thirty-two bytes"));
/// let new = Key::new("2024-06", Secret::new("the new secret, thirty-two bytes"));
/// let now = Utc::now();
/// let claims = Claims::new("42", "jti-1", now, Duration::minutes(15));
/// let old_token = KeySet::new(old.clone()).sign(&claims)?;
///
/// let rotating = KeySet::new(new.clone()).with_verification_key(old);
/// assert_eq!(rotating.verify(&old_token, now)?, claims);
///
/// let rotated = KeySet::new(new);
/// assert_eq!(rotated.verify(&old_token, now).unwrap_err().kind(), ErrorKind::UnknownKey);
/// # Ok::<(), tessera_token::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct KeySet {
    signing: Key,
    verification: Vec<Key>,
    leeway_seconds: i64,
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    typ: &'static str,
    kid: &'a str,
}

impl KeySet {
    /// A key set that signs, and verifies, with `signing_key`.
    ///
    /// ```
    /// use tessera_token::{Key, KeySet, Secret};
    ///
    /// let keys = KeySet::new(Key::new("k1", Secret::new("a secret of thirty-two bytes....")));
    /// assert_eq!(keys.signing_key_id(), "k1");
    /// ```
    pub fn new(signing_key: Key) -> KeySet {
        KeySet {
            signing: signing_key,
            verification: Vec::new(),
            leeway_seconds: 0,
        }
    }

    /// Adds a key that verifies tokens but never signs: the previous key during
    /// a rotation. Keys sharing an id are all tried for that `kid`.
    ///
    /// ```
    /// use chrono::{Duration, Utc};
    /// use tessera_token::{Claims, Key, KeySet, Secret};
    ///
    /// let old = Key::new("old", Secret::new("the old secret, thirty-two bytes"));
    /// let token = KeySet::new(old.clone())
    ///     .sign(&Claims::new("42", "jti-1", Utc::now(), Duration::minutes(15)))?;
    ///
    /// let keys = KeySet::new(Key::new("new", Secret::new("the new secret, thirty-two bytes")))
    ///     .with_verification_key(old);
    /// assert!(keys.verify(&token, Utc::now()).is_ok());
    /// # Ok::<(), tessera_token::Error>(())
    /// ```
    pub fn with_verification_key(mut self, key: Key) -> KeySet {
        self.verification.push(key);
        self
    }

    /// Tolerates clocks that differ by up to `seconds`: `exp` is honoured that
    /// much later, `nbf` and `iat` that much earlier. The default is 0.
    ///
    /// ```
    /// use chrono::{Duration, TimeZone, Utc};
    /// use tessera_token::{Claims, Key, KeySet, Secret};
    ///
    /// let keys = KeySet::new(Key::new("k1", Secret::new("a secret of thirty-two bytes....")));
    /// let issued = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let token = keys.sign(&Claims::new("42", "jti-1", issued, Duration::minutes(15)))?;
    /// let just_after_expiry = issued + Duration::minutes(15) + Duration::seconds(10);
    ///
    /// assert!(keys.verify(&token, just_after_expiry).is_err());
    /// assert!(keys.with_leeway(30).verify(&token, just_after_expiry).is_ok());
    /// # Ok::<(), tessera_token::Error>(())
    /// ```
    pub fn with_leeway(mut self, seconds: u32) -> KeySet {
        self.leeway_seconds = i64::from(seconds);
        self
    }

    /// The id of the key that signs.
    ///
    /// ```
    /// use tessera_token::{Key, KeySet, Secret};
    ///
    /// let keys = KeySet::new(Key::new("new", Secret::new("n")))
    ///     .with_verification_key(Key::new("old", Secret::new("o")));
    /// assert_eq!(keys.signing_key_id(), "new");
    /// ```
    pub fn signing_key_id(&self) -> &str {
        self.signing.id()
    }

    /// Signs `claims` with the signing key, as a compact JWS with header
    /// `{"alg":"HS256","typ":"JWT","kid":"<signing key id>"}`.
    ///
    /// Fails with [`ErrorKind::Malformed`] for claims that [`KeySet::verify`]
    /// would refuse whatever the time: a date outside the representable range,
    /// an `extra` key repeating a named claim, or a token over [`MAX_TOKEN_LEN`].
    ///
    /// ```
    /// use chrono::{Duration, Utc};
    /// use tessera_token::{Claims, Key, KeySet, Secret};
    ///
    /// let keys = KeySet::new(Key::new("k1", Secret::new("a secret of thirty-two bytes....")));
    /// let token = keys.sign(&Claims::new("42", "jti-1", Utc::now(), Duration::minutes(15)))?;
    /// // base64url of {"alg":"HS256","typ":"JWT","kid":"k1"}
    /// assert!(token.starts_with("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImsxIn0."));
    /// # Ok::<(), tessera_token::Error>(())
    /// ```
    pub fn sign(&self, claims: &Claims) -> Result<String, Error> {
        claims.check_signable()?;
        let header = self
            .signing
            .issued_header
            .as_deref()
            .ok_or(Error::malformed("header cannot be serialised"))?;
        let claims_json = serde_json::to_vec(claims)
            .map_err(|_| Error::malformed("claims cannot be serialised"))?;

        let mut token = String::with_capacity(header.len() + claims_json.len() * 4 / 3 + 48);
        token.push_str(header);
        token.push('.');
        token.push_str(&compact::encode_segment(&claims_json));
        let mut mac = self.signing.mac()?;
        Mac::update(&mut mac, token.as_bytes());
        let tag = mac.finalize().into_bytes();
        token.push('.');
        token.push_str(&compact::encode_segment(&tag));

        if token.len() > MAX_TOKEN_LEN {
            return Err(Error::malformed("token longer than MAX_TOKEN_LEN"));
        }
        Ok(token)
    }

    /// Verifies `token` at time `now` and returns its claims, following the
    /// rules listed on [`KeySet`].
    ///
    /// ```
    /// use chrono::{Duration, TimeZone, Utc};
    /// use tessera_token::{Claims, ErrorKind, Key, KeySet, Secret};
    ///
    /// let keys = KeySet::new(Key::new("k1", Secret::new("a secret of thirty-two bytes....")));
    /// let issued = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let token = keys.sign(&Claims::new("42", "jti-1", issued, Duration::minutes(15)))?;
    ///
    /// assert_eq!(keys.verify(&token, issued + Duration::minutes(1))?.sub, "42");
    /// let err = keys.verify(&token, issued + Duration::minutes(15)).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Expired);
    /// # Ok::<(), tessera_token::Error>(())
    /// ```
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, Error> {
        let segments = compact::split(token)?;
        // Typical segments decode into these stack buffers; longer ones spill to the heap.
        let (mut header_buffer, mut header_spill) = ([0u8; 192], Vec::new());
        let (mut payload_buffer, mut payload_spill) = ([0u8; 512], Vec::new());
        let (mut signature_buffer, mut signature_spill) = ([0u8; 48], Vec::new());

        let header = match self.issuer_of_header(segments.header) {
            Some(key) => JoseHeader {
                alg: Member::Text(ALGORITHM.into()),
                kid: Member::Text(key.id().into()),
                crit: false,
            },
            None => strict_json::parse_header(compact::decode_into(
                segments.header,
                &mut header_buffer,
                &mut header_spill,
            )?)?,
        };
        let payload =
            compact::decode_into(segments.payload, &mut payload_buffer, &mut payload_spill)?;

        match &header.alg {
            Member::Text(alg) if alg == ALGORITHM => {}
            _ => {
                return Err(Error::new(
                    ErrorKind::UnsupportedAlgorithm,
                    "only HS256 is accepted",
                ));
            }
        }
        // RFC 7515 §4.1.11: extensions we do not implement must not be ignored.
        if header.crit {
            return Err(Error::malformed(
                "critical header extensions are not supported",
            ));
        }
        let kid = match &header.kid {
            Member::Absent => None,
            Member::Text(kid) => Some(kid.as_ref()),
            Member::Other => return Err(Error::malformed("kid is not a string")),
        };
        if segments.signature.is_empty() {
            return Err(Error::malformed("empty signature segment"));
        }
        let signature = compact::decode_into(
            segments.signature,
            &mut signature_buffer,
            &mut signature_spill,
        )?;

        let mut candidates = self
            .keys()
            .filter(|key| kid.is_none_or(|kid| key.id() == kid))
            .peekable();
        if candidates.peek().is_none() {
            return Err(Error::new(ErrorKind::UnknownKey, "no key has this kid"));
        }
        let signed_by_candidate =
            candidates.any(|key| key.signed(segments.signing_input.as_bytes(), signature));
        if !signed_by_candidate {
            return Err(Error::new(
                ErrorKind::BadSignature,
                "signature does not match",
            ));
        }

        let claims = Claims::from_json(payload)?;
        let now = now.timestamp();
        if now >= claims.exp.saturating_add(self.leeway_seconds) {
            return Err(Error::new(ErrorKind::Expired, "exp is not in the future"));
        }
        if let Some(nbf) = claims.nbf {
            if now < nbf.saturating_sub(self.leeway_seconds) {
                return Err(Error::new(ErrorKind::NotYetValid, "nbf is in the future"));
            }
        }
        // A token cannot have been issued later than now: a future `iat` would outlive
        // checks such as "issued after the last password change".
        if now < claims.iat.saturating_sub(self.leeway_seconds) {
            return Err(Error::new(ErrorKind::NotYetValid, "iat is in the future"));
        }
        Ok(claims)
    }

    /// The key whose issued header segment is exactly `header`, if any.
    fn issuer_of_header(&self, header: &str) -> Option<&Key> {
        self.keys()
            .find(|key| key.issued_header.as_deref() == Some(header))
    }

    fn keys(&self) -> impl Iterator<Item = &Key> {
        std::iter::once(&self.signing).chain(&self.verification)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shortcut in `verify` stands for parsing the issued header: it must give
    /// exactly what the parser gives for those bytes, whatever the key id.
    #[test]
    fn issued_headers_parse_to_what_the_shortcut_assumes() {
        for id in [
            "k1",
            "",
            "a \"quoted\" kid",
            "zoë 🦀",
            "\u{0}",
            "../..",
            "\\u0041",
        ] {
            let key = Key::new(id, Secret::new("s"));
            let encoded = key.issued_header.as_deref().unwrap();
            let bytes = compact::decode_segment(encoded).unwrap();
            let parsed = strict_json::parse_header(&bytes).unwrap();
            assert_eq!(parsed.alg, Member::Text(ALGORITHM.into()), "{id:?}");
            assert_eq!(parsed.kid, Member::Text(id.into()), "{id:?}");
            assert!(!parsed.crit, "{id:?}");
        }
    }

    #[test]
    fn the_shortcut_picks_the_key_whose_header_it_is_and_no_other() {
        let new = Key::new("new", Secret::new("the new secret, thirty-two bytes"));
        let old = Key::new("old", Secret::new("the old secret, thirty-two bytes"));
        let old_header = old.issued_header.clone().unwrap();
        let keys = KeySet::new(new).with_verification_key(old);
        assert_eq!(keys.issuer_of_header(&old_header).unwrap().id(), "old");
        // The same JSON spelled differently is parsed, not matched.
        let respelled = compact::encode_segment(br#"{"alg":"HS256", "typ":"JWT","kid":"old"}"#);
        assert!(keys.issuer_of_header(&respelled).is_none());
    }

    #[test]
    fn precomputed_mac_state_is_the_keyed_hmac() {
        let key = Key::new("k", Secret::new("a secret of thirty-two bytes...."));
        let mut fresh = <Hmac<Sha256> as KeyInit>::new_from_slice(key.secret.expose()).unwrap();
        Mac::update(&mut fresh, b"message");
        let tag = fresh.finalize().into_bytes();
        assert!(key.signed(b"message", &tag));
        assert!(!key.signed(b"messagf", &tag));
        assert!(!key.signed(b"message", &tag[..31]));
    }
}
