//! Secrets and keys: an HMAC secret, or an Ed25519 or P-256 key pair or public key.

use std::fmt;

use ed25519_dalek::Signer as _;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use p256::ecdsa::signature::Verifier as _;
use p256::elliptic_curve::zeroize::Zeroizing;
use serde::Serialize;
use sha2::Sha256;

use crate::compact;
use crate::{Algorithm, Error, ErrorKind, Jwk};

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

/// A key with the id (`kid`) that names it in token headers, and the one
/// [`Algorithm`] it signs and verifies with.
///
/// - HS256: a shared [`Secret`] ([`Key::new`]).
/// - EdDSA and ES256: a key pair ([`Key::generate`], [`Key::from_private_bytes`]),
///   which signs and verifies, or a public key ([`Key::from_jwk`]), which only verifies.
///
/// `Debug` shows the id and algorithm, never private material; private keys are
/// overwritten with zeros when dropped (best effort, as for [`Secret`]).
///
/// ```
/// use tessera_token::{Algorithm, Key, Secret};
///
/// let key = Key::new("2024-06", Secret::new("a secret of thirty-two bytes...."));
/// assert_eq!((key.id(), key.algorithm()), ("2024-06", Algorithm::HS256));
/// assert!(!format!("{key:?}").contains("thirty-two"));
///
/// let pair = Key::generate(Algorithm::EdDSA)?;
/// assert!(pair.can_sign());
/// let public = Key::from_jwk(&pair.public_jwk().expect("EdDSA keys have one"))?;
/// assert!(!public.can_sign());
/// assert_eq!(public.id(), pair.id());
/// # Ok::<(), tessera_token::Error>(())
/// ```
#[derive(Clone)]
pub struct Key {
    id: String,
    material: Material,
    /// The encoded header of the tokens this key signs. A token whose header segment
    /// is exactly these bytes needs no decoding or parsing: parsing is a function of
    /// the bytes, and these parse to this key's `alg`, this `kid` and no `crit`.
    /// Public keys have one too: it is the header their private half issues.
    pub(crate) issued_header: Option<String>,
}

#[derive(Clone)]
enum Material {
    Hmac {
        secret: Secret,
        /// HMAC-SHA256 already keyed with `secret` (the inner and outer pads hashed),
        /// so each MAC starts from a copy instead of redoing that work. `None` only
        /// if the hmac crate ever refused a key, which it does not for HMAC.
        keyed: Option<Hmac<Sha256>>,
    },
    Ed25519 {
        verifying: ed25519_dalek::VerifyingKey,
        /// Zeroized on drop by ed25519-dalek (its `zeroize` feature). Boxed so that
        /// moving a `Key` leaves no copy of it behind.
        signing: Option<Box<ed25519_dalek::SigningKey>>,
    },
    P256 {
        verifying: p256::ecdsa::VerifyingKey,
        /// Zeroized on drop by the ecdsa crate; boxed like the Ed25519 key.
        signing: Option<Box<p256::ecdsa::SigningKey>>,
    },
}

/// Shows where private material is, never what it is.
struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Key");
        debug
            .field("id", &self.id)
            .field("algorithm", &self.algorithm());
        // The keyed HMAC state is as good as the secret: never shown.
        match &self.material {
            Material::Hmac { secret, .. } => debug.field("secret", secret),
            Material::Ed25519 { signing, .. } => {
                debug.field("private", &signing.as_ref().map(|_| Redacted))
            }
            Material::P256 { signing, .. } => {
                debug.field("private", &signing.as_ref().map(|_| Redacted))
            }
        };
        debug.finish()
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        // Best effort, like `Secret`: overwrite the keyed state in place. The
        // asymmetric signing keys zeroize themselves.
        if let Material::Hmac {
            keyed: Some(keyed), ..
        } = &mut self.material
        {
            *keyed = <Hmac<Sha256> as KeyInit>::new(&Default::default());
            std::hint::black_box(keyed);
        }
    }
}

/// Length of an Ed25519 seed and of a P-256 scalar, in bytes.
const PRIVATE_KEY_LEN: usize = 32;
/// Length of an EdDSA and of an ES256 signature (`r ‖ s`), in bytes.
const SIGNATURE_LEN: usize = 64;

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    typ: &'static str,
    kid: &'a str,
}

