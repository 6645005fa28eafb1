//! JWK and JWK Set import and export: what is accepted, skipped and refused.

use serde_json::{Value, json};
use tessera_token::{Algorithm, ErrorKind, Jwk, Jwks, Key, KeySet, Secret};

use crate::support::*;

fn jwk(value: Value) -> Jwk {
    serde_json::from_value(value).unwrap()
}

fn ed_jwk() -> Value {
    serde_json::to_value(ed_key().public_jwk().unwrap()).unwrap()
}

fn es_jwk() -> Value {
    serde_json::to_value(es_key().public_jwk().unwrap()).unwrap()
}

fn with(mut base: Value, name: &str, value: Value) -> Value {
    if value.is_null() {
        base.as_object_mut().unwrap().remove(name);
    } else {
        base[name] = value;
    }
    base
}

/// Why `from_jwk` refused `value`, or `None` if it took it.
fn refusal(value: &Value) -> Option<ErrorKind> {
    Key::from_jwk(&jwk(value.clone()))
        .err()
        .map(|err| err.kind())
}

#[test]
fn public_jwks_have_exactly_the_documented_members() {
    let ed = ed_jwk();
    assert_eq!(
        ed.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["alg", "crv", "kid", "kty", "use", "x"]
    );
    assert_eq!(
        (&ed["kty"], &ed["crv"], &ed["alg"], &ed["use"], &ed["kid"]),
        (
            &json!("OKP"),
            &json!("Ed25519"),
            &json!("EdDSA"),
            &json!("sig"),
            &json!(ED_KID)
        )
    );
    let es = es_jwk();
    assert_eq!(
        (&es["kty"], &es["crv"], &es["alg"], &es["use"], &es["kid"]),
        (
            &json!("EC"),
            &json!("P-256"),
            &json!("ES256"),
            &json!("sig"),
            &json!(ES_KID)
        )
    );
    // Exactly 32 bytes each, base64url without padding: 43 characters.
    for coordinate in [&ed["x"], &es["x"], &es["y"]] {
        assert_eq!(coordinate.as_str().unwrap().len(), 43, "{coordinate}");
    }
    assert!(es.get("d").is_none() && ed.get("d").is_none());
    assert!(keys().keys().next().unwrap().public_jwk().is_none());
}

#[test]
fn an_exported_jwk_imports_as_a_verify_only_key_with_the_same_id_and_algorithm() {
    for key in [ed_key(), es_key()] {
        let imported = Key::from_jwk(&key.public_jwk().unwrap()).unwrap();
        assert_eq!(
            (imported.id(), imported.algorithm(), imported.can_sign()),
            (key.id(), key.algorithm(), false)
        );
        assert_eq!(imported.public_jwk(), key.public_jwk());
        // Optional members may be missing: alg, use.
        let bare = with(
            with(
                serde_json::to_value(key.public_jwk()).unwrap(),
                "alg",
                Value::Null,
            ),
            "use",
            Value::Null,
        );
        assert_eq!(refusal(&bare), None);
        // Unknown members are ignored.
        let noisy = with(bare, "key_ops", json!(["verify"]));
        assert_eq!(refusal(&with(noisy, "x5t", json!("abc"))), None);
    }
}

