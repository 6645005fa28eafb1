//! Verifying tokens minted by the Flask tutorial's itsdangerous, as a migration bridge.
//!
//! The tutorial issues tokens with itsdangerous 1.1's
//! `TimedJSONWebSignatureSerializer(SECRET_KEY, expires_in=…)` and
//! `dumps({"id": user.id})`. Those are compact JWS, but not JWTs:
//!
//! - the header carries `alg` **and** the dates: `{"alg":"HS512","iat":…,"exp":…}`;
//! - the payload is just `{"id": n}`;
//! - the HMAC key is the secret's raw bytes (the JWS serializer passes no salt,
//!   so itsdangerous uses key derivation `"none"`), over `header.payload` as sent;
//! - `alg` is HS512 by default in 1.1 (HS256 in older releases); HS384 is
//!   possible too. [`LegacyVerifier`] accepts exactly these three.
//!
//! Differences from itsdangerous, all stricter except the last: base64url must be
//! canonical and unpadded (itsdangerous never emits anything else), JSON may not
//! repeat a key, `iat`, `exp` and `id` must be JSON integers, a header with `crit`
//! is refused (RFC 7515 §4.1.11: no extension is understood; itsdangerous ignores
//! it), `iat` may not lie in the future, `exp − iat` may not exceed a maximum
//! lifetime ([`LegacyVerifier::with_max_lifetime`], one hour by default), and any
//! of the three algorithms is accepted under the one secret (itsdangerous checks
//! against the algorithm it was configured with). Like itsdangerous, a token is
//! still valid during the second named by `exp` and expires after it.
//!
//! The last two date rules matter because whoever holds the secret — or a bug in
//! the minting app — could otherwise make a token that never expires, or one whose
//! `iat` stays "after the last password change" for ever.
//!
//! ```
//! use chrono::DateTime;
//! use tessera_token::Secret;
//! use tessera_token::legacy::{LegacyAlgorithm, LegacyVerifier};
//!
//! // Minted by itsdangerous 1.1.0 at 1700000000 with expires_in=600
//! // (tests/fixtures/legacy_tokens.json).
//! let token = "eyJhbGciOiJIUzUxMiIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAwNjAwfQ.\
//!     eyJpZCI6NX0.gPOO7AWS4qlupc43bj4OyhUbH0lIHeIjfxfKgRtEHqiunov-7YJSwjfN_vMf9p4MtoIuWnl4eTT2lhK9iwiZ2Q";
//! let verifier = LegacyVerifier::new(Secret::new("hard to guess string"));
//!
//! let claims = verifier.verify(token, DateTime::from_timestamp(1_700_000_300, 0).unwrap())?;
//! assert_eq!((claims.id, claims.alg), (5, LegacyAlgorithm::Hs512));
//! # Ok::<(), tessera_token::Error>(())
//! ```

use chrono::{DateTime, Duration, Utc};
use hmac::Hmac;
use serde_json::Value;
use sha2::{Sha256, Sha384, Sha512};

use crate::compact::{self, numeric_date};
use crate::{Error, ErrorKind, Secret, strict_json};

/// The HMAC algorithms itsdangerous's JWS serializer can sign with.
///
/// ```
/// use tessera_token::legacy::LegacyAlgorithm;
///
/// assert_eq!(LegacyAlgorithm::Hs512.as_str(), "HS512");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LegacyAlgorithm {
    /// HMAC-SHA-256, the default of itsdangerous before 1.0.
    Hs256,
    /// HMAC-SHA-384.
    Hs384,
    /// HMAC-SHA-512, the default of itsdangerous 1.1.
    Hs512,
}

impl LegacyAlgorithm {
    /// The JWS name, as written in the header's `alg`.
    ///
    /// ```
    /// use tessera_token::legacy::LegacyAlgorithm;
    ///
    /// assert_eq!(LegacyAlgorithm::Hs256.as_str(), "HS256");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            LegacyAlgorithm::Hs256 => "HS256",
            LegacyAlgorithm::Hs384 => "HS384",
            LegacyAlgorithm::Hs512 => "HS512",
        }
    }

    fn from_header(alg: Option<&Value>) -> Result<LegacyAlgorithm, Error> {
        match alg.and_then(Value::as_str) {
            Some("HS256") => Ok(LegacyAlgorithm::Hs256),
            Some("HS384") => Ok(LegacyAlgorithm::Hs384),
            Some("HS512") => Ok(LegacyAlgorithm::Hs512),
            _ => Err(Error::new(
                ErrorKind::UnsupportedAlgorithm,
                "only HS256, HS384 and HS512 are accepted",
            )),
        }
    }

    fn mac_matches(self, key: &[u8], message: &[u8], tag: &[u8]) -> bool {
        match self {
            LegacyAlgorithm::Hs256 => compact::mac_matches::<Hmac<Sha256>>(key, message, tag),
            LegacyAlgorithm::Hs384 => compact::mac_matches::<Hmac<Sha384>>(key, message, tag),
            LegacyAlgorithm::Hs512 => compact::mac_matches::<Hmac<Sha512>>(key, message, tag),
        }
    }
}

