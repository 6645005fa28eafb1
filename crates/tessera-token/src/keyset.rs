//! The key set that signs and verifies tokens.

use chrono::{DateTime, Utc};

use crate::compact::{self, MAX_TOKEN_LEN};
use crate::keys::Imported;
use crate::strict_json::{self, JoseHeader, Member};
use crate::{Algorithm, Claims, Error, ErrorKind, Jwks, Key};

/// The keys of a service: at most one that signs, any number that only verify.
///
/// An issuer holds a signing key ([`KeySet::new`]); a resource server holds
/// public keys only ([`KeySet::verifying`], [`KeySet::from_jwks`]).
///
/// Rotation: start signing with a new key and keep the old one as a
/// verification key until every token it signed has expired, then drop it.
///
/// Verification rules:
/// - the header must be a JSON object whose `alg` is exactly `"HS256"`, `"EdDSA"`
///   or `"ES256"`; anything else (including `none` or a missing `alg`) is
///   [`ErrorKind::UnsupportedAlgorithm`];
/// - **the algorithm is bound to the key** (RFC 8725 §3.1): the header's `alg` only
///   selects keys that already have that algorithm, it never chooses how a key is
///   used. With a `kid`, the keys with that id are the candidates
///   ([`ErrorKind::UnknownKey`] if there are none), and a header `alg` other than
///   theirs is [`ErrorKind::UnsupportedAlgorithm`]. Without `kid`, the keys whose
///   algorithm is the header's `alg` are tried, signing key first, so tokens from
///   tools that omit `kid` keep working across a rotation
///   ([`ErrorKind::UnsupportedAlgorithm`] if no key has that algorithm). So an HS256
///   token is never checked against a public key, whatever bytes it was MACed with;
/// - the signature is checked over the bytes exactly as received, before any claim
///   is read: an HMAC in constant time, Ed25519 with `verify_strict`, and ES256 as
///   64 bytes `r ‖ s` (a DER signature is refused) — [`ErrorKind::BadSignature`];
/// - a header with `crit` is [`Malformed`](ErrorKind::Malformed), whatever its value
///   (RFC 7515 §4.1.11: no extension is understood);
/// - `exp` is required: the token is [`Expired`](ErrorKind::Expired) from the
///   second `exp` on, and [`NotYetValid`](ErrorKind::NotYetValid) before `nbf` and
///   before `iat` (a token is never issued in the future), all widened by the
///   leeway (0 unless set with [`KeySet::with_leeway`]);
/// - structure, encoding and claim types are strict: see [`ErrorKind::Malformed`].
///
/// `iss` and `aud` are read but not judged: which issuer and audience to accept
/// is the caller's decision (see [`Claims::has_audience`]).
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
    signing: Option<Key>,
    verification: Vec<Key>,
    leeway_seconds: i64,
}

impl KeySet {
    /// A key set that signs, and verifies, with `signing_key`.
    ///
    /// A key that cannot sign (a public key from [`Key::from_jwk`]) makes a key set
    /// that only verifies, as [`KeySet::verifying`] does.
    ///
    /// ```
    /// use tessera_token::{Key, KeySet, Secret};
    ///
    /// let keys = KeySet::new(Key::new("k1", Secret::new("a secret of thirty-two bytes....")));
    /// assert_eq!(keys.signing_key_id(), Some("k1"));
    /// ```
    pub fn new(signing_key: Key) -> KeySet {
        if signing_key.can_sign() {
            KeySet {
                signing: Some(signing_key),
                verification: Vec::new(),
                leeway_seconds: 0,
            }
        } else {
            KeySet::verifying([signing_key])
        }
    }