impl Key {
    /// An HS256 key: names `secret` with the key id `id`.
    ///
    /// ```
    /// use tessera_token::{Algorithm, Key, Secret};
    ///
    /// let key = Key::new("primary", Secret::new("a secret of thirty-two bytes...."));
    /// assert_eq!((key.id(), key.algorithm()), ("primary", Algorithm::HS256));
    /// ```
    pub fn new(id: impl Into<String>, secret: Secret) -> Key {
        let keyed = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.expose()).ok();
        Key::assemble(id.into(), Material::Hmac { secret, keyed })
    }

    /// A fresh EdDSA or ES256 key pair from the operating system's random number
    /// generator. Its id is the RFC 7638 thumbprint of its public JWK, so the same
    /// public key always has the same id.
    ///
    /// HS256 is refused ([`ErrorKind::InvalidKey`]): symmetric secrets come from
    /// configuration, where every instance of the service can share them.
    ///
    /// ```
    /// use tessera_token::{Algorithm, ErrorKind, Key};
    ///
    /// let key = Key::generate(Algorithm::ES256)?;
    /// assert_eq!(key.algorithm(), Algorithm::ES256);
    /// assert_eq!(key.id(), key.public_jwk().unwrap().thumbprint()?);
    ///
    /// let err = Key::generate(Algorithm::HS256).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidKey);
    /// # Ok::<(), tessera_token::Error>(())
    /// ```
    pub fn generate(alg: Algorithm) -> Result<Key, Error> {
        if alg == Algorithm::HS256 {
            return Err(Error::invalid_key(
                "HS256 secrets come from configuration, not from generate",
            ));
        }
        // A random 32-byte string is a P-256 scalar unless it is 0 or at least the
        // group order: about one in 2^32. Eight tries fail only with a broken RNG.
        let mut seed = Secret::new(vec![0u8; PRIVATE_KEY_LEN]);
        for _ in 0..8 {
            getrandom::fill(&mut seed.0)
                .map_err(|_| Error::invalid_key("the operating system's RNG failed"))?;
            if let Ok(material) = Material::from_private(alg, seed.expose()) {
                let id = material
                    .public_jwk("", alg)
                    .ok_or(Error::invalid_key("no public key"))?
                    .thumbprint()?;
                return Ok(Key::assemble(id, material));
            }
        }
        Err(Error::invalid_key("the RNG gave no valid private key"))
    }

    /// A key from its exported private part ([`Key::private_bytes`]), named `id`:
    /// the 32-byte Ed25519 seed (RFC 8032 §5.1.5) for EdDSA, the 32-byte big-endian
    /// P-256 scalar for ES256, or the HMAC secret bytes for HS256.
    ///
    /// A wrong length, or a P-256 scalar that is 0 or not below the group order, is
    /// [`ErrorKind::InvalidKey`].
    ///
    /// ```
    /// use tessera_token::{Algorithm, ErrorKind, Key, Secret};
    ///
    /// let key = Key::generate(Algorithm::EdDSA)?;
    /// let stored = key.private_bytes().expect("a key pair has a private part");
    /// let restored = Key::from_private_bytes(key.id(), Algorithm::EdDSA, &stored)?;
    /// assert_eq!(restored.public_jwk(), key.public_jwk());
    ///
    /// let short = Key::from_private_bytes("k", Algorithm::ES256, &Secret::new([1u8; 31]));
    /// assert_eq!(short.unwrap_err().kind(), ErrorKind::InvalidKey);
    /// # Ok::<(), tessera_token::Error>(())
    /// ```
    pub fn from_private_bytes(
        id: impl Into<String>,
        alg: Algorithm,
        private: &Secret,
    ) -> Result<Key, Error> {
        if alg == Algorithm::HS256 {
            return Ok(Key::new(id, private.clone()));
        }
        Ok(Key::assemble(
            id.into(),
            Material::from_private(alg, private.expose())?,
        ))
    }

    /// The private part to store, to rebuild the key with [`Key::from_private_bytes`]:
    /// the 32-byte Ed25519 seed, the 32-byte big-endian P-256 scalar, or the HMAC
    /// secret bytes. `None` for a public (verify-only) key.
    ///
    /// ```
    /// use tessera_token::{Algorithm, Key, Secret};
    ///
    /// let hmac = Key::new("k1", Secret::new("s3cr3t"));
    /// assert_eq!(hmac.private_bytes().unwrap().expose(), b"s3cr3t");
    ///
    /// let pair = Key::generate(Algorithm::ES256)?;
    /// assert_eq!(pair.private_bytes().unwrap().expose().len(), 32);
    /// let public = Key::from_jwk(&pair.public_jwk().unwrap())?;
    /// assert!(public.private_bytes().is_none());
    /// # Ok::<(), tessera_token::Error>(())
    /// ```
    pub fn private_bytes(&self) -> Option<Secret> {
        match &self.material {
            Material::Hmac { secret, .. } => Some(secret.clone()),
            Material::Ed25519 { signing, .. } => signing
                .as_ref()
                .map(|signing| Secret::new(signing.as_bytes().to_vec())),
            Material::P256 { signing, .. } => signing.as_ref().map(|signing| {
                let scalar = Zeroizing::new(signing.to_bytes());
                Secret::new(scalar.to_vec())
            }),
        }
    }

    /// A verify-only key from a public JWK (RFC 7517, 7518 §6.2, 8037 §2):
    /// `kty` `OKP` with `crv` `Ed25519` is an EdDSA key, `kty` `EC` with `crv`
    /// `P-256` an ES256 key. Its id is the JWK's `kid`.
    ///
    /// Refused with [`ErrorKind::InvalidKey`]: a JWK holding the private member `d`
    /// (a private key has no place in a published set), `oct` (symmetric) keys,
    /// other key types and curves, an `alg` other than the one of its `kty` and
    /// `crv`, a `use` other than `"sig"`, a missing or empty `kid`, coordinates that
    /// are not canonical unpadded base64url of exactly 32 bytes, a `y` on an
    /// Ed25519 key, points not on the curve, and Ed25519 keys of small order.
    ///
    /// ```
    /// use tessera_token::{ErrorKind, Jwk, Key};
    ///
    /// // RFC 8037, appendix A.2, with a kid.
    /// let public: Jwk = serde_json::from_str(r#"{"kty":"OKP","crv":"Ed25519",
    ///     "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"rfc8037"}"#).unwrap();
    /// let key = Key::from_jwk(&public)?;
    /// assert_eq!((key.id(), key.can_sign()), ("rfc8037", false));
    ///
    /// let private: Jwk = serde_json::from_str(r#"{"kty":"OKP","crv":"Ed25519","kid":"k",
    ///     "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    ///     "d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}"#).unwrap();
    /// assert_eq!(Key::from_jwk(&private).unwrap_err().kind(), ErrorKind::InvalidKey);
    /// # Ok::<(), tessera_token::Error>(())
    /// ```
    pub fn from_jwk(jwk: &Jwk) -> Result<Key, Error> {
        match Key::import(jwk)? {
            Imported::Key(key) => Ok(*key),
            Imported::Unsupported(reason) => Err(Error::invalid_key(reason)),
        }
    }

    /// Reads a public JWK, telling a key this crate does not use (skipped in a
    /// JWK Set) from one that is wrong (an error even there).
    pub(crate) fn import(jwk: &Jwk) -> Result<Imported, Error> {
        if jwk.has_private_part() {
            return Err(Error::invalid_key(
                "a JWK holding a private key (\"d\") is refused",
            ));
        }
        let alg = match (jwk.kty.as_str(), jwk.crv.as_deref()) {
            ("oct", _) => {
                return Err(Error::invalid_key(
                    "a symmetric (oct) key has no place in a JWK",
                ));
            }
            ("OKP" | "EC", None) => return Err(Error::invalid_key("the JWK has no crv")),
            ("OKP", Some("Ed25519")) => Algorithm::EdDSA,
            ("EC", Some("P-256")) => Algorithm::ES256,
            ("OKP" | "EC", Some(_)) => return Ok(Imported::Unsupported("unsupported curve")),
            _ => return Ok(Imported::Unsupported("unsupported key type")),
        };
        if jwk.use_.as_deref().is_some_and(|use_| use_ != "sig") {
            return Ok(Imported::Unsupported("not a signature key (use)"));
        }
        match jwk.alg.as_deref().map(str::parse::<Algorithm>) {
            None => {}
            Some(Ok(named)) if named == alg => {}
            Some(Ok(_)) => {
                return Err(Error::invalid_key(
                    "the JWK's alg disagrees with kty and crv",
                ));
            }
            Some(Err(_)) => return Ok(Imported::Unsupported("unsupported alg")),
        }
        let id = match jwk.kid.as_deref() {
            Some(kid) if !kid.is_empty() => kid,
            _ => return Err(Error::invalid_key("a JWK needs a kid")),
        };
        let x = coordinate(jwk.x.as_deref())?;
        let material = match alg {
            Algorithm::EdDSA => {
                if jwk.y.is_some() {
                    return Err(Error::invalid_key("an Ed25519 JWK has no y"));
                }
                let verifying = ed25519_dalek::VerifyingKey::from_bytes(&x)
                    .map_err(|_| Error::invalid_key("not an Ed25519 public key"))?;
                // A non-canonical encoding of a point, or a point of small order
                // (which `verify_strict` would refuse anyway), is not a real key.
                if verifying.to_edwards().compress().to_bytes() != x || verifying.is_weak() {
                    return Err(Error::invalid_key("not an Ed25519 public key"));
                }
                Material::Ed25519 {
                    verifying,
                    signing: None,
                }
            }
            _ => {
                let y = coordinate(jwk.y.as_deref())?;
                let mut sec1 = [0x04; 1 + 2 * PRIVATE_KEY_LEN];
                sec1[1..=PRIVATE_KEY_LEN].copy_from_slice(&x);
                sec1[1 + PRIVATE_KEY_LEN..].copy_from_slice(&y);
                let verifying = p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
                    .map_err(|_| Error::invalid_key("the point is not on P-256"))?;
                Material::P256 {
                    verifying,
                    signing: None,
                }
            }
        };
        Ok(Imported::Key(Box::new(Key::assemble(
            id.to_owned(),
            material,
        ))))
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

    /// The algorithm this key signs and verifies with, and the only one it accepts.
    ///
    /// ```
    /// use tessera_token::{Algorithm, Key, Secret};
    ///
    /// assert_eq!(Key::new("k1", Secret::new("s")).algorithm(), Algorithm::HS256);
    /// assert_eq!(Key::generate(Algorithm::EdDSA)?.algorithm(), Algorithm::EdDSA);
    /// # Ok::<(), tessera_token::Error>(())
    /// ```
    pub fn algorithm(&self) -> Algorithm {
        self.material.algorithm()
    }

    /// The public JWK, with this key's id as `kid`, its `alg` and `use` `"sig"`;
    /// `None` for HS256, whose secret must never be published.
    ///
    /// ```
    /// use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    /// use tessera_token::{Algorithm, Key, Secret};
    ///
    /// // The key pair of RFC 8037, appendix A.1.
    /// let d = URL_SAFE_NO_PAD.decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A").unwrap();
    /// let key = Key::from_private_bytes("k1", Algorithm::EdDSA, &Secret::new(d))?;
    /// assert_eq!(
    ///     serde_json::to_string(&key.public_jwk().unwrap()).unwrap(),
    ///     r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"k1","alg":"EdDSA","use":"sig"}"#
    /// );
    /// assert!(Key::new("k1", Secret::new("s")).public_jwk().is_none());
    /// # Ok::<(), tessera_token::Error>(())
    /// ```
    pub fn public_jwk(&self) -> Option<Jwk> {
        self.material.public_jwk(&self.id, self.algorithm())
    }

    /// Whether this key can sign: false for public keys made by [`Key::from_jwk`].
    ///
    /// ```
    /// use tessera_token::{Key, Secret};
    ///
    /// assert!(Key::new("k1", Secret::new("s")).can_sign());
    /// ```
    pub fn can_sign(&self) -> bool {
        match &self.material {
            Material::Hmac { .. } => true,
            Material::Ed25519 { signing, .. } => signing.is_some(),
            Material::P256 { signing, .. } => signing.is_some(),
        }
    }

    fn assemble(id: String, material: Material) -> Key {
        let header = Header {
            alg: material.algorithm().as_str(),
            typ: "JWT",
            kid: &id,
        };
        let issued_header = serde_json::to_vec(&header)
            .ok()
            .map(|json| compact::encode_segment(&json));
        Key {
            id,
            material,
            issued_header,
        }
    }

    /// Appends the base64url signature of `message` to `out`.
    pub(crate) fn sign_into(&self, message: &[u8], out: &mut String) -> Result<(), Error> {
        let no_private_part = Error::invalid_key("the key has no private part: it only verifies");
        match &self.material {
            Material::Hmac { .. } => {
                let mut mac = self.mac()?;
                Mac::update(&mut mac, message);
                compact::append_segment(&mac.finalize().into_bytes(), out);
            }
            Material::Ed25519 { signing, .. } => {
                let signing = signing.as_ref().ok_or(no_private_part)?;
                compact::append_segment(&signing.sign(message).to_bytes(), out);
            }
            Material::P256 { signing, .. } => {
                let signing = signing.as_ref().ok_or(no_private_part)?;
                // RFC 6979 deterministic nonce; `to_bytes` is the JWS form, r ‖ s.
                let signature: p256::ecdsa::Signature = signing.sign(message);
                compact::append_segment(&signature.to_bytes(), out);
            }
        }
        Ok(())
    }

    /// Whether `signature` is this key's signature of `message` under its own
    /// algorithm. HMAC tags are compared in constant time; EdDSA uses
    /// `verify_strict`; both asymmetric algorithms take exactly 64 bytes.
    pub(crate) fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.material {
            Material::Hmac { .. } => match self.mac() {
                Ok(mut mac) => {
                    Mac::update(&mut mac, message);
                    mac.verify_slice(signature).is_ok()
                }
                Err(_) => false,
            },
            Material::Ed25519 { verifying, .. } => {
                match <&[u8; SIGNATURE_LEN]>::try_from(signature) {
                    Ok(bytes) => {
                        let signature = ed25519_dalek::Signature::from_bytes(bytes);
                        verifying.verify_strict(message, &signature).is_ok()
                    }
                    Err(_) => false,
                }
            }
            Material::P256 { verifying, .. } => {
                // Exactly r ‖ s (RFC 7518 §3.4): a DER signature is longer and refused.
                if signature.len() != SIGNATURE_LEN {
                    return false;
                }
                match p256::ecdsa::Signature::from_slice(signature) {
                    Ok(signature) => verifying.verify(message, &signature).is_ok(),
                    Err(_) => false,
                }
            }
        }
    }

    fn mac(&self) -> Result<Hmac<Sha256>, Error> {
        // HMAC takes keys of any length; mapped rather than unwrapped to stay panic-free.
        match &self.material {
            Material::Hmac {
                keyed: Some(keyed), ..
            } => Ok(keyed.clone()),
            _ => Err(Error::new(ErrorKind::BadSignature, "HMAC refused the key")),
        }
    }
}

