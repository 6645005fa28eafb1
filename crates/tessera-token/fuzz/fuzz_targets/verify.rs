//! Feeds arbitrary input to every parser of the crate; any panic is a bug.
//!
//! ```text
//! cd crates/tessera-token/fuzz && mkdir -p corpus/verify
//! cargo +nightly fuzz run verify corpus/verify seeds/verify -- -max_total_time=30
//! ```
//! `seeds/verify` holds a signed token, a legacy token and header/claims pairs;
//! libFuzzer writes what it finds to the ignored `corpus/verify`.

#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::{Sha256, Sha512};
use tessera_token::legacy::LegacyVerifier;
use tessera_token::{Key, KeySet, Secret, decode_unverified};

const SECRET: &[u8] = b"fuzz secret one";

fn run_all(token: &str) {
    // Two keys and the widest leeway, so kid lookup and date arithmetic run too.
    let keys = KeySet::new(Key::new("k1", Secret::new(SECRET)))
        .with_verification_key(Key::new("k2", Secret::new("fuzz secret two")))
        .with_leeway(u32::MAX);
    // The default lifetime bound, and the widest, so the date checks behind it run too.
    let legacy = LegacyVerifier::new(Secret::new(SECRET));
    let unbounded = LegacyVerifier::new(Secret::new(SECRET)).with_max_lifetime(Duration::MAX);
    for now in [
        DateTime::UNIX_EPOCH,
        DateTime::<Utc>::MAX_UTC,
        DateTime::<Utc>::MIN_UTC,
    ] {
        let _ = keys.verify(token, now);
        let _ = legacy.verify(token, now);
        let _ = unbounded.verify(token, now);
    }
    let _ = decode_unverified(token);
}

/// Encodes `header` and `payload` and signs them with `SECRET`, so the parsing
/// behind the MAC check is reached, which random bytes almost never do.
fn signed<M: Mac + hmac::digest::KeyInit>(header: &[u8], payload: &[u8]) -> Option<String> {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(SECRET).ok()?;
    Mac::update(&mut mac, input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    Some(format!("{input}.{signature}"))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(token) = std::str::from_utf8(data) {
        run_all(token);
    }
    // The input as "header JSON \n claims JSON", correctly signed both ways.
    let (header, payload) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (&br#"{"alg":"HS256","kid":"k1"}"#[..], data),
    };
    for token in [
        signed::<Hmac<Sha256>>(header, payload),
        signed::<Hmac<Sha512>>(header, payload),
    ]
    .into_iter()
    .flatten()
    {
        run_all(&token);
    }
});
