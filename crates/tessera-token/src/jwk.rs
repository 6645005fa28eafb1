//! JSON Web Keys (RFC 7517) and JWK Sets, public members only.

use std::fmt;

use serde::de::{Deserializer, IgnoredAny};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::compact;
use crate::{Algorithm, Error, strict_json};

/// The largest JWK Set document, in bytes, that [`Jwks::from_json`] reads.
///
/// A set of a hundred P-256 keys with the usual members is about 20 KiB.
pub const MAX_JWKS_LEN: usize = 64 * 1024;

/// The most keys [`Jwks::from_json`] accepts in one set.
pub const MAX_JWKS_KEYS: usize = 100;

/// One JSON Web Key: the members this crate reads and writes.
///
/// Only public members are kept. A JWK that carries the private member `d` still
/// parses, but only so that [`Key::from_jwk`](crate::Key::from_jwk) can refuse it:
/// its value is not kept, never printed and never serialised. Members this crate
/// does not use (`key_ops`, `x5c`, RSA's `n` and `e` …) are ignored.
///
/// Get one from [`Key::public_jwk`](crate::Key::public_jwk) or by parsing JSON;
/// the fields are public so that a caller can inspect or adjust them.
///
/// ```
/// use tessera_token::{Algorithm, Jwk, Key};
///
/// let key = Key::generate(Algorithm::EdDSA)?;
/// let jwk: Jwk = key.public_jwk().expect("an asymmetric key has a public JWK");
/// assert_eq!((jwk.kty.as_str(), jwk.crv.as_deref()), ("OKP", Some("Ed25519")));
/// assert_eq!(jwk.kid.as_deref(), Some(key.id()));
///
/// let text = serde_json::to_string(&jwk).unwrap();
/// assert!(text.starts_with(r#"{"kty":"OKP","crv":"Ed25519","x":""#));
/// assert_eq!(serde_json::from_str::<Jwk>(&text).unwrap(), jwk);
/// # Ok::<(), tessera_token::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Key type: `"OKP"` (Ed25519), `"EC"` (P-256), or another the crate does not use.
    pub kty: String,
    /// Curve: `"Ed25519"` for `OKP`, `"P-256"` for `EC`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub crv: Option<String>,
    /// The public key (`OKP`) or its x coordinate (`EC`), base64url without padding.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub x: Option<String>,
    /// The y coordinate (`EC` only), base64url without padding.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub y: Option<String>,
    /// Key id: the `kid` of the tokens this key verifies.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub kid: Option<String>,
    /// The algorithm the key is for: `"EdDSA"` or `"ES256"`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub alg: Option<String>,
    /// Intended use: `"sig"` for a signature key.
    #[serde(rename = "use", skip_serializing_if = "Option::is_none", default)]
    pub use_: Option<String>,
    /// Whether the JWK held a private member `d`; its value is dropped unread.
    #[serde(
        rename = "d",
        skip_serializing,
        default,
        deserialize_with = "PrivatePart::present"
    )]
    private: Option<PrivatePart>,
}

/// Marks a private member that was present, whatever its value (even `null`).
#[derive(Clone, Copy, PartialEq, Eq)]
struct PrivatePart;

impl PrivatePart {
    fn present<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<PrivatePart>, D::Error> {
        IgnoredAny::deserialize(deserializer).map(|_| Some(PrivatePart))
    }
}

impl fmt::Debug for PrivatePart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<dropped>")
    }
}

impl Jwk {
    /// The public JWK of a signature key: its members, `kid`, `alg` and `use` "sig".
    pub(crate) fn public(
        kty: &str,
        crv: &str,
        x: &[u8],
        y: Option<&[u8]>,
        kid: &str,
        alg: Algorithm,
    ) -> Jwk {
        Jwk {
            kty: kty.to_owned(),
            crv: Some(crv.to_owned()),
            x: Some(compact::encode_segment(x)),
            y: y.map(compact::encode_segment),
            kid: Some(kid.to_owned()),
            alg: Some(alg.as_str().to_owned()),
            use_: Some("sig".to_owned()),
            private: None,
        }
    }

    /// Whether the JWK held a private member `d`.
    pub(crate) fn has_private_part(&self) -> bool {
        self.private.is_some()
    }

