//! Tokens interoperate with jsonwebtoken, a widely used JWT library, both ways.

use chrono::{Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use tessera_token::{Claims, ErrorKind, Key, KeySet, Secret};

use crate::support::{KID, SECRET, keys};

/// Issued now: jsonwebtoken validates `exp` against the system clock.
fn fresh_claims() -> Claims {
    let mut claims = Claims::new("42", "jti-1", Utc::now(), Duration::minutes(15)).with_sid("s-1");
    claims.extra.insert("scope".into(), "read write".into());
    claims
}

fn strict_validation() -> Validation {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.validate_nbf = true;
    validation
}

#[test]
fn jsonwebtoken_verifies_our_tokens() {
    let claims = fresh_claims().with_not_before(Utc::now() - Duration::seconds(5));
    let token = keys().sign(&claims).unwrap();

    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(
        (header.alg, header.kid.as_deref()),
        (Algorithm::HS256, Some(KID))
    );
    let decoded = jsonwebtoken::decode::<Claims>(
        &token,
        &DecodingKey::from_secret(SECRET),
        &strict_validation(),
    )
    .unwrap();
    assert_eq!(decoded.claims, claims);

    // And it is the MAC that it checked: another secret fails there too.
    assert!(
        jsonwebtoken::decode::<Claims>(
            &token,
            &DecodingKey::from_secret(b"other"),
            &strict_validation()
        )
        .is_err()
    );
}

#[test]
fn we_verify_jsonwebtoken_tokens_with_and_without_kid() {
    let claims = fresh_claims();
    let encoding_key = EncodingKey::from_secret(SECRET);
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(KID.to_owned());
    let with_kid = jsonwebtoken::encode(&header, &claims, &encoding_key).unwrap();
    assert_eq!(keys().verify(&with_kid, Utc::now()).unwrap(), claims);

    let without_kid = jsonwebtoken::encode(&Header::default(), &claims, &encoding_key).unwrap();
    assert_eq!(keys().verify(&without_kid, Utc::now()).unwrap(), claims);

    header.kid = Some("k-unknown".to_owned());
    let unknown_kid = jsonwebtoken::encode(&header, &claims, &encoding_key).unwrap();
    assert_eq!(
        keys().verify(&unknown_kid, Utc::now()).unwrap_err().kind(),
        ErrorKind::UnknownKey
    );
}

#[test]
fn other_hmac_algorithms_from_jsonwebtoken_are_refused() {
    let claims = fresh_claims();
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        let mut header = Header::new(alg);
        header.kid = Some(KID.to_owned());
        let token =
            jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(SECRET)).unwrap();
        let err = keys().verify(&token, Utc::now()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnsupportedAlgorithm, "{alg:?}");
    }
}

#[test]
fn a_wrong_secret_in_jsonwebtoken_is_a_bad_signature_for_us() {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(KID.to_owned());
    let token = jsonwebtoken::encode(
        &header,
        &fresh_claims(),
        &EncodingKey::from_secret(b"not ours"),
    )
    .unwrap();
    let keys = KeySet::new(Key::new(KID, Secret::new(SECRET)));
    assert_eq!(
        keys.verify(&token, Utc::now()).unwrap_err().kind(),
        ErrorKind::BadSignature
    );
}
