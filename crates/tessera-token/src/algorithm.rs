//! The signature algorithms a key can have.

use std::fmt;
use std::str::FromStr;

use crate::{Error, ErrorKind};

/// The signature algorithm of a [`Key`](crate::Key), by its JWS `alg` name
/// (RFC 7518 §3.1, RFC 8037 §3.1).
///
/// The algorithm belongs to the key, never to the token: a token is verified with
/// its key's algorithm, and a header whose `alg` names another one is refused
/// (see [`KeySet`](crate::KeySet)).
///
/// ```
/// use tessera_token::Algorithm;
///
/// let alg: Algorithm = "EdDSA".parse()?;
/// assert_eq!(alg, Algorithm::EdDSA);
/// assert_eq!(Algorithm::ES256.to_string(), "ES256");
/// # Ok::<(), tessera_token::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// HMAC with SHA-256 and a shared secret (RFC 7518 §3.2).
    HS256,
    /// Ed25519 signatures (RFC 8037), 64 bytes, verified strictly.
    EdDSA,
    /// ECDSA on P-256 with SHA-256 (RFC 7518 §3.4): a 64-byte `r ‖ s` signature,
    /// deterministic (RFC 6979) when this crate signs.
    ES256,
}

impl Algorithm {
    /// Every algorithm, in declaration order.
    const ALL: [Algorithm; 3] = [Algorithm::HS256, Algorithm::EdDSA, Algorithm::ES256];

    /// The JWS `alg` name: `"HS256"`, `"EdDSA"` or `"ES256"`.
    ///
    /// ```
    /// use tessera_token::Algorithm;
    ///
    /// assert_eq!(Algorithm::HS256.as_str(), "HS256");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Algorithm::HS256 => "HS256",
            Algorithm::EdDSA => "EdDSA",
            Algorithm::ES256 => "ES256",
        }
    }
}

/// Parses the exact, case-sensitive `alg` name; anything else (`"none"`,
/// `"hs256"`, `"ES384"` …) is an error of kind
/// [`UnsupportedAlgorithm`](ErrorKind::UnsupportedAlgorithm).
///
/// ```
/// use tessera_token::{Algorithm, ErrorKind};
///
/// assert_eq!("ES256".parse::<Algorithm>()?, Algorithm::ES256);
/// let err = "eddsa".parse::<Algorithm>().unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::UnsupportedAlgorithm);
/// # Ok::<(), tessera_token::Error>(())
/// ```
impl FromStr for Algorithm {
    type Err = Error;

    fn from_str(name: &str) -> Result<Algorithm, Error> {
        Algorithm::ALL
            .into_iter()
            .find(|alg| alg.as_str() == name)
            .ok_or(Error::new(
                ErrorKind::UnsupportedAlgorithm,
                "not HS256, EdDSA or ES256",
            ))
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_nothing_else_parses() {
        for alg in Algorithm::ALL {
            assert_eq!(alg.as_str().parse::<Algorithm>().unwrap(), alg);
            assert_eq!(alg.to_string(), alg.as_str());
        }
        for name in [
            "", "none", "None", "hs256", "HS256 ", " HS256", "eddsa", "EDDSA", "Ed25519", "es256",
            "ES384", "RS256", "HS256\0",
        ] {
            let err = name.parse::<Algorithm>().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::UnsupportedAlgorithm, "{name:?}");
        }
    }
}