    /// The RFC 7638 thumbprint: base64url (unpadded) SHA-256 of the JSON object of
    /// the key type's required public members, in lexicographic order and without
    /// whitespace. `OKP` uses `crv`, `kty`, `x` (RFC 8037 §2); `EC` uses `crv`,
    /// `kty`, `x`, `y`. Other key types, and a missing member, are
    /// [`InvalidKey`](crate::ErrorKind::InvalidKey).
    ///
    /// The members are taken as they are written, so this works for keys the crate
    /// cannot use, such as an `EC` key on another curve.
    ///
    /// ```
    /// use tessera_token::Jwk;
    ///
    /// // RFC 8037, appendix A.3.
    /// let jwk: Jwk = serde_json::from_str(
    ///     r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
    /// ).unwrap();
    /// assert_eq!(jwk.thumbprint()?, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    /// # Ok::<(), tessera_token::Error>(())
    /// ```
    pub fn thumbprint(&self) -> Result<String, Error> {
        let missing = || Error::invalid_key("a required JWK member is missing");
        let crv = self.crv.as_deref().ok_or_else(missing)?;
        let x = self.x.as_deref().ok_or_else(missing)?;
        let members: &[(&str, &str)] = match self.kty.as_str() {
            "OKP" => &[("crv", crv), ("kty", "OKP"), ("x", x)],
            "EC" => &[
                ("crv", crv),
                ("kty", "EC"),
                ("x", x),
                ("y", self.y.as_deref().ok_or_else(missing)?),
            ],
            _ => return Err(Error::invalid_key("no thumbprint for this key type")),
        };
        let mut json = String::from("{");
        for (index, (name, value)) in members.iter().enumerate() {
            if index > 0 {
                json.push(',');
            }
            // serde_json writes a string as RFC 7638 §3.3 asks: no needless escapes.
            let name = serde_json::to_string(name).map_err(|_| missing())?;
            let value = serde_json::to_string(value).map_err(|_| missing())?;
            json.push_str(&name);
            json.push(':');
            json.push_str(&value);
        }
        json.push('}');
        Ok(compact::encode_segment(&Sha256::digest(json.as_bytes())))
    }
}

/// A JWK Set document (RFC 7517 §5): what an issuer publishes, typically at
/// `/.well-known/jwks.json`, and what a resource server fetches.
///
/// ```
/// use tessera_token::{Algorithm, Jwks, Key, KeySet};
///
/// let issuer = KeySet::new(Key::generate(Algorithm::ES256)?);
/// let published = serde_json::to_vec(&issuer.jwks()).unwrap();
///
/// let jwks = Jwks::from_json(&published)?;
/// assert_eq!(jwks.keys.len(), 1);
/// assert_eq!(jwks.keys[0].alg.as_deref(), Some("ES256"));
/// # Ok::<(), tessera_token::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Jwks {
    /// The keys, in the order of the document.
    pub keys: Vec<Jwk>,
}