/// What a verified legacy token says.
///
/// ```
/// use tessera_token::legacy::{LegacyAlgorithm, LegacyClaims};
///
/// let claims = LegacyClaims { id: 5, iat: 1_700_000_000, exp: 1_700_000_600, alg: LegacyAlgorithm::Hs512 };
/// assert_eq!(claims.exp - claims.iat, 600);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegacyClaims {
    /// The user id from the payload `{"id": n}`.
    pub id: i64,
    /// Issued at (header `iat`), in seconds since the Unix epoch.
    pub iat: i64,
    /// Expiry (header `exp`), in seconds since the Unix epoch.
    pub exp: i64,
    /// The algorithm the token was signed with.
    pub alg: LegacyAlgorithm,
}

/// Verifies itsdangerous 1.1 `TimedJSONWebSignatureSerializer` tokens made
/// with one secret; see the [module docs](self) for the exact rules.
///
/// There is no clock-skew leeway: the Flask app and Tessera both take whole seconds
/// (truncated) from their clocks, so with synchronised clocks a fresh token's `iat`
/// is never ahead of the verifier's `now`.
///
/// ```
/// use chrono::Utc;
/// use tessera_token::{ErrorKind, Secret};
/// use tessera_token::legacy::LegacyVerifier;
///
/// let verifier = LegacyVerifier::new(Secret::new("hard to guess string"));
/// let err = verifier.verify("eyJhbGciOiJub25lIn0.eyJpZCI6NX0.", Utc::now()).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::UnsupportedAlgorithm);
/// ```
#[derive(Debug, Clone)]
pub struct LegacyVerifier {
    secret: Secret,
    max_lifetime: Duration,
}

impl LegacyVerifier {
    /// The longest lifetime (`exp − iat`) accepted unless
    /// [`with_max_lifetime`](LegacyVerifier::with_max_lifetime) says otherwise: one
    /// hour, which is itsdangerous' own default `expires_in` and six times the
    /// Flask tutorial's 600 seconds.
    ///
    /// ```
    /// use tessera_token::legacy::LegacyVerifier;
    ///
    /// assert_eq!(LegacyVerifier::DEFAULT_MAX_LIFETIME, chrono::Duration::hours(1));
    /// ```
    pub const DEFAULT_MAX_LIFETIME: Duration = Duration::hours(1);

    /// A verifier for tokens signed with `secret`: the Flask app's `SECRET_KEY`,
    /// as the same bytes (a Python `str` key is used UTF-8 encoded).
    ///
    /// ```
    /// use tessera_token::Secret;
    /// use tessera_token::legacy::LegacyVerifier;
    ///
    /// let verifier = LegacyVerifier::new(Secret::new("hard to guess string"));
    /// # let _ = verifier;
    /// ```
    pub fn new(secret: Secret) -> LegacyVerifier {
        LegacyVerifier {
            secret,
            max_lifetime: LegacyVerifier::DEFAULT_MAX_LIFETIME,
        }
    }

    /// Refuses tokens whose `exp − iat` exceeds `max_lifetime` (in whole seconds, any
    /// fraction dropped) as [`ErrorKind::Malformed`]. Set it to the longest
    /// `expires_in` the Flask app used; the default is
    /// [`DEFAULT_MAX_LIFETIME`](LegacyVerifier::DEFAULT_MAX_LIFETIME). A negative
    /// duration refuses every token.
    ///
    /// ```
    /// use chrono::{DateTime, Duration};
    /// use tessera_token::{ErrorKind, Secret};
    /// use tessera_token::legacy::LegacyVerifier;
    ///
    /// // HS256, id 42, iat 1700000000, exp 1700000600: a lifetime of 600 seconds.
    /// let token = "eyJhbGciOiJIUzI1NiIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAwNjAwfQ.\
    ///     eyJpZCI6NDJ9.7IEqS9fq3vDfE16haQD3hZgpLuD9Bhre1ENWH7SOh_8";
    /// let at = DateTime::from_timestamp(1_700_000_100, 0).unwrap();
    /// let secret = Secret::new("hard to guess string");
    ///
    /// let ten_minutes = LegacyVerifier::new(secret.clone()).with_max_lifetime(Duration::minutes(10));
    /// assert_eq!(ten_minutes.verify(token, at)?.id, 42);
    /// let five_minutes = LegacyVerifier::new(secret).with_max_lifetime(Duration::minutes(5));
    /// assert_eq!(five_minutes.verify(token, at).unwrap_err().kind(), ErrorKind::Malformed);
    /// # Ok::<(), tessera_token::Error>(())
    /// ```
    pub fn with_max_lifetime(mut self, max_lifetime: Duration) -> LegacyVerifier {
        self.max_lifetime = max_lifetime;
        self
    }

