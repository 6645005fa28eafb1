//! The one error type of the crate, with a kind callers can match on.

use std::fmt;

/// Why a token was refused (or could not be made).
///
/// The kind is what callers match on: an HTTP layer typically answers every kind
/// with `401`, and logs [`ErrorKind::as_str`] for operators.
///
/// ```
/// use tessera_token::{ErrorKind, Key, KeySet, Secret};
///
/// let keys = KeySet::new(Key::new("k1", Secret::new("a secret of thirty-two bytes....")));
/// let err = keys.verify("not a token", chrono::Utc::now()).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Malformed);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Not a well-formed token: bad structure, base64, JSON, duplicate JSON keys,
    /// claims of the wrong type or range, a header with `crit`, or a token over
    /// [`MAX_TOKEN_LEN`](crate::MAX_TOKEN_LEN). For legacy tokens, also a lifetime
    /// (`exp − iat`) over the verifier's
    /// [maximum](crate::legacy::LegacyVerifier::with_max_lifetime).
    Malformed,
    /// The header names an algorithm outside the allowlist (or none at all), or
    /// one that no candidate key has: the algorithm of the key its `kid` names,
    /// or, without `kid`, of any key in the set.
    UnsupportedAlgorithm,
    /// The header's `kid` matches no key in the key set.
    UnknownKey,
    /// The signature does not match the token under any candidate key.
    BadSignature,
    /// The token's `exp` has passed.
    Expired,
    /// The token's `nbf` or `iat` lies in the future.
    NotYetValid,
    /// A key could not be made, imported or used: private bytes of the wrong length
    /// or out of range, a JWK or JWK Set that is malformed or holds a private or
    /// symmetric key, [`Key::generate`](crate::Key::generate) asked for HS256, or
    /// [`KeySet::sign`](crate::KeySet::sign) on a key set that only verifies.
    /// Never the outcome of verifying a token.
    InvalidKey,
}

impl ErrorKind {
    /// A stable snake_case name, for logs, metrics and command-line output.
    ///
    /// ```
    /// use tessera_token::ErrorKind;
    ///
    /// assert_eq!(ErrorKind::NotYetValid.as_str(), "not_yet_valid");
    /// assert_eq!(ErrorKind::UnsupportedAlgorithm.to_string(), "unsupported_algorithm");
    /// assert_eq!(ErrorKind::InvalidKey.as_str(), "invalid_key");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Malformed => "malformed",
            ErrorKind::UnsupportedAlgorithm => "unsupported_algorithm",
            ErrorKind::UnknownKey => "unknown_key",
            ErrorKind::BadSignature => "bad_signature",
            ErrorKind::Expired => "expired",
            ErrorKind::NotYetValid => "not_yet_valid",
            ErrorKind::InvalidKey => "invalid_key",
        }
    }

    const fn description(self) -> &'static str {
        match self {
            ErrorKind::Malformed => "malformed token",
            ErrorKind::UnsupportedAlgorithm => "unsupported signing algorithm",
            ErrorKind::UnknownKey => "unknown signing key",
            ErrorKind::BadSignature => "bad signature",
            ErrorKind::Expired => "token expired",
            ErrorKind::NotYetValid => "token not yet valid",
            ErrorKind::InvalidKey => "invalid key",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused token, or claims that cannot be signed.
///
/// Its [`Display`](fmt::Display) names the kind and a fixed reason; it never
/// repeats any part of the token, so it is safe to log.
///
/// ```
/// use chrono::{Duration, TimeZone, Utc};
/// use tessera_token::{Claims, ErrorKind, Key, KeySet, Secret};
///
/// let keys = KeySet::new(Key::new("k1", Secret::new("a secret of thirty-two bytes....")));
/// let issued = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
/// let token = keys.sign(&Claims::new("42", "jti-1", issued, Duration::minutes(15)))?;
///
/// let err = keys.verify(&token, issued + Duration::hours(1)).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Expired);
/// assert_eq!(err.to_string(), "token expired: exp is not in the future");
/// # Ok::<(), tessera_token::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    reason: &'static str,
}

impl Error {
    pub(crate) const fn new(kind: ErrorKind, reason: &'static str) -> Error {
        Error { kind, reason }
    }

    pub(crate) const fn malformed(reason: &'static str) -> Error {
        Error::new(ErrorKind::Malformed, reason)
    }

    pub(crate) const fn invalid_key(reason: &'static str) -> Error {
        Error::new(ErrorKind::InvalidKey, reason)
    }

    /// What kind of failure this is.
    ///
    /// ```
    /// use tessera_token::{Error, ErrorKind};
    ///
    /// let err = Error::from(ErrorKind::UnknownKey);
    /// assert_eq!(err.kind(), ErrorKind::UnknownKey);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

/// Lets other crates build an [`Error`] of a given kind, e.g. in test doubles.
impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Error {
        Error::new(kind, "")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.description())?;
        if !self.reason.is_empty() {
            write!(f, ": {}", self.reason)?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [ErrorKind; 7] = [
        ErrorKind::Malformed,
        ErrorKind::UnsupportedAlgorithm,
        ErrorKind::UnknownKey,
        ErrorKind::BadSignature,
        ErrorKind::Expired,
        ErrorKind::NotYetValid,
        ErrorKind::InvalidKey,
    ];

    #[test]
    fn as_str_is_the_documented_snake_case_name() {
        let names: Vec<&str> = ALL.iter().map(|kind| kind.as_str()).collect();
        assert_eq!(
            names,
            [
                "malformed",
                "unsupported_algorithm",
                "unknown_key",
                "bad_signature",
                "expired",
                "not_yet_valid",
                "invalid_key"
            ]
        );
    }

    #[test]
    fn display_includes_the_reason_only_when_there_is_one() {
        assert_eq!(
            Error::malformed("duplicate JSON object key").to_string(),
            "malformed token: duplicate JSON object key"
        );
        assert_eq!(
            Error::from(ErrorKind::BadSignature).to_string(),
            "bad signature"
        );
        assert_eq!(
            Error::invalid_key("a JWK needs a kid").to_string(),
            "invalid key: a JWK needs a kid"
        );
    }

    #[test]
    fn every_kind_has_a_distinct_name_and_description() {
        let names: std::collections::HashSet<&str> = ALL.iter().map(|k| k.as_str()).collect();
        let descriptions: std::collections::HashSet<&str> =
            ALL.iter().map(|k| k.description()).collect();
        assert_eq!((names.len(), descriptions.len()), (ALL.len(), ALL.len()));
    }
}
