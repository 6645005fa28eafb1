//! The legacy verifier against known-answer tokens from itsdangerous 1.1.0
//! (`tests/fixtures/legacy_tokens.json`, made by `make_legacy_tokens.py`).

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha512;
use tessera_token::legacy::{LegacyAlgorithm, LegacyClaims, LegacyVerifier};
use tessera_token::{ErrorKind, Key, KeySet, Secret};

use crate::support::{b64, sign_segments, ts};

const FIXTURES: &str = include_str!("../fixtures/legacy_tokens.json");
const ISSUED_AT: i64 = 1_700_000_000;
const EXPIRES_AT: i64 = 1_700_000_600;
const SECRET: &str = "hard to guess string";

struct Fixture {
    secret: String,
    algorithm: String,
    id: i64,
    token: String,
}

fn fixture(name: &str) -> Fixture {
    let all: Value = serde_json::from_str(FIXTURES).unwrap();
    assert_eq!(all["issued_at"], ISSUED_AT);
    assert_eq!(all["expires_at"], EXPIRES_AT);
    let entry = &all["tokens"][name];
    Fixture {
        secret: entry["secret"].as_str().unwrap().to_owned(),
        algorithm: entry["algorithm"].as_str().unwrap().to_owned(),
        id: entry["payload"]["id"].as_i64().unwrap(),
        token: entry["token"].as_str().unwrap().to_owned(),
    }
}

fn verifier() -> LegacyVerifier {
    LegacyVerifier::new(Secret::new(SECRET))
}

fn kind(token: &str) -> ErrorKind {
    verifier()
        .verify(token, ts(ISSUED_AT + 60))
        .unwrap_err()
        .kind()
}

fn hmac_sha512(message: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha512> as Mac>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// A token in the itsdangerous layout with a correct HS512 signature.
fn forge_hs512(header: &str, payload: &str) -> String {
    let input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let signature = b64(&hmac_sha512(input.as_bytes()));
    format!("{input}.{signature}")
}

#[test]
fn reference_tokens_verify_inside_their_window() {
    let cases = [
        ("hs512_default", LegacyAlgorithm::Hs512),
        ("hs256", LegacyAlgorithm::Hs256),
        ("hs384", LegacyAlgorithm::Hs384),
        ("hs512_unicode_secret", LegacyAlgorithm::Hs512),
        ("hs512_extra_header_field", LegacyAlgorithm::Hs512),
    ];
    for (name, alg) in cases {
        let fixture = fixture(name);
        assert_eq!(fixture.algorithm, alg.as_str());
        let verifier = LegacyVerifier::new(Secret::new(fixture.secret.as_str()));
        let expected = LegacyClaims {
            id: fixture.id,
            iat: ISSUED_AT,
            exp: EXPIRES_AT,
            alg,
        };
        for now in [ISSUED_AT, ISSUED_AT + 300, EXPIRES_AT] {
            assert_eq!(
                verifier.verify(&fixture.token, ts(now)).unwrap(),
                expected,
                "{name} at {now}"
            );
        }
        let err = verifier
            .verify(&fixture.token, ts(EXPIRES_AT + 1))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Expired, "{name}");
    }
}

#[test]
fn a_wrong_secret_is_a_bad_signature() {
    for name in ["hs512_default", "hs256", "hs384"] {
        let token = fixture(name).token;
        let wrong = LegacyVerifier::new(Secret::new("hard to guess string!"));
        assert_eq!(
            wrong.verify(&token, ts(ISSUED_AT)).unwrap_err().kind(),
            ErrorKind::BadSignature
        );
    }
    // The key is the UTF-8 bytes of the secret string, not e.g. Latin-1.
    let unicode = fixture("hs512_unicode_secret");
    let latin1: Vec<u8> = unicode.secret.chars().map(|c| c as u32 as u8).collect();
    let verifier = LegacyVerifier::new(Secret::new(latin1));
    assert_eq!(
        verifier
            .verify(&unicode.token, ts(ISSUED_AT))
            .unwrap_err()
            .kind(),
        ErrorKind::BadSignature
    );
}

