//! Tokens interoperate with jsonwebtoken, a widely used JWT library, both ways.

use chrono::{Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use tessera_token::{Claims, ErrorKind, Key, KeySet, Secret};

use crate::support::{KID, SECRET, ed_key, es_key, keys};

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

/// jsonwebtoken's key for `key`, from PKCS#8 DER as its constructors want it.
fn jsonwebtoken_encoding_key(key: &Key) -> EncodingKey {
    let private = key.private_bytes().unwrap();
    match key.algorithm() {
        tessera_token::Algorithm::EdDSA => {
            use ed25519_dalek::pkcs8::EncodePrivateKey as _;
            let seed = <[u8; 32]>::try_from(private.expose()).unwrap();
            let der = ed25519_dalek::SigningKey::from_bytes(&seed)
                .to_pkcs8_der()
                .unwrap();
            EncodingKey::from_ed_der(der.as_bytes())
        }
        _ => {
            use p256::pkcs8::EncodePrivateKey as _;
            let der = p256::ecdsa::SigningKey::from_slice(private.expose())
                .unwrap()
                .to_pkcs8_der()
                .unwrap();
            EncodingKey::from_ec_der(der.as_bytes())
        }
    }
}

/// jsonwebtoken's JWK of the public half of `key`. It derives EC JWKs itself;
/// for Ed25519 (`from_encoding_key` is unimplemented there) the public key comes
/// from ed25519-dalek and only the JWK is jsonwebtoken's.
fn jsonwebtoken_public_jwk(key: &Key, encoding_key: &EncodingKey) -> jsonwebtoken::jwk::Jwk {
    use jsonwebtoken::jwk::{
        AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, KeyAlgorithm,
        OctetKeyPairParameters, OctetKeyPairType,
    };
    match key.algorithm() {
        tessera_token::Algorithm::EdDSA => {
            let seed = <[u8; 32]>::try_from(key.private_bytes().unwrap().expose()).unwrap();
            let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
            Jwk {
                common: CommonParameters {
                    key_algorithm: Some(KeyAlgorithm::EdDSA),
                    ..Default::default()
                },
                algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                    key_type: OctetKeyPairType::OctetKeyPair,
                    curve: EllipticCurve::Ed25519,
                    x: crate::support::b64(public.as_bytes()),
                }),
            }
        }
        _ => Jwk::from_encoding_key(encoding_key, Algorithm::ES256).unwrap(),
    }
}

fn jsonwebtoken_algorithm(key: &Key) -> Algorithm {
    match key.algorithm() {
        tessera_token::Algorithm::EdDSA => Algorithm::EdDSA,
        tessera_token::Algorithm::ES256 => Algorithm::ES256,
        tessera_token::Algorithm::HS256 => Algorithm::HS256,
    }
}

fn validation_for(alg: Algorithm) -> Validation {
    let mut validation = Validation::new(alg);
    validation.leeway = 0;
    validation.validate_nbf = true;
    validation
}

#[test]
fn jsonwebtoken_verifies_our_eddsa_and_es256_tokens_from_the_public_key() {
    let claims = fresh_claims()
        .with_not_before(Utc::now() - Duration::seconds(5))
        .with_issuer("https://tessera.example")
        .with_audience("api");
    for key in [ed_key(), es_key()] {
        let alg = jsonwebtoken_algorithm(&key);
        let token = KeySet::new(key.clone()).sign(&claims).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!((header.alg, header.kid.as_deref()), (alg, Some(key.id())));

        let jwk = key.public_jwk().unwrap();
        let decoding_key = match alg {
            Algorithm::EdDSA => DecodingKey::from_ed_components(jwk.x.as_deref().unwrap()),
            _ => DecodingKey::from_ec_components(
                jwk.x.as_deref().unwrap(),
                jwk.y.as_deref().unwrap(),
            ),
        }
        .unwrap();
        let mut validation = validation_for(alg);
        validation.set_audience(&["api"]);
        validation.set_issuer(&["https://tessera.example"]);
        let decoded = jsonwebtoken::decode::<Claims>(&token, &decoding_key, &validation).unwrap();
        assert_eq!(decoded.claims, claims, "{alg:?}");

        // Through our published JWK too, as a resource server using jsonwebtoken would.
        let their_jwk: jsonwebtoken::jwk::Jwk =
            serde_json::from_str(&serde_json::to_string(&jwk).unwrap()).unwrap();
        let from_jwk = DecodingKey::from_jwk(&their_jwk).unwrap();
        assert!(jsonwebtoken::decode::<Claims>(&token, &from_jwk, &validation).is_ok());

        // And it is the signature that it checked: another key of the algorithm fails.
        let other = Key::generate(key.algorithm())
            .unwrap()
            .public_jwk()
            .unwrap();
        let other: jsonwebtoken::jwk::Jwk =
            serde_json::from_str(&serde_json::to_string(&other).unwrap()).unwrap();
        let other = DecodingKey::from_jwk(&other).unwrap();
        assert!(jsonwebtoken::decode::<Claims>(&token, &other, &validation).is_err());
    }
}

#[test]
fn we_verify_jsonwebtoken_eddsa_and_es256_tokens_through_a_jwk() {
    let claims = fresh_claims();
    for key in [ed_key(), es_key()] {
        let alg = jsonwebtoken_algorithm(&key);
        let encoding_key = jsonwebtoken_encoding_key(&key);
        let mut header = Header::new(alg);
        header.kid = Some(key.id().to_owned());
        let with_kid = jsonwebtoken::encode(&header, &claims, &encoding_key).unwrap();
        let without_kid = jsonwebtoken::encode(&Header::new(alg), &claims, &encoding_key).unwrap();

        // jsonwebtoken's own JWK of its key, given our kid, is what we import.
        let mut their_jwk = jsonwebtoken_public_jwk(&key, &encoding_key);
        their_jwk.common.key_id = Some(key.id().to_owned());
        let text = serde_json::to_string(&jsonwebtoken::jwk::JwkSet {
            keys: vec![their_jwk],
        })
        .unwrap();
        let resource_server =
            KeySet::from_jwks(&tessera_token::Jwks::from_json(text.as_bytes()).unwrap()).unwrap();
        assert_eq!(resource_server.keys().count(), 1, "{text}");
        for token in [&with_kid, &without_kid] {
            assert_eq!(resource_server.verify(token, Utc::now()).unwrap(), claims);
        }

        // Signed by jsonwebtoken with a key we do not hold: refused.
        let stranger = jsonwebtoken_encoding_key(&Key::generate(key.algorithm()).unwrap());
        let forged = jsonwebtoken::encode(&header, &claims, &stranger).unwrap();
        assert_eq!(
            resource_server
                .verify(&forged, Utc::now())
                .unwrap_err()
                .kind(),
            ErrorKind::BadSignature
        );
    }
}

#[test]
fn an_array_audience_from_jsonwebtoken_is_read() {
    let mut claims = serde_json::to_value(fresh_claims()).unwrap();
    claims["aud"] = serde_json::json!(["api", "admin"]);
    claims["iss"] = "https://elsewhere.example".into();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(KID.to_owned());
    let token = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(SECRET)).unwrap();
    let verified = keys().verify(&token, Utc::now()).unwrap();
    assert!(verified.has_audience("admin") && verified.has_audience("api"));
    assert!(!verified.has_audience("other"));
    assert_eq!(verified.iss.as_deref(), Some("https://elsewhere.example"));
}