#[test]
fn from_jwk_refuses_private_symmetric_mismatched_and_malformed_keys() {
    let ed = ed_jwk();
    let es = es_jwk();
    let x = es["x"].as_str().unwrap().to_owned();
    let y = es["y"].as_str().unwrap().to_owned();
    // The same point with y + 1 (mod nothing: just another byte string), not on the curve.
    let mut y_bytes = base64_url_decode(&y);
    y_bytes[31] ^= 1;
    let off_curve = b64(&y_bytes);
    let cases: Vec<(&str, Value)> = vec![
        ("private d", with(ed.clone(), "d", json!(b64(&ED_SEED)))),
        (
            "private d on EC",
            with(es.clone(), "d", json!(b64(&ES_SCALAR))),
        ),
        ("null d", es.clone().tap_insert("d", json!(null))),
        (
            "oct",
            json!({"kty":"oct","k":b64(SECRET),"kid":KID,"alg":"HS256"}),
        ),
        ("RSA", json!({"kty":"RSA","n":"0vx7","e":"AQAB","kid":"r"})),
        ("X25519", with(ed.clone(), "crv", json!("X25519"))),
        ("Ed448", with(ed.clone(), "crv", json!("Ed448"))),
        ("P-384", with(es.clone(), "crv", json!("P-384"))),
        ("secp256k1", with(es.clone(), "crv", json!("secp256k1"))),
        ("no crv", with(ed.clone(), "crv", Value::Null)),
        ("OKP with ES256", with(ed.clone(), "alg", json!("ES256"))),
        ("OKP with HS256", with(ed.clone(), "alg", json!("HS256"))),
        ("EC with EdDSA", with(es.clone(), "alg", json!("EdDSA"))),
        ("EC with HS256", with(es.clone(), "alg", json!("HS256"))),
        ("EC with ES384", with(es.clone(), "alg", json!("ES384"))),
        ("OKP with none", with(ed.clone(), "alg", json!("none"))),
        ("use enc", with(ed.clone(), "use", json!("enc"))),
        ("use SIG", with(es.clone(), "use", json!("SIG"))),
        ("no kid", with(ed.clone(), "kid", Value::Null)),
        ("empty kid", with(es.clone(), "kid", json!(""))),
        ("no x", with(ed.clone(), "x", Value::Null)),
        ("no y", with(es.clone(), "y", Value::Null)),
        ("y on OKP", with(ed.clone(), "y", json!(y.clone()))),
        ("x padded", with(es.clone(), "x", json!(format!("{x}=")))),
        (
            "x standard alphabet",
            with(es.clone(), "x", json!(b64_std(&base64_url_decode(&x)))),
        ),
        ("x 31 bytes", with(es.clone(), "x", json!(b64(&[1u8; 31])))),
        ("x 33 bytes", with(es.clone(), "x", json!(b64(&[1u8; 33])))),
        (
            "x with sign byte",
            with(
                es.clone(),
                "x",
                json!(b64(&[&[0u8][..], &base64_url_decode(&x)].concat())),
            ),
        ),
        (
            "Ed25519 x 31 bytes",
            with(ed.clone(), "x", json!(b64(&[1u8; 31]))),
        ),
        (
            "Ed25519 x 64 bytes",
            with(ed.clone(), "x", json!(b64(&[1u8; 64]))),
        ),
        ("off the curve", with(es.clone(), "y", json!(off_curve))),
        (
            "P-256 zeros",
            with(
                with(es.clone(), "x", json!(b64(&[0; 32]))),
                "y",
                json!(b64(&[0; 32])),
            ),
        ),
        // The identity and a point of order 2: keys that "verify" forged signatures.
        (
            "Ed25519 identity",
            with(ed.clone(), "x", json!(b64(&identity()))),
        ),
        (
            "Ed25519 order 2",
            with(ed.clone(), "x", json!(b64(&order_two()))),
        ),
    ];
    let mut failures = Vec::new();
    for (name, value) in &cases {
        if refusal(value) != Some(ErrorKind::InvalidKey) {
            failures.push(format!("{name}: {:?}", refusal(value)));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Test helper: insert a member even when its value is JSON null.
trait TapInsert {
    fn tap_insert(self, name: &str, value: Value) -> Value;
}

impl TapInsert for Value {
    fn tap_insert(mut self, name: &str, value: Value) -> Value {
        self.as_object_mut().unwrap().insert(name.to_owned(), value);
        self
    }
}

fn base64_url_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}

fn b64_std(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The Ed25519 identity point (y = 1).
fn identity() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    bytes[0] = 1;
    bytes
}

/// The Ed25519 point of order 2 (y = −1).
fn order_two() -> [u8; 32] {
    // p − 1 = 2^255 − 20, little-endian.
    let mut bytes = [0xff; 32];
    bytes[0] = 0xec;
    bytes[31] = 0x7f;
    bytes
}

#[test]
fn non_canonical_ed25519_encodings_are_refused() {
    // y + p for a small y that lies on the curve: the same point, spelled otherwise.
    // p = 2^255 − 19, so y + p fits in 255 bits for y < 19.
    let mut found = 0;
    for y in 2u8..19 {
        let mut bytes = [0xff; 32];
        bytes[0] = 0xed + y; // p's low byte is 0xed
        bytes[31] = 0x7f;
        let Ok(point) = ed25519_dalek::VerifyingKey::from_bytes(&bytes) else {
            continue;
        };
        if point.is_weak() {
            continue;
        }
        found += 1;
        let value = with(ed_jwk(), "x", json!(b64(&bytes)));
        assert_eq!(refusal(&value), Some(ErrorKind::InvalidKey), "y = {y}");
    }
    assert!(
        found > 0,
        "no non-canonical encoding of a strong point found"
    );
}

#[test]
fn thumbprints_agree_with_jsonwebtoken_and_are_stable() {
    // jsonwebtoken 10.3 writes `{crv:` unquoted for OKP keys, so only its EC
    // thumbprint is a reference; RFC 8037's Ed25519 vector is checked in the crate.
    let es = es_key().public_jwk().unwrap();
    let theirs: jsonwebtoken::jwk::Jwk =
        serde_json::from_value(serde_json::to_value(&es).unwrap()).unwrap();
    assert_eq!(
        es.thumbprint().unwrap(),
        theirs.thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)
    );
    for key in [ed_key(), es_key()] {
        let ours = key.public_jwk().unwrap();
        // The kid, alg and use do not enter the thumbprint.
        let mut renamed = ours.clone();
        renamed.kid = Some("another".into());
        renamed.alg = None;
        renamed.use_ = None;
        assert_eq!(renamed.thumbprint().unwrap(), ours.thumbprint().unwrap());
        let mut moved = ours.clone();
        moved.x = Some(b64(&[9u8; 32]));
        assert_ne!(moved.thumbprint().unwrap(), ours.thumbprint().unwrap());
    }
}

#[test]
fn a_key_set_publishes_every_asymmetric_key_once_and_never_a_secret() {
    let keys = KeySet::new(ed_key())
        .with_verification_key(Key::new("hmac", Secret::new(SECRET)))
        .with_verification_key(es_key())
        .with_verification_key(ed_key())
        .with_verification_key(public(&es_key()));
    let jwks = keys.jwks();
    let kids: Vec<_> = jwks
        .keys
        .iter()
        .map(|jwk| jwk.kid.as_deref().unwrap())
        .collect();
    assert_eq!(kids, [ED_KID, ES_KID]);
    let text = serde_json::to_string(&jwks).unwrap();
    for secret in [b64(SECRET), b64(&ED_SEED), b64(&ES_SCALAR)] {
        assert!(!text.contains(&secret), "{text}");
    }
    assert!(!text.contains("\"d\"") && !text.contains("oct"), "{text}");
    assert_eq!(Jwks::from_json(text.as_bytes()).unwrap(), jwks);
    assert_eq!(
        KeySet::new(Key::new("k", Secret::new("s"))).jwks(),
        Jwks::default()
    );
}

#[test]
fn a_published_set_verifies_the_issuers_tokens() {
    let issuer = KeySet::new(ed_key()).with_verification_key(es_key());
    let published = serde_json::to_vec(&issuer.jwks()).unwrap();
    let resource_server = KeySet::from_jwks(&Jwks::from_json(&published).unwrap()).unwrap();
    assert_eq!(resource_server.signing_key_id(), None);
    assert_eq!(resource_server.keys().count(), 2);
    let token = issuer.sign(&claims()).unwrap();
    assert_eq!(resource_server.verify(&token, t0()).unwrap(), claims());
    let es_token = KeySet::new(es_key()).sign(&claims()).unwrap();
    assert_eq!(resource_server.verify(&es_token, t0()).unwrap(), claims());
    // A key set that only verifies republishes the same set.
    assert_eq!(resource_server.jwks(), issuer.jwks());
}

#[test]
fn from_jwks_skips_what_it_does_not_know_and_fails_on_what_is_wrong() {
    let ed = ed_jwk();
    let es = es_jwk();
    let skipped = [
        json!({"kty":"RSA","n":"0vx7","e":"AQAB","kid":"r1","alg":"RS256"}),
        json!({"kty":"RSA","n":"0vx7","e":"AQAB"}),
        with(ed.clone(), "crv", json!("X25519")),
        with(es.clone(), "crv", json!("P-521")),
        with(es.clone(), "alg", json!("ES384")),
        with(ed.clone(), "alg", json!("Ed25519")),
        with(ed.clone(), "use", json!("enc")),
        json!({"kty":"future-kty"}),
    ];
    let mut members = skipped.to_vec();
    members.push(ed.clone());
    members.push(es.clone());
    let keys = KeySet::from_jwks(
        &Jwks::from_json(json!({"keys": members}).to_string().as_bytes()).unwrap(),
    )
    .unwrap();
    let ids: Vec<_> = keys.keys().map(|key| key.id()).collect();
    assert_eq!(ids, [ED_KID, ES_KID]);

    let only_unknown = KeySet::from_jwks(
        &Jwks::from_json(json!({"keys": skipped}).to_string().as_bytes()).unwrap(),
    )
    .unwrap();
    assert_eq!(only_unknown.keys().count(), 0);

    for (name, bad) in [
        ("private d", with(ed.clone(), "d", json!(b64(&ED_SEED)))),
        (
            "private RSA",
            json!({"kty":"RSA","n":"0vx7","e":"AQAB","d":"c2VjcmV0","kid":"r"}),
        ),
        ("oct", json!({"kty":"oct","k":b64(SECRET),"kid":"h"})),
        ("no kid", with(es.clone(), "kid", Value::Null)),
        ("no crv", with(es.clone(), "crv", Value::Null)),
        (
            "alg of another kty",
            with(es.clone(), "alg", json!("EdDSA")),
        ),
        ("bad x", with(ed.clone(), "x", json!("AAAA"))),
        ("off curve", with(es.clone(), "x", json!(b64(&[1u8; 32])))),
    ] {
        let jwks = Jwks {
            keys: vec![jwk(ed.clone()), jwk(bad)],
        };
        let err = KeySet::from_jwks(&jwks).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidKey, "{name}");
    }
}

