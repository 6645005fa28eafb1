//! Shared keys, clock and token forgery for the tests.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, TimeZone, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tessera_token::{Claims, Key, KeySet, Secret};

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