    /// A key set that only verifies, with `keys`: a resource server's. Its
    /// [`KeySet::sign`] fails with [`ErrorKind::InvalidKey`].
    ///
    /// ```
    /// use chrono::{Duration, Utc};
    /// use tessera_token::{Algorithm, Claims, ErrorKind, Key, KeySet};
    ///
    /// let issuer = KeySet::new(Key::generate(Algorithm::EdDSA)?);
    /// let token = issuer.sign(&Claims::new("42", "jti-1", Utc::now(), Duration::minutes(15)))?;
    ///
    /// let public = issuer.keys().filter_map(|key| key.public_jwk())
    ///     .map(|jwk| Key::from_jwk(&jwk))
    ///     .collect::<Result<Vec<Key>, _>>()?;
    /// let resource_server = KeySet::verifying(public);
    /// assert_eq!(resource_server.verify(&token, Utc::now())?.sub, "42");
    /// assert_eq!(resource_server.signing_key_id(), None);
    /// let claims = Claims::new("42", "jti-2", Utc::now(), Duration::minutes(15));
    /// assert_eq!(resource_server.sign(&claims).unwrap_err().kind(), ErrorKind::InvalidKey);
    /// # Ok::<(), tessera_token::Error>(())
    /// ```
    pub fn verifying(keys: impl IntoIterator<Item = Key>) -> KeySet {
        KeySet {
            signing: None,
            verification: keys.into_iter().collect(),
            leeway_seconds: 0,
        }
    }

