//! EdDSA and ES256 next to HS256: the algorithm is bound to the key, and every
//! known algorithm-confusion trick fails.

use ed25519_dalek::pkcs8::EncodePublicKey;
use tessera_token::{Algorithm, ErrorKind, Key, KeySet, Secret, decode_unverified};

use crate::support::*;

fn verify_kind(keys: &KeySet, token: &str) -> ErrorKind {
    keys.verify(token, t0()).unwrap_err().kind()
}

fn header(alg: &str, kid: Option<&str>) -> Vec<u8> {
    match kid {
        Some(kid) => format!(r#"{{"alg":"{alg}","typ":"JWT","kid":"{kid}"}}"#),
        None => format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#),
    }
    .into_bytes()
}

#[test]
fn every_algorithm_signs_and_verifies_with_the_documented_header() {
    for keys in key_sets() {
        let token = keys.sign(&claims()).unwrap();
        assert_eq!(keys.verify(&token, t0()).unwrap(), claims());
        let (header, _) = decode_unverified(&token).unwrap();
        let key = keys.keys().next().unwrap();
        assert_eq!(
            header,
            serde_json::json!({"alg": key.algorithm().as_str(), "typ": "JWT", "kid": key.id()})
        );
        // The exact bytes, in this member order, are what the fast path recognises.
        let expected = b64(&header_bytes(key));
        assert_eq!(token.split('.').next().unwrap(), expected);
        assert_eq!(keys.signing_algorithm(), Some(key.algorithm()));
    }
}

fn header_bytes(key: &Key) -> Vec<u8> {
    header(key.algorithm().as_str(), Some(key.id()))
}

#[test]
fn a_public_key_verifies_what_its_private_half_signed() {
    for key in [ed_key(), es_key()] {
        let token = KeySet::new(key.clone()).sign(&claims()).unwrap();
        let resource_server = KeySet::verifying([public(&key)]);
        assert_eq!(resource_server.verify(&token, t0()).unwrap(), claims());
    }
}

#[test]
fn signing_is_deterministic_for_every_algorithm() {
    // EdDSA by definition, ES256 by RFC 6979: the same claims give the same token.
    for keys in key_sets() {
        assert_eq!(keys.sign(&claims()).unwrap(), keys.sign(&claims()).unwrap());
    }
}

#[test]
fn respelled_headers_are_parsed_and_still_bound_to_the_key() {
    for (alg, kid) in [(Algorithm::EdDSA, ED_KID), (Algorithm::ES256, ES_KID)] {
        let keys = KeySet::new(ed_key()).with_verification_key(es_key());
        let respelled = format!(r#"{{ "kid" : "{kid}", "alg" : "{alg}" }}"#);
        let token = forge_with(alg, respelled.as_bytes(), PAYLOAD);
        assert_eq!(keys.verify(&token, t0()).unwrap().sub, "42", "{alg}");
        let kidless = forge_with(alg, format!(r#"{{"alg":"{alg}"}}"#).as_bytes(), PAYLOAD);
        assert_eq!(keys.verify(&kidless, t0()).unwrap().sub, "42", "{alg}");
    }
}

#[test]
fn a_kid_whose_key_has_another_algorithm_is_unsupported() {
    let keys = KeySet::new(Key::new(KID, Secret::new(SECRET)))
        .with_verification_key(ed_key())
        .with_verification_key(es_key());
    // Each token correctly signed with the algorithm in its header, but naming
    // the kid of a key of another algorithm.
    for (alg, kid) in [
        (Algorithm::HS256, ED_KID),
        (Algorithm::HS256, ES_KID),
        (Algorithm::EdDSA, KID),
        (Algorithm::EdDSA, ES_KID),
        (Algorithm::ES256, KID),
        (Algorithm::ES256, ED_KID),
    ] {
        let token = forge_with(alg, &header(alg.as_str(), Some(kid)), PAYLOAD);
        assert_eq!(
            verify_kind(&keys, &token),
            ErrorKind::UnsupportedAlgorithm,
            "{alg} token naming {kid}"
        );
    }
    // A kid no key has is UnknownKey, whatever the alg.
    for alg in ["HS256", "EdDSA", "ES256"] {
        let token = forge(&header(alg, Some("nobody")), PAYLOAD);
        assert_eq!(verify_kind(&keys, &token), ErrorKind::UnknownKey, "{alg}");
    }
}

#[test]
fn without_kid_only_keys_of_the_header_algorithm_are_tried() {
    // No key of the token's algorithm: unsupported, not a bad signature.
    for (alg, keys) in [
        (Algorithm::EdDSA, keys()),
        (Algorithm::ES256, keys()),
        (Algorithm::HS256, KeySet::new(ed_key())),
        (Algorithm::ES256, KeySet::new(ed_key())),
        (Algorithm::HS256, KeySet::verifying([public(&es_key())])),
        (Algorithm::EdDSA, KeySet::new(es_key())),
    ] {
        let token = forge_with(alg, &header(alg.as_str(), None), PAYLOAD);
        assert_eq!(
            verify_kind(&keys, &token),
            ErrorKind::UnsupportedAlgorithm,
            "{alg}"
        );
    }
    // With keys of that algorithm, each is tried: the right one verifies.
    let other_ed =
        Key::from_private_bytes("ed-0", Algorithm::EdDSA, &Secret::new([0x33; 32])).unwrap();
    let keys = KeySet::new(other_ed).with_verification_key(ed_key());
    let token = forge_with(Algorithm::EdDSA, &header("EdDSA", None), PAYLOAD);
    assert_eq!(keys.verify(&token, t0()).unwrap().sub, "42");
}

#[test]
fn unknown_missing_and_none_algorithms_are_unsupported_for_every_key_set() {
    let everything = KeySet::new(Key::new(KID, Secret::new(SECRET)))
        .with_verification_key(ed_key())
        .with_verification_key(es_key());
    for header in [
        r#"{"alg":"none"}"#,
        r#"{"alg":"none","kid":"ed-1"}"#,
        r#"{"typ":"JWT","kid":"es-1"}"#,
        r#"{"alg":"eddsa","kid":"ed-1"}"#,
        r#"{"alg":"Ed25519","kid":"ed-1"}"#,
        r#"{"alg":"ES256K","kid":"es-1"}"#,
        r#"{"alg":"ES384","kid":"es-1"}"#,
        r#"{"alg":"RS256","kid":"es-1"}"#,
        r#"{"alg":["EdDSA"],"kid":"ed-1"}"#,
        r#"{"alg":null,"kid":"ed-1"}"#,
    ] {
        for alg in [Algorithm::HS256, Algorithm::EdDSA, Algorithm::ES256] {
            let token = forge_with(alg, header.as_bytes(), PAYLOAD);
            assert_eq!(
                verify_kind(&everything, &token),
                ErrorKind::UnsupportedAlgorithm,
                "{header} signed {alg}"
            );
        }
    }
    let unsigned = format!("{}.{}.", b64(br#"{"alg":"none"}"#), b64(PAYLOAD));
    assert_eq!(
        verify_kind(&KeySet::verifying([public(&ed_key())]), &unsigned),
        ErrorKind::UnsupportedAlgorithm
    );
}

/// Every form of a public key that an attacker might use as an HMAC secret.
fn public_key_forms(key: &Key) -> Vec<(&'static str, Vec<u8>)> {
    let jwk = key.public_jwk().unwrap();
    let x = base64_decode(jwk.x.as_deref().unwrap());
    let mut forms = vec![
        ("JWK JSON", serde_json::to_vec(&jwk).unwrap()),
        (
            "JWKS JSON",
            serde_json::to_vec(&KeySet::new(key.clone()).jwks()).unwrap(),
        ),
        ("x as text", jwk.x.clone().unwrap().into_bytes()),
    ];
    match key.algorithm() {
        Algorithm::EdDSA => {
            let verifying = ed25519_dalek::SigningKey::from_bytes(&ED_SEED).verifying_key();
            forms.push(("raw", x));
            forms.extend(pem_and_der(&verifying));
        }
        _ => {
            let y = base64_decode(jwk.y.as_deref().unwrap());
            let verifying = *p256::ecdsa::SigningKey::from_slice(&ES_SCALAR)
                .unwrap()
                .verifying_key();
            forms.push(("SEC1 uncompressed", [&[4u8][..], &x, &y].concat()));
            forms.push((
                "SEC1 compressed",
                verifying.to_encoded_point(true).as_bytes().to_vec(),
            ));
            forms.extend(pem_and_der(&verifying));
        }
    }
    forms
}

/// The SubjectPublicKeyInfo encodings of a public key, as PEM text and as DER.
fn pem_and_der(key: &impl EncodePublicKey) -> [(&'static str, Vec<u8>); 2] {
    [
        (
            "PEM",
            key.to_public_key_pem(Default::default())
                .unwrap()
                .into_bytes(),
        ),
        ("DER", key.to_public_key_der().unwrap().as_bytes().to_vec()),
    ]
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}

/// The classic attack (RFC 8725 §2.1): an HS256 token MACed with the bytes of a
/// public key the verifier holds, hoping the verifier uses those bytes as a secret.
#[test]
fn hs256_tokens_macd_with_a_public_key_are_refused() {
    for key in [ed_key(), es_key()] {
        let resource_server = KeySet::verifying([public(&key)]);
        // A verifier that also holds an HMAC key, and so tries HS256 tokens without kid.
        let mixed =
            KeySet::new(Key::new(KID, Secret::new(SECRET))).with_verification_key(public(&key));
        for (form, bytes) in public_key_forms(&key) {
            let label = format!("{:?} as {form}", key.algorithm());
            let named = sign_segments(
                &b64(&header("HS256", Some(key.id()))),
                &b64(PAYLOAD),
                &bytes,
            );
            let unnamed = sign_segments(&b64(&header("HS256", None)), &b64(PAYLOAD), &bytes);
            for keys in [&resource_server, &mixed] {
                assert_eq!(
                    verify_kind(keys, &named),
                    ErrorKind::UnsupportedAlgorithm,
                    "{label}"
                );
            }
            assert_eq!(
                verify_kind(&resource_server, &unnamed),
                ErrorKind::UnsupportedAlgorithm,
                "{label}"
            );
            // Tried only against the real HMAC key, which did not make it.
            assert_eq!(
                verify_kind(&mixed, &unnamed),
                ErrorKind::BadSignature,
                "{label}"
            );
        }
    }
}

#[test]
fn hmac_keys_never_verify_asymmetric_tokens() {
    // EdDSA and ES256 headers whose signature segment is an HMAC with the shared
    // secret: the HMAC key is never a candidate for them.
    let keys = keys();
    for alg in ["EdDSA", "ES256"] {
        for kid in [Some(KID), None] {
            let token = forge(&header(alg, kid), PAYLOAD);
            assert_eq!(
                verify_kind(&keys, &token),
                ErrorKind::UnsupportedAlgorithm,
                "{alg} {kid:?}"
            );
        }
    }
}

#[test]
fn a_token_signed_by_one_key_fails_under_another_of_the_same_algorithm() {
    for alg in [Algorithm::EdDSA, Algorithm::ES256] {
        let signer = KeySet::new(Key::generate(alg).unwrap());
        let token = signer.sign(&claims()).unwrap();
        let impostor = Key::generate(alg).unwrap();
        // Same kid, other key: a bad signature, never a fallback to another key.
        let id = signer.signing_key_id().unwrap();
        let same_id = Key::from_private_bytes(id, alg, &impostor.private_bytes().unwrap()).unwrap();
        assert_eq!(
            verify_kind(&KeySet::new(same_id), &token),
            ErrorKind::BadSignature,
            "{alg}"
        );
        assert_eq!(
            verify_kind(&KeySet::new(impostor), &token),
            ErrorKind::UnknownKey,
            "{alg}"
        );
    }
}

#[test]
fn es256_takes_exactly_r_and_s_and_refuses_der() {
    let keys = KeySet::new(es_key());
    let token = keys.sign(&claims()).unwrap();
    let (input, signature) = token.rsplit_once('.').unwrap();
    let raw = base64_decode(signature);
    assert_eq!(raw.len(), 64);
    let der = p256::ecdsa::Signature::from_slice(&raw).unwrap().to_der();
    let with = |bytes: &[u8]| format!("{input}.{}", b64(bytes));
    assert_eq!(
        verify_kind(&keys, &with(der.as_bytes())),
        ErrorKind::BadSignature
    );
    for bad in [
        raw[..63].to_vec(),
        [&raw[..], &[0]].concat(),
        [&[0], &raw[..]].concat(),
        vec![0; 64],
        vec![0xff; 64],
        [&raw[..32], &[0; 32]].concat(),
        [&[0; 32], &raw[32..]].concat(),
    ] {
        assert_eq!(verify_kind(&keys, &with(&bad)), ErrorKind::BadSignature);
    }
    assert!(keys.verify(&with(&raw), t0()).is_ok());
}

#[test]
fn eddsa_takes_exactly_64_bytes_and_refuses_non_canonical_s() {
    let keys = KeySet::new(ed_key());
    let token = keys.sign(&claims()).unwrap();
    let (input, signature) = token.rsplit_once('.').unwrap();
    let raw = base64_decode(signature);
    let with = |bytes: &[u8]| format!("{input}.{}", b64(bytes));
    // S + ℓ: the same S modulo the group order, which a lax verifier accepts.
    let order: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut s_plus_order = raw.clone();
    let mut carry = 0u16;
    for (byte, add) in s_plus_order[32..].iter_mut().zip(order) {
        let sum = u16::from(*byte) + u16::from(add) + carry;
        *byte = sum as u8;
        carry = sum >> 8;
    }
    for bad in [
        s_plus_order,
        raw[..63].to_vec(),
        [&raw[..], &[0]].concat(),
        vec![0; 64],
    ] {
        assert_eq!(verify_kind(&keys, &with(&bad)), ErrorKind::BadSignature);
    }
    assert!(keys.verify(&with(&raw), t0()).is_ok());
}

#[test]
fn verify_only_key_sets_refuse_to_sign_and_name_no_signing_key() {
    for key in [ed_key(), es_key()] {
        let public = public(&key);
        assert!(!public.can_sign());
        assert!(public.private_bytes().is_none());
        for keys in [
            KeySet::verifying([public.clone()]),
            KeySet::new(public.clone()),
        ] {
            assert_eq!(keys.signing_key_id(), None);
            assert_eq!(keys.signing_algorithm(), None);
            let err = keys.sign(&claims()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidKey);
            assert!(err.to_string().contains("only verifies"), "{err}");
            assert_eq!(keys.keys().count(), 1);
        }
    }
    assert_eq!(KeySet::verifying([]).keys().count(), 0);
    assert_eq!(
        verify_kind(&KeySet::verifying([]), &keys().sign(&claims()).unwrap()),
        ErrorKind::UnknownKey
    );
}

#[test]
fn generated_keys_are_fresh_named_by_thumbprint_and_restorable() {
    for alg in [Algorithm::EdDSA, Algorithm::ES256] {
        let (a, b) = (Key::generate(alg).unwrap(), Key::generate(alg).unwrap());
        assert_ne!(a.id(), b.id(), "{alg}");
        assert_ne!(
            a.private_bytes().unwrap().expose(),
            b.private_bytes().unwrap().expose()
        );
        assert_eq!(a.id(), a.public_jwk().unwrap().thumbprint().unwrap());
        assert_eq!(a.id().len(), 43, "base64url of a SHA-256 digest");
        assert_eq!(a.algorithm(), alg);

        let stored = a.private_bytes().unwrap();
        assert_eq!(stored.expose().len(), 32);
        let restored = Key::from_private_bytes(a.id(), alg, &stored).unwrap();
        assert_eq!(restored.public_jwk(), a.public_jwk());
        let token = KeySet::new(restored).sign(&claims()).unwrap();
        assert_eq!(KeySet::new(a).verify(&token, t0()).unwrap(), claims());
    }
    let err = Key::generate(Algorithm::HS256).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidKey);
}

#[test]
fn private_bytes_of_the_wrong_length_or_range_are_refused() {
    // The P-256 group order n, and n − 1 (the largest valid scalar).
    let order = base64_decode("_____wAAAAD__________7zm-q2nF56E87nKwvxjJVE");
    let mut largest = order.clone();
    largest[31] -= 1;
    assert!(Key::from_private_bytes("k", Algorithm::ES256, &Secret::new(largest)).is_ok());
    for (alg, bytes) in [
        (Algorithm::ES256, vec![0u8; 32]),
        (Algorithm::ES256, order),
        (Algorithm::ES256, vec![0xff; 32]),
        (Algorithm::ES256, vec![1u8; 31]),
        (Algorithm::ES256, vec![1u8; 24]),
        (Algorithm::ES256, vec![1u8; 33]),
        (Algorithm::EdDSA, vec![1u8; 31]),
        (Algorithm::EdDSA, vec![1u8; 33]),
        (Algorithm::EdDSA, vec![1u8; 64]),
        (Algorithm::EdDSA, Vec::new()),
    ] {
        let err = Key::from_private_bytes("k", alg, &Secret::new(bytes.clone())).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidKey, "{alg} {}", bytes.len());
    }
    // HS256 takes any secret, as Key::new does.
    let hmac = Key::from_private_bytes("k", Algorithm::HS256, &Secret::new("s")).unwrap();
    assert_eq!(hmac.private_bytes().unwrap().expose(), b"s");
    assert_eq!(hmac.algorithm(), Algorithm::HS256);
}

#[test]
fn private_material_never_shows_in_debug_output() {
    let keys = KeySet::new(Key::generate(Algorithm::EdDSA).unwrap())
        .with_verification_key(Key::generate(Algorithm::ES256).unwrap())
        .with_verification_key(ed_key())
        .with_verification_key(es_key())
        .with_verification_key(public(&ed_key()))
        .with_verification_key(Key::new(KID, Secret::new(SECRET)));
    let debug = format!("{keys:?} {:#?}", keys.keys().collect::<Vec<_>>());
    for key in keys.keys() {
        let private = key.private_bytes().unwrap_or_else(|| Secret::new(""));
        let bytes = private.expose();
        if bytes.is_empty() {
            continue;
        }
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        for form in [
            format!("{bytes:?}"),
            format!("{bytes:#?}"),
            hex.clone(),
            hex.to_uppercase(),
            b64(bytes),
            String::from_utf8_lossy(bytes).into_owned(),
        ] {
            assert!(!debug.contains(&form), "{} leaks {form}", key.id());
        }
        // Not even a part of it: no run of eight bytes in hex.
        for window in hex.as_bytes().chunks(16) {
            assert!(!debug.contains(std::str::from_utf8(window).unwrap()));
        }
    }
    assert!(debug.contains("private: Some(<redacted>)"), "{debug}");
    assert!(debug.contains("private: None"), "{debug}");
    assert!(debug.contains("Secret(<redacted>)"), "{debug}");
    assert!(debug.contains(ED_KID) && debug.contains("EdDSA") && debug.contains("ES256"));
}