impl Jwks {
    /// Parses a JWK Set document strictly: at most [`MAX_JWKS_LEN`] bytes, one JSON
    /// object with no duplicate key at any depth, a `keys` array of at most
    /// [`MAX_JWKS_KEYS`] objects, and members of the right JSON types. Other
    /// top-level members are ignored (RFC 7517 §5). Every failure is
    /// [`InvalidKey`](crate::ErrorKind::InvalidKey).
    ///
    /// Which keys are usable is decided later, by
    /// [`KeySet::from_jwks`](crate::KeySet::from_jwks) or [`Key::from_jwk`](crate::Key::from_jwk).
    ///
    /// ```
    /// use tessera_token::{ErrorKind, Jwks};
    ///
    /// let jwks = Jwks::from_json(br#"{"keys":[{"kty":"RSA","n":"0vx7","e":"AQAB"}]}"#)?;
    /// assert_eq!(jwks.keys[0].kty, "RSA");
    ///
    /// for bad in [&br#"{"keys":{}}"#[..], br#"{"keys":[],"keys":[]}"#, br#"[]"#, b"{"] {
    ///     assert_eq!(Jwks::from_json(bad).unwrap_err().kind(), ErrorKind::InvalidKey);
    /// }
    /// # Ok::<(), tessera_token::Error>(())
    /// ```
    pub fn from_json(json: &[u8]) -> Result<Jwks, Error> {
        if json.len() > MAX_JWKS_LEN {
            return Err(Error::invalid_key("JWK Set larger than MAX_JWKS_LEN"));
        }
        let mut document = strict_json::parse_object(json).map_err(|_| {
            Error::invalid_key("JWK Set is not one JSON object without duplicate keys")
        })?;
        let keys = match document.remove("keys") {
            Some(Value::Array(keys)) => keys,
            _ => return Err(Error::invalid_key("JWK Set has no keys array")),
        };
        if keys.len() > MAX_JWKS_KEYS {
            return Err(Error::invalid_key(
                "JWK Set has more than MAX_JWKS_KEYS keys",
            ));
        }
        let keys = keys
            .into_iter()
            .map(|key| match key {
                // Only objects: serde would also read a JSON array as a Jwk, by position.
                Value::Object(_) => serde_json::from_value(key)
                    .map_err(|_| Error::invalid_key("a JWK member has the wrong type")),
                _ => Err(Error::invalid_key("a JWK is not a JSON object")),
            })
            .collect::<Result<Vec<Jwk>, Error>>()?;
        Ok(Jwks { keys })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn jwk(text: &str) -> Jwk {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn a_private_member_is_noticed_whatever_its_value_and_never_written() {
        for d in [
            r#""nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A""#,
            "null",
            "{}",
            "1",
        ] {
            let parsed = jwk(&format!(
                r#"{{"kty":"OKP","crv":"Ed25519","x":"AA","d":{d}}}"#
            ));
            assert!(parsed.has_private_part(), "{d}");
            let written = serde_json::to_string(&parsed).unwrap();
            assert!(!written.contains("\"d\""), "{written}");
            assert!(!format!("{parsed:?}").contains("nWGxne"));
        }
        assert!(!jwk(r#"{"kty":"OKP"}"#).has_private_part());
    }

    #[test]
    fn thumbprints_use_only_the_required_members_in_order() {
        let okp =
            r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
        let expected = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";
        assert_eq!(jwk(okp).thumbprint().unwrap(), expected);
        // Member order, optional members and the private part change nothing.
        let noisy = r#"{"x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"k","alg":"EdDSA","use":"sig","crv":"Ed25519","kty":"OKP"}"#;
        assert_eq!(jwk(noisy).thumbprint().unwrap(), expected);

        let ec = jwk(r#"{"kty":"EC","crv":"P-256","x":"eA","y":"eQ"}"#);
        let canonical = br#"{"crv":"P-256","kty":"EC","x":"eA","y":"eQ"}"#;
        assert_eq!(
            ec.thumbprint().unwrap(),
            compact::encode_segment(&Sha256::digest(canonical))
        );

        for bad in [
            r#"{"kty":"EC","crv":"P-256","x":"eA"}"#,
            r#"{"kty":"OKP","x":"eA"}"#,
            r#"{"kty":"OKP","crv":"Ed25519"}"#,
            r#"{"kty":"oct","k":"c2VjcmV0"}"#,
            r#"{"kty":"RSA","n":"AQAB","e":"AQAB"}"#,
        ] {
            assert_eq!(
                jwk(bad).thumbprint().unwrap_err().kind(),
                ErrorKind::InvalidKey,
                "{bad}"
            );
        }
    }

    #[test]
    fn from_json_is_strict_and_bounded() {
        let one = r#"{"kty":"OKP","crv":"Ed25519","x":"AA","kid":"k"}"#;
        let ok = format!(r#"{{"keys":[{one}],"other":{{"ignored":true}}}}"#);
        assert_eq!(Jwks::from_json(ok.as_bytes()).unwrap().keys, [jwk(one)]);
        assert_eq!(Jwks::from_json(br#"{"keys":[]}"#).unwrap(), Jwks::default());

        let at_limit = format!(r#"{{"keys":[{}]}}"#, vec![one; MAX_JWKS_KEYS].join(","));
        assert_eq!(
            Jwks::from_json(at_limit.as_bytes()).unwrap().keys.len(),
            100
        );
        let over = format!(r#"{{"keys":[{}]}}"#, vec![one; MAX_JWKS_KEYS + 1].join(","));
        let padded = format!(r#"{{"keys":[],"pad":"{}"}}"#, "x".repeat(MAX_JWKS_LEN));
        let bad: Vec<String> = vec![
            over,
            padded,
            String::new(),
            "[]".into(),
            "null".into(),
            "{}".into(),
            r#"{"keys":null}"#.into(),
            r#"{"keys":{}}"#.into(),
            r#"{"keys":[],"keys":[]}"#.into(),
            r#"{"keys":[1]}"#.into(),
            r#"{"keys":[["OKP","Ed25519","AA"]]}"#.into(),
            r#"{"keys":[{}]}"#.into(),
            r#"{"keys":[{"kty":5}]}"#.into(),
            r#"{"keys":[{"kty":"OKP","kid":["k"]}]}"#.into(),
            r#"{"keys":[{"kty":"OKP","kid":"a","kid":"b"}]}"#.into(),
            r#"{"keys":[{"kty":"OKP","x5c":[{"a":1,"a":2}]}]}"#.into(),
            r#"{"keys":[{"kty":"OKP","x":"\ud800"}]}"#.into(),
            format!(r#"{{"keys":[{one}]}} trailing"#),
        ];
        for text in bad {
            let err = Jwks::from_json(text.as_bytes()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidKey, "{text:.80}");
        }
    }
}