    /// A verify-only key set from a JWK Set (see [`Key::from_jwk`] for each key).
    ///
    /// Members this crate has no use for are skipped, as RFC 7517 §5 asks: another
    /// `kty` (`RSA` …), another curve (`X25519`, `P-384` …), an unknown `alg`, or a
    /// `use` other than `"sig"`. A member that is wrong for a known `kty` fails the
    /// whole set with [`ErrorKind::InvalidKey`] (a missing `kid`, bad coordinates, an
    /// `alg` of another key type), as does any member holding a private key (`d`)
    /// or an `oct` key: a published set with secrets in it is a leak to fix, not a
    /// key to skip. A set with no usable key gives a key set that verifies nothing.
    ///
    /// ```
    /// use tessera_token::{Algorithm, Jwks, Key, KeySet};
    ///
    /// let issuer = KeySet::new(Key::generate(Algorithm::ES256)?);
    /// let mut jwks = issuer.jwks();
    /// jwks.keys.push(serde_json::from_str(r#"{"kty":"RSA","kid":"r1","n":"0vx7","e":"AQAB"}"#).unwrap());
    ///
    /// let keys = KeySet::from_jwks(&jwks)?;
    /// assert_eq!(keys.keys().count(), 1);
    /// assert_eq!(keys.keys().next().unwrap().id(), issuer.signing_key_id().unwrap());
    /// # Ok::<(), tessera_token::Error>(())
    /// ```
    pub fn from_jwks(jwks: &Jwks) -> Result<KeySet, Error> {
        let mut keys = Vec::with_capacity(jwks.keys.len());
        for jwk in &jwks.keys {
            if let Imported::Key(key) = Key::import(jwk)? {
                keys.push(*key);
            }
        }
        Ok(KeySet::verifying(keys))
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

    /// The id of the key that signs; `None` for a key set that only verifies.
    ///
    /// ```
    /// use tessera_token::{Key, KeySet, Secret};
    ///
    /// let keys = KeySet::new(Key::new("new", Secret::new("n")))
    ///     .with_verification_key(Key::new("old", Secret::new("o")));
    /// assert_eq!(keys.signing_key_id(), Some("new"));
    /// assert_eq!(KeySet::verifying([]).signing_key_id(), None);
    /// ```
    pub fn signing_key_id(&self) -> Option<&str> {
        self.signing.as_ref().map(Key::id)
    }

    /// The algorithm of the key that signs; `None` for a key set that only verifies.
    ///
    /// ```
    /// use tessera_token::{Algorithm, Key, KeySet};
    ///
    /// let keys = KeySet::new(Key::generate(Algorithm::EdDSA)?);
    /// assert_eq!(keys.signing_algorithm(), Some(Algorithm::EdDSA));
    /// # Ok::<(), tessera_token::Error>(())
    /// ```
    pub fn signing_algorithm(&self) -> Option<Algorithm> {
        self.signing.as_ref().map(Key::algorithm)
    }

    /// The public keys of every EdDSA and ES256 key of the set, signing and
    /// verification keys alike, as the JWK Set to publish. HS256 keys are never
    /// included; a key present twice is listed once.
    ///
    /// ```
    /// use tessera_token::{Algorithm, Key, KeySet, Secret};
    ///
    /// let keys = KeySet::new(Key::generate(Algorithm::EdDSA)?)
    ///     .with_verification_key(Key::generate(Algorithm::ES256)?)
    ///     .with_verification_key(Key::new("hmac", Secret::new("never published")));
    /// let jwks = keys.jwks();
    /// let algs: Vec<_> = jwks.keys.iter().map(|jwk| jwk.alg.as_deref().unwrap()).collect();
    /// assert_eq!(algs, ["EdDSA", "ES256"]);
    /// assert!(!serde_json::to_string(&jwks).unwrap().contains("never published"));
    /// # Ok::<(), tessera_token::Error>(())
    /// ```
    pub fn jwks(&self) -> Jwks {
        let mut keys = Vec::new();
        for jwk in self.keys().filter_map(Key::public_jwk) {
            if !keys.contains(&jwk) {
                keys.push(jwk);
            }
        }
        Jwks { keys }
    }

    /// Every key of the set, the signing key first.
    ///
    /// ```
    /// use tessera_token::{Key, KeySet, Secret};
    ///
    /// let keys = KeySet::new(Key::new("new", Secret::new("n")))
    ///     .with_verification_key(Key::new("old", Secret::new("o")));
    /// let ids: Vec<&str> = keys.keys().map(Key::id).collect();
    /// assert_eq!(ids, ["new", "old"]);
    /// ```
    pub fn keys(&self) -> impl Iterator<Item = &Key> {
        self.signing.iter().chain(&self.verification)
    }

    /// Signs `claims` with the signing key, as a compact JWS with header
    /// `{"alg":"<the key's algorithm>","typ":"JWT","kid":"<signing key id>"}`.
    ///
    /// Fails with [`ErrorKind::Malformed`] for claims that [`KeySet::verify`]
    /// would refuse whatever the time: a date outside the representable range,
    /// an `extra` key repeating a named claim, or a token over [`MAX_TOKEN_LEN`];
    /// and with [`ErrorKind::InvalidKey`] when the key set only verifies.
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
        let key = self.signing.as_ref().ok_or(Error::invalid_key(
            "this key set only verifies: it has no signing key",
        ))?;
        claims.check_signable()?;
        let header = key
            .issued_header
            .as_deref()
            .ok_or(Error::malformed("header cannot be serialised"))?;
        let claims_json = serde_json::to_vec(claims)
            .map_err(|_| Error::malformed("claims cannot be serialised"))?;

        let mut token = String::with_capacity(header.len() + claims_json.len() * 4 / 3 + 96);
        token.push_str(header);
        token.push('.');
        compact::append_segment(&claims_json, &mut token);
        let signing_input_len = token.len();
        let mut signature = String::with_capacity(88);
        key.sign_into(&token.as_bytes()[..signing_input_len], &mut signature)?;
        token.push('.');
        token.push_str(&signature);

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
        // 66 bytes: the decoder's room for a 64-byte signature (86 characters).
        let (mut signature_buffer, mut signature_spill) = ([0u8; 72], Vec::new());

        let header = match self.issuer_of_header(segments.header) {
            Some(key) => Header::IssuedBy(key),
            None => Header::Parsed(strict_json::parse_header(compact::decode_into(
                segments.header,
                &mut header_buffer,
                &mut header_spill,
            )?)?),
        };
        let payload =
            compact::decode_into(segments.payload, &mut payload_buffer, &mut payload_spill)?;

        let (alg, kid) = match &header {
            Header::IssuedBy(key) => (key.algorithm(), Some(key.id())),
            Header::Parsed(header) => {
                let alg = match &header.alg {
                    Member::Text(alg) => alg.parse::<Algorithm>().ok(),
                    _ => None,
                }
                .ok_or(Error::new(
                    ErrorKind::UnsupportedAlgorithm,
                    "only HS256, EdDSA and ES256 are accepted",
                ))?;
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
                (alg, kid)
            }
        };
        if segments.signature.is_empty() {
            return Err(Error::malformed("empty signature segment"));
        }
        let signature = compact::decode_into(
            segments.signature,
            &mut signature_buffer,
            &mut signature_spill,
        )?;

        // The algorithm is the key's: `alg` only narrows the candidates (RFC 8725 §3.1).
        let named = |key: &&Key| kid.is_none_or(|kid| key.id() == kid);
        if kid.is_some() && !self.keys().any(|key| named(&key)) {
            return Err(Error::new(ErrorKind::UnknownKey, "no key has this kid"));
        }
        let mut candidates = self
            .keys()
            .filter(named)
            .filter(|key| key.algorithm() == alg)
            .peekable();
        if candidates.peek().is_none() {
            return Err(Error::new(
                ErrorKind::UnsupportedAlgorithm,
                "no key for this kid has this alg",
            ));
        }
        let signed_by_candidate =
            candidates.any(|key| key.verifies(segments.signing_input.as_bytes(), signature));
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
}

/// A token's header: recognised as the one a key issues, or parsed.
enum Header<'k, 'b> {
    IssuedBy(&'k Key),
    Parsed(JoseHeader<'b>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Secret;

    fn keys_of_every_kind(id: &str) -> Vec<Key> {
        vec![
            Key::new(id, Secret::new("s")),
            Key::from_private_bytes(id, Algorithm::EdDSA, &Secret::new([1u8; 32])).unwrap(),
            Key::from_private_bytes(id, Algorithm::ES256, &Secret::new([2u8; 32])).unwrap(),
        ]
    }

    /// The shortcut in `verify` stands for parsing the issued header: it must give
    /// exactly what the parser gives for those bytes, whatever the key id and kind.
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
            for key in keys_of_every_kind(id) {
                let encoded = key.issued_header.as_deref().unwrap();
                let bytes = compact::decode_segment(encoded).unwrap();
                let parsed = strict_json::parse_header(&bytes).unwrap();
                let alg = key.algorithm().as_str();
                assert_eq!(parsed.alg, Member::Text(alg.into()), "{id:?}");
                assert_eq!(parsed.kid, Member::Text(id.into()), "{id:?}");
                assert!(!parsed.crit, "{id:?}");
                // And a public copy of the key issues, and so recognises, the same header.
                if let Some(jwk) = key.public_jwk().filter(|_| !id.is_empty()) {
                    let public = Key::from_jwk(&jwk).unwrap();
                    assert_eq!(public.issued_header, key.issued_header, "{id:?}");
                }
            }
        }
    }