/// What a JWK turned out to be.
pub(crate) enum Imported {
    /// Boxed: a key is large next to the reason.
    Key(Box<Key>),
    /// A key type, curve, `alg` or `use` this crate has no use for.
    Unsupported(&'static str),
}

impl Material {
    fn algorithm(&self) -> Algorithm {
        match self {
            Material::Hmac { .. } => Algorithm::HS256,
            Material::Ed25519 { .. } => Algorithm::EdDSA,
            Material::P256 { .. } => Algorithm::ES256,
        }
    }

    fn from_private(alg: Algorithm, private: &[u8]) -> Result<Material, Error> {
        let wrong_length =
            || Error::invalid_key("an EdDSA or ES256 private key is exactly 32 bytes");
        match alg {
            Algorithm::HS256 => Err(Error::invalid_key("HS256 keys are made with Key::new")),
            Algorithm::EdDSA => {
                let seed =
                    <&[u8; PRIVATE_KEY_LEN]>::try_from(private).map_err(|_| wrong_length())?;
                let signing = Box::new(ed25519_dalek::SigningKey::from_bytes(seed));
                Ok(Material::Ed25519 {
                    verifying: signing.verifying_key(),
                    signing: Some(signing),
                })
            }
            Algorithm::ES256 => {
                // `from_slice` would also take 24 to 31 bytes, padded: not a stored key.
                if private.len() != PRIVATE_KEY_LEN {
                    return Err(wrong_length());
                }
                let signing =
                    Box::new(p256::ecdsa::SigningKey::from_slice(private).map_err(|_| {
                        Error::invalid_key("the P-256 scalar is 0 or not below the group order")
                    })?);
                Ok(Material::P256 {
                    verifying: *signing.verifying_key(),
                    signing: Some(signing),
                })
            }
        }
    }

