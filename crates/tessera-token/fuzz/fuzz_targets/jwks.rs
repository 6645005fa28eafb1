//! Feeds arbitrary input to the JWK and JWK Set parsers; any panic is a bug, and
//! so is a JWK that imports but does not survive its own export.
//!
//! ```text
//! cd crates/tessera-token/fuzz && mkdir -p corpus/jwks
//! cargo +nightly fuzz run jwks corpus/jwks seeds/jwks -- -max_total_time=30
//! ```
//! `seeds/jwks` holds JWK Sets with Ed25519, P-256, RSA and oct members.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_token::{Jwk, Jwks, Key, KeySet};

/// What the crate promises about a key it accepted from a JWK.
fn check_imported(jwk: &Jwk, key: &Key) {
    assert!(!key.can_sign(), "a JWK gave a key that signs");
    assert!(key.private_bytes().is_none());
    assert_eq!(Some(key.id()), jwk.kid.as_deref());
    let exported = key.public_jwk().expect("an imported key has a public JWK");
    let again = Key::from_jwk(&exported).expect("an exported JWK imports");
    assert_eq!(again.public_jwk().as_ref(), Some(&exported));
    assert_eq!(
        exported.thumbprint().expect("exported thumbprint"),
        jwk.thumbprint().expect("accepted thumbprint"),
    );
}

fuzz_target!(|data: &[u8]| {
    if let Ok(jwks) = Jwks::from_json(data) {
        for jwk in &jwks.keys {
            let _ = jwk.thumbprint();
            if let Ok(key) = Key::from_jwk(jwk) {
                check_imported(jwk, &key);
            }
        }
        if let Ok(keys) = KeySet::from_jwks(&jwks) {
            assert!(keys.signing_key_id().is_none());
            assert!(keys.keys().all(|key| !key.can_sign()));
            let republished = keys.jwks();
            let reread = KeySet::from_jwks(&republished).expect("a republished set imports");
            assert_eq!(reread.jwks(), republished);
        }
    }
    // A single JWK, as a caller holding one might parse it with serde.
    if let Ok(jwk) = serde_json::from_slice::<Jwk>(data) {
        let _ = jwk.thumbprint();
        if let Ok(key) = Key::from_jwk(&jwk) {
            check_imported(&jwk, &key);
        }
    }
});
