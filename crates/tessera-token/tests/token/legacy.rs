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

/// An HS512 token in the itsdangerous layout with the given header dates, id 5.
fn forge_dates(iat: i64, exp: i64) -> String {
    forge_hs512(
        &format!(r#"{{"alg":"HS512","iat":{iat},"exp":{exp}}}"#),
        r#"{"id":5}"#,
    )
}

#[test]
fn a_lifetime_over_the_default_maximum_is_refused() {
    let now = ts(ISSUED_AT + 60);
    let hundred_years = 100 * 365 * 86_400;
    let verifier = verifier();
    for lifetime in [3601, 86_400, hundred_years] {
        let token = forge_dates(ISSUED_AT, ISSUED_AT + lifetime);
        assert_eq!(
            verifier.verify(&token, now).unwrap_err().kind(),
            ErrorKind::Malformed,
            "lifetime {lifetime}"
        );
    }
    // The default is one hour: itsdangerous' own default expires_in, six times the
    // tutorial's 600 seconds.
    for lifetime in [0, 600, 3600] {
        let token = forge_dates(ISSUED_AT, ISSUED_AT + lifetime);
        assert_eq!(
            verifier.verify(&token, ts(ISSUED_AT)).unwrap().exp - ISSUED_AT,
            lifetime
        );
    }
}

#[test]
fn a_future_iat_is_not_yet_valid() {
    let verifier = verifier();
    let now = ISSUED_AT;
    for iat in [now + 1, now + 60, now + 100 * 365 * 86_400] {
        let token = forge_dates(iat, iat + 600);
        assert_eq!(
            verifier.verify(&token, ts(now)).unwrap_err().kind(),
            ErrorKind::NotYetValid,
            "iat {iat}"
        );
        // Once its iat has come, the same token verifies.
        assert_eq!(verifier.verify(&token, ts(iat)).unwrap().iat, iat);
    }
    // Sub-second precision is dropped, as for exp: 0.999 s early is the same second.
    let token = forge_dates(now, now + 600);
    let early = ts(now) - chrono::Duration::milliseconds(1);
    assert_eq!(
        verifier.verify(&token, early).unwrap_err().kind(),
        ErrorKind::NotYetValid
    );
    assert!(
        verifier
            .verify(&token, ts(now) + chrono::Duration::milliseconds(999))
            .is_ok()
    );
}

#[test]
fn a_crit_header_is_refused() {
    let dates = format!(r#""iat":{ISSUED_AT},"exp":{EXPIRES_AT}"#);
    for crit in [
        r#""crit":["exp"]"#,
        r#""crit":["b64"],"b64":false"#,
        r#""crit":[]"#,
        r#""crit":null"#,
        r#""crit":"exp""#,
        r#""\u0063rit":["exp"]"#,
    ] {
        for header in [
            format!(r#"{{"alg":"HS512",{dates},{crit}}}"#),
            format!(r#"{{{crit},"alg":"HS512",{dates}}}"#),
        ] {
            // Correctly signed, valid dates: only `crit` is wrong.
            let token = forge_hs512(&header, r#"{"id":5}"#);
            assert_eq!(kind(&token), ErrorKind::Malformed, "{header}");
        }
    }
    // A name merely containing "crit" is just another ignored header field.
    let token = forge_hs512(
        &format!(r#"{{"alg":"HS512",{dates},"critical":true,"Crit":1}}"#),
        r#"{"id":5}"#,
    );
    assert_eq!(verifier().verify(&token, ts(ISSUED_AT)).unwrap().id, 5);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

    /// Correctly signed tokens with any dates: accepted exactly when `iat ≤ now ≤ exp`
    /// (in whole seconds) and `exp − iat` is at most the default hour; otherwise the
    /// kind says which rule failed, the lifetime first.
    #[test]
    fn dates_decide_validity_as_documented(
        iat in -100_000i64..100_000,
        lifetime in -10_000i64..10_000,
        now in -100_000i64..100_000,
    ) {
        let (iat, exp, now) = (ISSUED_AT + iat, ISSUED_AT + iat + lifetime, ISSUED_AT + now);
        let outcome = verifier().verify(&forge_dates(iat, exp), ts(now)).map_err(|e| e.kind());
        let expected = if exp - iat > 3600 {
            Err(ErrorKind::Malformed)
        } else if now > exp {
            Err(ErrorKind::Expired)
        } else if now < iat {
            Err(ErrorKind::NotYetValid)
        } else {
            Ok(LegacyClaims { id: 5, iat, exp, alg: LegacyAlgorithm::Hs512 })
        };
        proptest::prop_assert_eq!(outcome, expected);
    }
}

#[test]
fn with_max_lifetime_moves_the_bound() {
    use chrono::Duration;

    assert_eq!(verifier().max_lifetime(), Duration::hours(1));
    assert_eq!(LegacyVerifier::DEFAULT_MAX_LIFETIME, Duration::hours(1));
    let at = ts(ISSUED_AT + 60);
    let week = 7 * 86_400;
    let weekly = forge_dates(ISSUED_AT, ISSUED_AT + week);
    assert_eq!(
        verifier().verify(&weekly, at).unwrap_err().kind(),
        ErrorKind::Malformed
    );
    let longer = verifier().with_max_lifetime(Duration::days(7));
    assert_eq!(longer.max_lifetime(), Duration::days(7));
    assert_eq!(longer.verify(&weekly, at).unwrap().exp, ISSUED_AT + week);
    let shorter = verifier().with_max_lifetime(Duration::seconds(week - 1));
    assert_eq!(
        shorter.verify(&weekly, at).unwrap_err().kind(),
        ErrorKind::Malformed
    );

    // The tutorial's own tokens (600 s) at a bound of exactly 600 s, and one under it;
    // a fraction of a second is dropped from the bound.
    let tutorial = fixture("hs512_default").token;
    for (bound, accepted) in [
        (Duration::seconds(600), true),
        (Duration::milliseconds(600_999), true),
        (Duration::seconds(599), false),
        (Duration::milliseconds(599_999), false),
        (Duration::zero(), false),
        (Duration::seconds(-1), false),
    ] {
        let result = verifier().with_max_lifetime(bound).verify(&tutorial, at);
        assert_eq!(result.is_ok(), accepted, "{bound:?}: {result:?}");
    }
    // A negative bound refuses even a token whose exp is its iat; zero accepts it.
    let instant = forge_dates(ISSUED_AT, ISSUED_AT);
    let now = ts(ISSUED_AT);
    assert!(
        verifier()
            .with_max_lifetime(Duration::zero())
            .verify(&instant, now)
            .is_ok()
    );
    assert_eq!(
        verifier()
            .with_max_lifetime(Duration::seconds(-1))
            .verify(&instant, now)
            .unwrap_err()
            .kind(),
        ErrorKind::Malformed
    );
}

#[test]
fn extreme_dates_and_bounds_do_not_overflow() {
    use chrono::{DateTime, Duration, Utc};

    // The widest dates chrono represents, under the widest and narrowest bounds.
    let (min, max) = (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC);
    let widest = forge_dates(min.timestamp(), max.timestamp());
    let backwards = forge_dates(max.timestamp(), min.timestamp());
    for bound in [Duration::MAX, Duration::MIN, Duration::zero()] {
        let verifier = verifier().with_max_lifetime(bound);
        for now in [min, max, ts(ISSUED_AT)] {
            let _ = verifier.verify(&widest, now);
            assert!(verifier.verify(&backwards, now).is_err());
        }
    }
    let unbounded = verifier().with_max_lifetime(Duration::MAX);
    assert!(unbounded.verify(&widest, min).is_ok());
    assert!(unbounded.verify(&widest, max).is_ok());
}
