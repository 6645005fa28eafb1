//! Property tests: round trips, any changed byte is rejected, no input panics.

use chrono::Duration;
use proptest::prelude::*;
use serde_json::{Map, Value};
use tessera_token::legacy::LegacyVerifier;
use tessera_token::{
    Algorithm, Claims, ErrorKind, Jwk, Jwks, Key, KeySet, Secret, decode_unverified,
};

use crate::support::*;

const NAMED: [&str; 8] = ["sub", "iat", "exp", "nbf", "jti", "sid", "iss", "aud"];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(any::<String>(), inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

prop_compose! {
    /// Claims valid at [`t0`], with arbitrary text and extra claims.
    fn arbitrary_claims()(
        sub in any::<String>(),
        jti in any::<String>(),
        issued_before in 0i64..10_000_000,
        lifetime in 1i64..10_000_000,
        nbf_before in proptest::option::of(0i64..10_000_000),
        sid in proptest::option::of(any::<String>()),
        iss in proptest::option::of(any::<String>()),
        aud in proptest::option::of(prop_oneof![
            any::<String>().prop_map(tessera_token::Audience::One),
            prop::collection::vec(any::<String>(), 0..3).prop_map(tessera_token::Audience::Many),
        ]),
        extra in prop::collection::btree_map(any::<String>(), json_value(), 0..5),
    ) -> Claims {
        let mut claims = Claims::new(sub, jti, t0() - Duration::seconds(issued_before), Duration::seconds(issued_before + lifetime));
        claims.nbf = nbf_before.map(|before| t0().timestamp() - before);
        claims.sid = sid;
        claims.iss = iss;
        claims.aud = aud;
        claims.extra = extra
            .into_iter()
            .filter(|(key, _)| !NAMED.contains(&key.as_str()))
            .collect::<Map<String, Value>>();
        claims
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn signed_claims_round_trip(claims in arbitrary_claims()) {
        let token = keys().sign(&claims).unwrap();
        prop_assert_eq!(keys().verify(&token, t0()).unwrap(), claims.clone());
        let (_, decoded) = decode_unverified(&token).unwrap();
        prop_assert_eq!(decoded, serde_json::to_value(&claims).unwrap());
    }

    #[test]
    fn every_single_byte_change_is_rejected(
        claims in arbitrary_claims(),
        replacement in prop::sample::select(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \0~".to_vec()
        ),
    ) {
        every_substitution_is_rejected(&keys(), &claims, replacement)?;
    }

    #[test]
    fn arbitrary_strings_never_panic(input in any::<String>()) {
        exercise(&input);
    }

    #[test]
    fn token_shaped_strings_never_panic(input in "[A-Za-z0-9_=+/.\\- ]{0,200}") {
        exercise(&input);
    }

    #[test]
    fn dot_joined_base64_segments_never_panic(
        segments in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..6),
    ) {
        let encoded: Vec<String> = segments.iter().map(|bytes| b64(bytes)).collect();
        exercise(&encoded.join("."));
    }

    #[test]
    fn correctly_signed_arbitrary_json_never_panics(
        header in prop_oneof![Just(HEADER.to_vec()), any::<Vec<u8>>(), json_value().prop_map(|v| v.to_string().into_bytes())],
        payload in prop_oneof![
            any::<Vec<u8>>(),
            json_value().prop_map(|v| v.to_string().into_bytes()),
            r#"\{("(sub|iat|exp|nbf|jti|sid|id|alg)":(-?[0-9]{1,22}(\.[0-9]{1,3})?(e[0-9]{1,3})?|"[a-z]{0,3}"|null|true|\[\]),?){0,7}\}"#
                .prop_map(String::into_bytes),
        ],
    ) {
        let token = forge(&header, &payload);
        exercise(&token);
        for alg in [Algorithm::EdDSA, Algorithm::ES256] {
            let _ = every_kind().verify(&forge_with(alg, &header, &payload), t0());
        }
        // Structurally valid HS256 header: the outcome depends on the claims alone.
        if header == HEADER {
            let verified = keys().verify(&token, t0());
            if let Ok(claims) = verified {
                prop_assert_eq!(serde_json::to_value(&claims).unwrap(), serde_json::from_slice::<Value>(&payload).unwrap());
            }
        }
    }
}

/// Runs every parser on `input`; the property is that none of them panics.
/// `keys`' token for `claims` with any one byte replaced by `replacement` never verifies.
fn every_substitution_is_rejected(
    keys: &KeySet,
    claims: &Claims,
    replacement: u8,
) -> Result<(), TestCaseError> {
    let token = keys.sign(claims).unwrap();
    for index in 0..token.len() {
        let mut bytes = token.clone().into_bytes();
        if bytes[index] == replacement {
            continue;
        }
        bytes[index] = replacement;
        let changed = String::from_utf8(bytes).unwrap();
        prop_assert!(keys.verify(&changed, t0()).is_err(), "accepted {}", changed);
    }
    Ok(())
}

fn exercise(input: &str) {
    let _ = keys().verify(input, t0());
    let _ = every_kind().verify(input, t0());
    let _ = Jwks::from_json(input.as_bytes()).map(|jwks| KeySet::from_jwks(&jwks));
    let _ = keys().with_leeway(u32::MAX).verify(input, t0());
    let _ = decode_unverified(input);
    let _ = LegacyVerifier::new(Secret::new(SECRET)).verify(input, t0());
    let _ = LegacyVerifier::new(Secret::new(SECRET))
        .with_max_lifetime(Duration::MAX)
        .verify(input, t0());
}

#[test]
fn every_bit_flip_and_every_ascii_substitution_is_rejected() {
    let token = keys().sign(&claims()).unwrap();
    let keys = keys();
    for index in 0..token.len() {
        let original = token.as_bytes()[index];
        let flips = (0..8).map(|bit| original ^ (1 << bit));
        for replacement in flips.chain(0u8..128) {
            if replacement == original {
                continue;
            }
            let mut bytes = token.clone().into_bytes();
            bytes[index] = replacement;
            // verify takes &str; changes that break UTF-8 never reach it.
            if let Ok(changed) = String::from_utf8(bytes) {
                assert!(keys.verify(&changed, t0()).is_err(), "accepted {changed:?}");
            }
        }
    }
}

#[test]
fn every_bit_flip_of_an_asymmetric_token_is_rejected() {
    for keys in [KeySet::new(ed_key()), KeySet::new(es_key())] {
        let token = keys.sign(&claims()).unwrap();
        for index in 0..token.len() {
            for bit in 0..8 {
                let mut bytes = token.clone().into_bytes();
                bytes[index] ^= 1 << bit;
                if let Ok(changed) = String::from_utf8(bytes) {
                    assert!(keys.verify(&changed, t0()).is_err(), "accepted {changed:?}");
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Correctly signed claims with any dates and leeway: accepted exactly when
    /// `now < exp + leeway`, `now ≥ nbf − leeway` and `now ≥ iat − leeway`; otherwise the
    /// kind names the first rule broken, in that order.
    #[test]
    fn dates_decide_validity_as_documented(
        iat in -100_000i64..100_000,
        lifetime in -10_000i64..100_000,
        nbf in proptest::option::of(-100_000i64..100_000),
        now in -100_000i64..100_000,
        leeway in prop_oneof![Just(0u32), 0u32..120],
    ) {
        let base = t0().timestamp();
        let mut claims = Claims::new("42", "j", ts(base + iat), Duration::seconds(lifetime));
        claims.nbf = nbf.map(|nbf| base + nbf);
        let keys = keys().with_leeway(leeway);
        let token = keys.sign(&claims).unwrap();
        let (now, leeway) = (base + now, i64::from(leeway));

        let expected = if now >= claims.exp + leeway {
            Err(ErrorKind::Expired)
        } else if claims.nbf.is_some_and(|nbf| now < nbf - leeway) || now < claims.iat - leeway {
            Err(ErrorKind::NotYetValid)
        } else {
            Ok(claims)
        };
        prop_assert_eq!(keys.verify(&token, ts(now)).map_err(|e| e.kind()), expected);
    }
}

/// One key set holding a key of every algorithm, the fixed test keys.
fn every_kind() -> KeySet {
    keys()
        .with_verification_key(ed_key())
        .with_verification_key(es_key())
}

fn asymmetric_algorithm() -> impl Strategy<Value = Algorithm> {
    prop::sample::select(vec![Algorithm::EdDSA, Algorithm::ES256])
}

/// A key pair of `alg` from 32 arbitrary bytes (retried by proptest in the rare
/// case that they are no P-256 scalar).
fn key_pair(alg: Algorithm, private: [u8; 32], id: &str) -> Option<Key> {
    Key::from_private_bytes(id, alg, &Secret::new(private)).ok()
}

proptest! {
    // Asymmetric signatures cost far more than HMACs in a debug build: fewer cases.
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn signed_claims_round_trip_for_every_algorithm(claims in arbitrary_claims()) {
        for keys in key_sets() {
            let token = keys.sign(&claims).unwrap();
            prop_assert_eq!(keys.verify(&token, t0()).unwrap(), claims.clone());
            // And through the public half, as a resource server verifies.
            let public = KeySet::from_jwks(&keys.jwks()).unwrap();
            if keys.signing_algorithm() != Some(Algorithm::HS256) {
                prop_assert_eq!(public.verify(&token, t0()).unwrap(), claims.clone());
            }
        }
    }

    #[test]
    fn every_single_byte_change_of_an_asymmetric_token_is_rejected(
        claims in arbitrary_claims(),
        alg in asymmetric_algorithm(),
        replacement in prop::sample::select(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \0~".to_vec()
        ),
    ) {
        let keys = if alg == Algorithm::EdDSA { KeySet::new(ed_key()) } else { KeySet::new(es_key()) };
        every_substitution_is_rejected(&keys, &claims, replacement)?;
    }

    #[test]
    fn a_token_signed_by_one_key_fails_under_another_of_the_same_algorithm(
        alg in asymmetric_algorithm(),
        signer in any::<[u8; 32]>(),
        other in any::<[u8; 32]>(),
    ) {
        prop_assume!(signer != other);
        let (Some(signer), Some(other)) = (key_pair(alg, signer, "k"), key_pair(alg, other, "k")) else {
            return Err(TestCaseError::reject("not a P-256 scalar"));
        };
        let token = KeySet::new(signer.clone()).sign(&claims()).unwrap();
        let err = KeySet::new(other.clone()).verify(&token, t0()).unwrap_err();
        prop_assert_eq!(err.kind(), ErrorKind::BadSignature);
        let err = KeySet::verifying([Key::from_jwk(&other.public_jwk().unwrap()).unwrap()])
            .verify(&token, t0())
            .unwrap_err();
        prop_assert_eq!(err.kind(), ErrorKind::BadSignature);
        prop_assert!(KeySet::new(signer).verify(&token, t0()).is_ok());
    }

    #[test]
    fn jwk_export_and_import_round_trip_and_verify(
        alg in asymmetric_algorithm(),
        private in any::<[u8; 32]>(),
        kid in "[!-~]{1,40}",
    ) {
        let Some(key) = key_pair(alg, private, &kid) else {
            return Err(TestCaseError::reject("not a P-256 scalar"));
        };
        let text = serde_json::to_vec(&KeySet::new(key.clone()).jwks()).unwrap();
        let imported = KeySet::from_jwks(&Jwks::from_json(&text).unwrap()).unwrap();
        let only = imported.keys().next().unwrap();
        prop_assert_eq!((only.id(), only.algorithm(), only.can_sign()), (kid.as_str(), alg, false));
        prop_assert_eq!(only.public_jwk(), key.public_jwk());
        let token = KeySet::new(key).sign(&claims()).unwrap();
        prop_assert_eq!(imported.verify(&token, t0()).unwrap(), claims());
    }

    #[test]
    fn thumbprints_are_stable_and_tell_keys_apart(
        alg in asymmetric_algorithm(),
        first in any::<[u8; 32]>(),
        second in any::<[u8; 32]>(),
        kid in "[a-z]{1,8}",
    ) {
        let (Some(a), Some(b)) = (key_pair(alg, first, &kid), key_pair(alg, second, "other")) else {
            return Err(TestCaseError::reject("not a P-256 scalar"));
        };
        let jwk = a.public_jwk().unwrap();
        let thumbprint = jwk.thumbprint().unwrap();
        // Through JSON with the members reversed, and with kid, alg and use dropped.
        let mut members: Vec<(String, serde_json::Value)> =
            serde_json::to_value(&jwk).unwrap().as_object().unwrap().clone().into_iter().collect();
        members.reverse();
        let reordered: Jwk = serde_json::from_value(serde_json::Value::Object(members.into_iter().collect())).unwrap();
        prop_assert_eq!(reordered.thumbprint().unwrap(), thumbprint.clone());
        let mut bare = jwk.clone();
        (bare.kid, bare.alg, bare.use_) = (None, None, None);
        prop_assert_eq!(bare.thumbprint().unwrap(), thumbprint.clone());
        // The same key restored from its private bytes has the same thumbprint.
        let restored = Key::from_private_bytes("x", alg, &a.private_bytes().unwrap()).unwrap();
        prop_assert_eq!(restored.public_jwk().unwrap().thumbprint().unwrap(), thumbprint.clone());
        prop_assert_eq!(first == second, b.public_jwk().unwrap().thumbprint().unwrap() == thumbprint);
    }
}