#[test]
fn tampering_with_payload_or_header_is_a_bad_signature() {
    let token = fixture("hs512_default").token;
    let mut parts = token.split('.');
    let (header, _payload, signature) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );

    let admin = format!("{header}.{}.{signature}", b64(br#"{"id":1}"#));
    assert_eq!(kind(&admin), ErrorKind::BadSignature);

    let longer = b64(format!(r#"{{"alg":"HS512","iat":{ISSUED_AT},"exp":9999999999}}"#).as_bytes());
    let extended = format!("{longer}.{}.{signature}", b64(br#"{"id":5}"#));
    assert_eq!(kind(&extended), ErrorKind::BadSignature);
}

#[test]
fn every_single_byte_change_of_a_reference_token_is_rejected() {
    let token = fixture("hs512_default").token;
    let verifier = verifier();
    for index in 0..token.len() {
        for replacement in [b'A', b'g', b'-', b'_', b'.', b'=', b' '] {
            let mut bytes = token.clone().into_bytes();
            if bytes[index] == replacement {
                continue;
            }
            bytes[index] = replacement;
            let changed = String::from_utf8(bytes).unwrap();
            assert!(
                verifier.verify(&changed, ts(ISSUED_AT)).is_err(),
                "{changed}"
            );
        }
    }
}

#[test]
fn only_hs256_hs384_and_hs512_are_accepted() {
    // Made by itsdangerous itself with algorithm_name="none": an empty signature.
    let none = fixture("alg_none").token;
    assert!(none.ends_with('.'));
    assert_eq!(kind(&none), ErrorKind::UnsupportedAlgorithm);

    let dates = format!(r#""iat":{ISSUED_AT},"exp":{EXPIRES_AT}"#);
    for alg in [
        r#""none""#,
        r#""HS1""#,
        r#""RS256""#,
        r#""hs512""#,
        r#""ES512""#,
        "null",
        "512",
    ] {
        // Signed with HMAC-SHA-512 and the real secret, so only `alg` is wrong.
        let token = forge_hs512(&format!(r#"{{"alg":{alg},{dates}}}"#), r#"{"id":5}"#);
        assert_eq!(kind(&token), ErrorKind::UnsupportedAlgorithm, "{alg}");
    }
    let missing = forge_hs512(&format!("{{{dates}}}"), r#"{"id":5}"#);
    assert_eq!(kind(&missing), ErrorKind::UnsupportedAlgorithm);
}

#[test]
fn the_signature_must_match_the_declared_algorithm() {
    // HS512 bytes under an HS256 header, and the reverse, never verify.
    let dates = format!(r#""iat":{ISSUED_AT},"exp":{EXPIRES_AT}"#);
    let relabelled = forge_hs512(&format!(r#"{{"alg":"HS256",{dates}}}"#), r#"{"id":5}"#);
    assert_eq!(kind(&relabelled), ErrorKind::BadSignature);

    let hs256 = sign_segments(
        &b64(format!(r#"{{"alg":"HS512",{dates}}}"#).as_bytes()),
        &b64(br#"{"id":5}"#),
        SECRET.as_bytes(),
    );
    assert_eq!(kind(&hs256), ErrorKind::BadSignature);
}

#[test]
fn header_dates_and_payload_id_are_strict() {
    let cases = [
        (r#"{"alg":"HS512","iat":1700000000}"#, r#"{"id":5}"#),
        (
            r#"{"alg":"HS512","iat":1700000000,"exp":"1700000600"}"#,
            r#"{"id":5}"#,
        ),
        (
            r#"{"alg":"HS512","iat":1700000000,"exp":1700000600.0}"#,
            r#"{"id":5}"#,
        ),
        (
            r#"{"alg":"HS512","iat":1700000000,"exp":-1}"#,
            r#"{"id":5}"#,
        ),
        (
            r#"{"alg":"HS512","iat":1700000000,"exp":1e30}"#,
            r#"{"id":5}"#,
        ),
        (r#"{"alg":"HS512","exp":1700000600}"#, r#"{"id":5}"#),
        (
            r#"{"alg":"HS512","iat":"1700000000","exp":1700000600}"#,
            r#"{"id":5}"#,
        ),
        (
            r#"{"alg":"HS512","iat":1700000000,"exp":1700000600,"exp":1800000000}"#,
            r#"{"id":5}"#,
        ),
        (
            r#"{"alg":"HS512","iat":1700000000,"exp":1700000600}"#,
            r#"{"id":"5"}"#,
        ),
        (
            r#"{"alg":"HS512","iat":1700000000,"exp":1700000600}"#,
            r#"{"id":5.5}"#,
        ),
        (
            r#"{"alg":"HS512","iat":1700000000,"exp":1700000600}"#,
            r#"{"user":5}"#,
        ),
        (
            r#"{"alg":"HS512","iat":1700000000,"exp":1700000600}"#,
            r#"{"id":5,"id":1}"#,
        ),
        (
            r#"{"alg":"HS512","iat":1700000000,"exp":1700000600}"#,
            r#"[5]"#,
        ),
        (
            r#"{"alg":"HS512","iat":1700000000,"exp":1700000600}"#,
            r#"5"#,
        ),
    ];
    for (header, payload) in cases {
        assert_eq!(
            kind(&forge_hs512(header, payload)),
            ErrorKind::Malformed,
            "{header} {payload}"
        );
    }
    // Key order in the header does not matter; extra payload keys are ignored.
    let reordered = forge_hs512(
        r#"{"exp":1700000600,"iat":1700000000,"alg":"HS512"}"#,
        r#"{"id":5,"x":1}"#,
    );
    assert_eq!(verifier().verify(&reordered, ts(ISSUED_AT)).unwrap().id, 5);
}

#[test]
fn structure_is_strict() {
    let token = fixture("hs512_default").token;
    for bad in [
        format!("{token}="),
        format!("{token}.x"),
        format!(" {token}"),
        token.replacen('.', "..", 1),
        token.replace('-', "+").replace('_', "/"),
        format!("{token}{}", "A".repeat(9000)),
        String::new(),
    ] {
        assert_eq!(kind(&bad), ErrorKind::Malformed, "{bad}");
    }
}

#[test]
fn legacy_and_current_tokens_are_not_interchangeable() {
    // Same secret on both sides: the formats must still not be confused.
    let legacy_hs256 = fixture("hs256").token;
    let keys = KeySet::new(Key::new("k1", Secret::new(SECRET)));
    assert_eq!(
        keys.verify(&legacy_hs256, ts(ISSUED_AT))
            .unwrap_err()
            .kind(),
        ErrorKind::Malformed
    );

    let current = keys
        .sign(&tessera_token::Claims::new(
            "5",
            "j",
            ts(ISSUED_AT),
            chrono::Duration::minutes(10),
        ))
        .unwrap();
    assert_eq!(kind(&current), ErrorKind::Malformed);
}