    /// The longest lifetime (`exp − iat`) this verifier accepts.
    ///
    /// ```
    /// use tessera_token::Secret;
    /// use tessera_token::legacy::LegacyVerifier;
    ///
    /// let verifier = LegacyVerifier::new(Secret::new("hard to guess string"));
    /// assert_eq!(verifier.max_lifetime(), LegacyVerifier::DEFAULT_MAX_LIFETIME);
    /// ```
    pub fn max_lifetime(&self) -> Duration {
        self.max_lifetime
    }

    /// Verifies `token` at time `now`.
    ///
    /// Errors use the crate's [`ErrorKind`]s: `UnsupportedAlgorithm` for an
    /// `alg` other than HS256/HS384/HS512, `BadSignature`, `Expired` once `now`
    /// is past `exp`, `NotYetValid` while `now` is before `iat`, and `Malformed`
    /// for everything structural, including a header with `crit`, a missing or
    /// non-integer `exp`, `iat` or `id`, and a lifetime `exp − iat` over
    /// [`max_lifetime`](LegacyVerifier::max_lifetime). The dates are checked in
    /// that order: lifetime, `exp`, `iat`. Sub-second precision of `now` is dropped.
    ///
    /// ```
    /// use chrono::DateTime;
    /// use tessera_token::{ErrorKind, Secret};
    /// use tessera_token::legacy::LegacyVerifier;
    ///
    /// // HS256, id 42, iat 1700000000, exp 1700000600, from itsdangerous 1.1.0.
    /// let token = "eyJhbGciOiJIUzI1NiIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAwNjAwfQ.\
    ///     eyJpZCI6NDJ9.7IEqS9fq3vDfE16haQD3hZgpLuD9Bhre1ENWH7SOh_8";
    /// let verifier = LegacyVerifier::new(Secret::new("hard to guess string"));
    ///
    /// let at = |seconds| DateTime::from_timestamp(seconds, 0).unwrap();
    /// assert_eq!(verifier.verify(token, at(1_700_000_600))?.id, 42);
    /// assert_eq!(verifier.verify(token, at(1_700_000_601)).unwrap_err().kind(), ErrorKind::Expired);
    /// assert_eq!(verifier.verify(token, at(1_699_999_999)).unwrap_err().kind(), ErrorKind::NotYetValid);
    /// # Ok::<(), tessera_token::Error>(())
    /// ```
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<LegacyClaims, Error> {
        let segments = compact::split(token)?;
        let header = strict_json::parse_object(&compact::decode_segment(segments.header)?)?;
        let payload = compact::decode_segment(segments.payload)?;
        let alg = LegacyAlgorithm::from_header(header.get("alg"))?;
        // RFC 7515 §4.1.11: extensions we do not implement must not be ignored.
        if header.contains_key("crit") {
            return Err(Error::malformed(
                "critical header extensions are not supported",
            ));
        }
        let signature = compact::decode_signature(segments.signature)?;

        if !alg.mac_matches(
            self.secret.expose(),
            segments.signing_input.as_bytes(),
            &signature,
        ) {
            return Err(Error::new(
                ErrorKind::BadSignature,
                "signature does not match",
            ));
        }

        let exp = numeric_date(header.get("exp"))?
            .filter(|&exp| exp >= 0)
            .ok_or(Error::malformed("header exp is missing or negative"))?;
        let iat =
            numeric_date(header.get("iat"))?.ok_or(Error::malformed("header iat is missing"))?;
        let id = strict_json::parse_object(&payload)?
            .get("id")
            .and_then(Value::as_i64)
            .ok_or(Error::malformed("payload id is missing or not an integer"))?;

        // Both dates are within chrono's range, so the difference cannot overflow.
        if exp.saturating_sub(iat) > self.max_lifetime.num_seconds() {
            return Err(Error::malformed("exp - iat exceeds the maximum lifetime"));
        }
        let now = now.timestamp();
        // itsdangerous: expired only when exp < now.
        if now > exp {
            return Err(Error::new(ErrorKind::Expired, "exp has passed"));
        }
        if now < iat {
            return Err(Error::new(ErrorKind::NotYetValid, "iat is in the future"));
        }
        Ok(LegacyClaims { id, iat, exp, alg })
    }
}
