//! Feeds arbitrary input to every token parser of the crate; any panic is a bug.
//!
//! ```text
//! cd crates/tessera-token/fuzz && mkdir -p corpus/verify
//! cargo +nightly fuzz run verify corpus/verify seeds/verify -- -max_total_time=30
//! ```
//! `seeds/verify` holds signed tokens (HS256, EdDSA, ES256), a legacy token and
//! header/claims pairs; libFuzzer writes what it finds to the ignored `corpus/verify`.

#![no_main]

use std::sync::LazyLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::Signer as _;
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::{Sha256, Sha512};
use tessera_token::legacy::LegacyVerifier;
use tessera_token::{Algorithm, Key, KeySet, Secret, decode_unverified};

const SECRET: &[u8] = b"fuzz secret one";
/// The private parts of the EdDSA key "ed" and the ES256 key "es".
const ED_SEED: [u8; 32] = [0x11; 32];
const ES_SCALAR: [u8; 32] = [0x22; 32];

/// Two HMAC keys, an EdDSA and an ES256 key pair, and the widest leeway, so kid
/// lookup, the algorithm binding and date arithmetic all run.
static KEYS: LazyLock<KeySet> = LazyLock::new(|| {
    let private = |id, alg, bytes: [u8; 32]| {
        Key::from_private_bytes(id, alg, &Secret::new(bytes)).expect("fixed test key")
    };
    KeySet::new(Key::new("k1", Secret::new(SECRET)))
        .with_verification_key(Key::new("k2", Secret::new("fuzz secret two")))
        .with_verification_key(private("ed", Algorithm::EdDSA, ED_SEED))
        .with_verification_key(private("es", Algorithm::ES256, ES_SCALAR))
        .with_leeway(u32::MAX)
});

/// The public halves only, as a resource server holds them.
static PUBLIC: LazyLock<KeySet> =
    LazyLock::new(|| KeySet::from_jwks(&KEYS.jwks()).expect("own JWKS").with_leeway(u32::MAX));

fn run_all(token: &str) {
    // The default lifetime bound, and the widest, so the date checks behind it run too.
    let legacy = LegacyVerifier::new(Secret::new(SECRET));
    let unbounded = LegacyVerifier::new(Secret::new(SECRET)).with_max_lifetime(Duration::MAX);
    for now in [
        DateTime::UNIX_EPOCH,
        DateTime::<Utc>::MAX_UTC,
        DateTime::<Utc>::MIN_UTC,
    ] {
        let _ = KEYS.verify(token, now);
        let _ = PUBLIC.verify(token, now);
        let _ = legacy.verify(token, now);
        let _ = unbounded.verify(token, now);
    }
    let _ = decode_unverified(token);
}

/// Encodes `header` and `payload` and signs them with `SECRET`, so the parsing
/// behind the MAC check is reached, which random bytes almost never do.
fn hmac_signed<M: Mac + hmac::digest::KeyInit>(header: &[u8], payload: &[u8]) -> Option<String> {
    let input = signing_input(header, payload);
    let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(SECRET).ok()?;
    Mac::update(&mut mac, input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    Some(format!("{input}.{signature}"))
}

/// The same with the EdDSA or ES256 key, for the parsing behind those signatures.
fn asymmetric_signed(alg: Algorithm, header: &[u8], payload: &[u8]) -> Option<String> {
    let input = signing_input(header, payload);
    let signature = match alg {
        Algorithm::EdDSA => ed25519_dalek::SigningKey::from_bytes(&ED_SEED)
            .sign(input.as_bytes())
            .to_bytes()
            .to_vec(),
        _ => {
            let signature: p256::ecdsa::Signature = p256::ecdsa::SigningKey::from_slice(&ES_SCALAR)
                .ok()?
                .sign(input.as_bytes());
            signature.to_bytes().to_vec()
        }
    };
    Some(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

fn signing_input(header: &[u8], payload: &[u8]) -> String {
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    )
}

fuzz_target!(|data: &[u8]| {
    if let Ok(token) = std::str::from_utf8(data) {
        run_all(token);
    }
    // The input as "header JSON \n claims JSON", correctly signed every way; without
    // a newline, the whole input is the claims under each key's usual header.
    let (header, payload) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (Some(&data[..at]), &data[at + 1..]),
        None => (None, data),
    };
    let header_or = |default: &'static [u8]| header.unwrap_or(default);
    for token in [
        hmac_signed::<Hmac<Sha256>>(header_or(br#"{"alg":"HS256","kid":"k1"}"#), payload),
        hmac_signed::<Hmac<Sha512>>(header_or(br#"{"alg":"HS512","kid":"k1"}"#), payload),
        asymmetric_signed(Algorithm::EdDSA, header_or(br#"{"alg":"EdDSA","kid":"ed"}"#), payload),
        asymmetric_signed(Algorithm::ES256, header_or(br#"{"alg":"ES256","kid":"es"}"#), payload),
    ]
    .into_iter()
    .flatten()
    {
        run_all(&token);
    }
});