#[test]
fn keys_from_a_jwks_bind_their_algorithm() {
    let resource_server = KeySet::from_jwks(&KeySet::new(ed_key()).jwks()).unwrap();
    // An ES256 token naming the EdDSA key, and an HS256 token MACed with the JWKS text.
    let jwks_text = serde_json::to_vec(&KeySet::new(ed_key()).jwks()).unwrap();
    for token in [
        forge_with(
            Algorithm::ES256,
            format!(r#"{{"alg":"ES256","kid":"{ED_KID}"}}"#).as_bytes(),
            PAYLOAD,
        ),
        sign_segments(
            &b64(format!(r#"{{"alg":"HS256","kid":"{ED_KID}"}}"#).as_bytes()),
            &b64(PAYLOAD),
            &jwks_text,
        ),
    ] {
        assert_eq!(
            resource_server.verify(&token, t0()).unwrap_err().kind(),
            ErrorKind::UnsupportedAlgorithm
        );
    }
}

#[test]
fn jwk_debug_output_never_shows_a_private_member() {
    let d = b64(&ED_SEED);
    let parsed = jwk(with(ed_jwk(), "d", json!(d.clone())));
    let debug = format!("{parsed:?} {parsed:#?}");
    assert!(!debug.contains(&d), "{debug}");
    assert!(!serde_json::to_string(&parsed).unwrap().contains(&d));
    // And the refusal says why without repeating it.
    let err = Key::from_jwk(&parsed).unwrap_err();
    assert!(!err.to_string().contains(&d));
    assert!(err.to_string().contains("private"), "{err}");
}