    fn public_jwk(&self, kid: &str, alg: Algorithm) -> Option<Jwk> {
        match self {
            Material::Hmac { .. } => None,
            Material::Ed25519 { verifying, .. } => Some(Jwk::public(
                "OKP",
                "Ed25519",
                verifying.as_bytes(),
                None,
                kid,
                alg,
            )),
            Material::P256 { verifying, .. } => {
                let point = verifying.to_encoded_point(false);
                // An uncompressed point that is not the identity has both coordinates,
                // and a verifying key is never the identity.
                Some(Jwk::public(
                    "EC",
                    "P-256",
                    point.x()?,
                    Some(point.y()?),
                    kid,
                    alg,
                ))
            }
        }
    }
}

/// Decodes a JWK coordinate: canonical unpadded base64url of exactly 32 bytes.
fn coordinate(encoded: Option<&str>) -> Result<[u8; PRIVATE_KEY_LEN], Error> {
    let bytes = compact::decode_segment(
        encoded.ok_or(Error::invalid_key("the JWK lacks a coordinate (x or y)"))?,
    )
    .map_err(|_| Error::invalid_key("a JWK coordinate is not canonical base64url"))?;
    <[u8; PRIVATE_KEY_LEN]>::try_from(bytes.as_slice())
        .map_err(|_| Error::invalid_key("a JWK coordinate is not 32 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Ed25519 identity point, encoded (y = 1).
    const IDENTITY: [u8; 32] = {
        let mut bytes = [0u8; 32];
        bytes[0] = 1;
        bytes
    };

    /// `from_jwk` refuses weak keys, so only a key built here reaches `verifies`
    /// with one: under the identity key, the signature (R = identity, S = 0) passes
    /// the lax check for every message. `verify_strict` must refuse it.
    #[test]
    fn ed25519_verification_is_strict() {
        let verifying = ed25519_dalek::VerifyingKey::from_bytes(&IDENTITY).unwrap();
        let mut forged = [0u8; 64];
        forged[..32].copy_from_slice(&IDENTITY);
        let signature = ed25519_dalek::Signature::from_bytes(&forged);
        assert!(verifying.verify(b"any message", &signature).is_ok());

        let key = Key::assemble(
            "weak".into(),
            Material::Ed25519 {
                verifying,
                signing: None,
            },
        );
        assert!(!key.verifies(b"any message", &forged));
    }

    #[test]
    fn generated_keys_are_drawn_afresh_and_named_by_thumbprint() {
        for alg in [Algorithm::EdDSA, Algorithm::ES256] {
            let key = Key::generate(alg).unwrap();
            let jwk = key.public_jwk().unwrap();
            assert_eq!(key.id(), jwk.thumbprint().unwrap());
            assert_eq!(jwk.kid.as_deref(), Some(key.id()));
            let again = Key::generate(alg).unwrap();
            assert_ne!(
                key.private_bytes().unwrap().expose(),
                again.private_bytes().unwrap().expose()
            );
        }
    }

    #[test]
    fn a_public_key_cannot_sign() {
        let pair = Key::from_private_bytes("k", Algorithm::ES256, &Secret::new([5u8; 32])).unwrap();
        let public = Key::from_jwk(&pair.public_jwk().unwrap()).unwrap();
        let err = public
            .sign_into(b"message", &mut String::new())
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidKey);
        let mut signature = String::new();
        pair.sign_into(b"message", &mut signature).unwrap();
        let bytes = compact::decode_segment(&signature).unwrap();
        assert!(public.verifies(b"message", &bytes));
    }
}