    #[test]
    fn the_shortcut_picks_the_key_whose_header_it_is_and_no_other() {
        let new = Key::new("new", Secret::new("the new secret, thirty-two bytes"));
        let old = Key::new("old", Secret::new("the old secret, thirty-two bytes"));
        let old_header = old.issued_header.clone().unwrap();
        let mut keys = KeySet::new(new).with_verification_key(old);
        for key in keys_of_every_kind("k") {
            keys = keys.with_verification_key(key);
        }
        assert_eq!(keys.issuer_of_header(&old_header).unwrap().id(), "old");
        for key in keys_of_every_kind("k") {
            let found = keys.issuer_of_header(key.issued_header.as_deref().unwrap());
            assert_eq!(found.unwrap().algorithm(), key.algorithm());
        }
        // The same JSON spelled differently is parsed, not matched.
        let respelled = compact::encode_segment(br#"{"alg":"HS256", "typ":"JWT","kid":"old"}"#);
        assert!(keys.issuer_of_header(&respelled).is_none());
    }

    #[test]
    fn precomputed_mac_state_is_the_keyed_hmac() {
        use hmac::digest::KeyInit;
        use hmac::{Hmac, Mac};
        let secret = "a secret of thirty-two bytes....";
        let key = Key::new("k", Secret::new(secret));
        let mut fresh = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
        Mac::update(&mut fresh, b"message");
        let tag = fresh.finalize().into_bytes();
        assert!(key.verifies(b"message", &tag));
        assert!(!key.verifies(b"messagf", &tag));
        assert!(!key.verifies(b"message", &tag[..31]));
    }

    #[test]
    fn signatures_of_other_lengths_are_refused_before_any_curve_arithmetic() {
        let mut signature = String::new();
        for key in keys_of_every_kind("k").into_iter().skip(1) {
            signature.clear();
            key.sign_into(b"message", &mut signature).unwrap();
            let bytes = compact::decode_segment(&signature).unwrap();
            assert_eq!(bytes.len(), 64, "{:?}", key.algorithm());
            assert!(key.verifies(b"message", &bytes));
            assert!(!key.verifies(b"message", &bytes[..63]));
            assert!(!key.verifies(b"message", &[&bytes[..], &[0]].concat()));
            assert!(!key.verifies(b"message", &[]));
        }
    }
}
