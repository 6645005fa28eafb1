//! Shared keys, clock and token forgery for the tests.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, TimeZone, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tessera_token::{Algorithm, Claims, Key, KeySet, Secret};

pub const SECRET: &[u8] = b"a test secret of 32 bytes, fixed";
pub const KID: &str = "k1";

pub fn keys() -> KeySet {
    KeySet::new(Key::new(KID, Secret::new(SECRET)))
}

/// 2024-01-01T00:00:00Z, the issue time of [`claims`].
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap()
}

pub fn ts(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap()
}

/// A typical access token's claims: issued at [`t0`], valid for 15 minutes.
pub fn claims() -> Claims {
    Claims::new("42", "jti-1", t0(), Duration::minutes(15)).with_sid("session-7")
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn hmac_sha256(secret: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// `header.payload.signature` with a correct HS256 signature over whatever
/// encoded segments are given, so tests reach the checks behind the MAC.
pub fn sign_segments(header_b64: &str, payload_b64: &str, secret: &[u8]) -> String {
    let input = format!("{header_b64}.{payload_b64}");
    let signature = b64(&hmac_sha256(secret, input.as_bytes()));
    format!("{input}.{signature}")
}

/// A correctly HS256-signed token with arbitrary header and payload bytes.
pub fn forge(header: &[u8], payload: &[u8]) -> String {
    sign_segments(&b64(header), &b64(payload), SECRET)
}

/// The header this crate issues with [`KID`].
pub const HEADER: &[u8] = br#"{"alg":"HS256","typ":"JWT","kid":"k1"}"#;
/// Payload valid at [`t0`] (iat 2024-01-01, 15 minutes).
pub const PAYLOAD: &[u8] = br#"{"sub":"42","iat":1704067200,"exp":1704068100,"jti":"jti-1"}"#;

/// The private parts of the fixed EdDSA and ES256 test keys.
pub const ED_SEED: [u8; 32] = [0x11; 32];
pub const ES_SCALAR: [u8; 32] = [0x22; 32];
pub const ED_KID: &str = "ed-1";
pub const ES_KID: &str = "es-1";

pub fn ed_key() -> Key {
    Key::from_private_bytes(ED_KID, Algorithm::EdDSA, &Secret::new(ED_SEED)).unwrap()
}

pub fn es_key() -> Key {
    Key::from_private_bytes(ES_KID, Algorithm::ES256, &Secret::new(ES_SCALAR)).unwrap()
}

/// The verify-only copy of `key`, as a resource server gets it from a JWKS.
pub fn public(key: &Key) -> Key {
    Key::from_jwk(&key.public_jwk().unwrap()).unwrap()
}

/// One signing key set per algorithm: HS256, EdDSA, ES256.
pub fn key_sets() -> [KeySet; 3] {
    [keys(), KeySet::new(ed_key()), KeySet::new(es_key())]
}

/// `header.payload.signature` with a correct signature of `alg`, made with the
/// fixed test key of that algorithm, over whatever segments are given.
pub fn sign_segments_with(alg: Algorithm, header_b64: &str, payload_b64: &str) -> String {
    use ed25519_dalek::Signer as _;
    let input = format!("{header_b64}.{payload_b64}");
    let signature = match alg {
        Algorithm::HS256 => hmac_sha256(SECRET, input.as_bytes()),
        Algorithm::EdDSA => ed25519_dalek::SigningKey::from_bytes(&ED_SEED)
            .sign(input.as_bytes())
            .to_bytes()
            .to_vec(),
        Algorithm::ES256 => {
            let signature: p256::ecdsa::Signature = p256::ecdsa::SigningKey::from_slice(&ES_SCALAR)
                .unwrap()
                .sign(input.as_bytes());
            signature.to_bytes().to_vec()
        }
    };
    format!("{input}.{}", b64(&signature))
}

/// A correctly signed token of `alg` with arbitrary header and payload bytes.
pub fn forge_with(alg: Algorithm, header: &[u8], payload: &[u8]) -> String {
    sign_segments_with(alg, &b64(header), &b64(payload))
}
