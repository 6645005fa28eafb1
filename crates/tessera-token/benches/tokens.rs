//! Sign and verify a typical access token, with jsonwebtoken as the peer on the
//! same claims and key, once per algorithm:
//!
//! - `access_token`: HS256 (the group name predates the other two);
//! - `access_token_eddsa`: EdDSA (Ed25519);
//! - `access_token_es256`: ES256 (P-256).
//!
//! In each group:
//! - `tessera_token/sign`, `jsonwebtoken/encode`: one token each.
//! - `tessera_token/verify`: signature, algorithm, `kid`, `exp`/`nbf` and claim
//!   types of a token this key set issued (its header bytes are the ones the key
//!   issues, so the header parse is skipped: see `Key::issued_header`).
//! - `tessera_token/verify_foreign`: the same checks on the token jsonwebtoken
//!   minted, whose header (`{"typ":"JWT","alg":…,"kid":…}`) is parsed.
//! - `jsonwebtoken/decode`: decode with `Validation` (the algorithm, `exp`, leeway 0).
//!
//! The EdDSA and ES256 key sets verify with the public key only, as a resource
//! server does; jsonwebtoken's decoding key is the public key too.
//!
//! `cargo bench -p tessera-token -- --quick`; `make bench` runs it several times
//! and writes the medians to `docs/benchmarks.md`.

use std::hint::black_box;

use chrono::{Duration, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use tessera_token::{Claims, Key, KeySet, Secret};

const SECRET: &[u8] = b"a benchmark secret of 32 bytes!!";
const KID: &str = "2024-06";

fn access_token_claims() -> Claims {
    // Issued now so that jsonwebtoken, which reads the system clock, accepts it.
    Claims::new(
        "1234567",
        "0f4c2a7e-8b1d-4d6e-9a3b-5c7d9e1f2a4b",
        Utc::now(),
        Duration::minutes(15),
    )
    .with_sid("5d1e9a7c-3b2f-4e8d-a6c4-1f0b9e7d2c3a")
}

/// One algorithm's contestants: our signing and verifying key sets, and
/// jsonwebtoken's algorithm and keys for the same key.
struct Peers {
    group: &'static str,
    signer: KeySet,
    verifier: KeySet,
    alg: Algorithm,
    encoding_key: EncodingKey,
    decoding_key: DecodingKey,
}

fn hs256() -> Peers {
    let keys = KeySet::new(Key::new(KID, Secret::new(SECRET)));
    Peers {
        group: "access_token",
        signer: keys.clone(),
        verifier: keys,
        alg: Algorithm::HS256,
        encoding_key: EncodingKey::from_secret(SECRET),
        decoding_key: DecodingKey::from_secret(SECRET),
    }
}

fn asymmetric(group: &'static str, alg: tessera_token::Algorithm) -> Peers {
    let key = Key::generate(alg).expect("generate");
    let jwk = key.public_jwk().expect("public JWK");
    let verifier = KeySet::from_jwks(&KeySet::new(key.clone()).jwks()).expect("from_jwks");
    let private = key.private_bytes().expect("private bytes");
    let x = jwk.x.as_deref().expect("x");
    let (alg, encoding_key, decoding_key) = match alg {
        tessera_token::Algorithm::EdDSA => {
            let seed = <[u8; 32]>::try_from(private.expose()).expect("32-byte seed");
            let der = ed25519_dalek::SigningKey::from_bytes(&seed)
                .to_pkcs8_der()
                .expect("PKCS#8");
            (
                Algorithm::EdDSA,
                EncodingKey::from_ed_der(der.as_bytes()),
                DecodingKey::from_ed_components(x).expect("Ed25519 public key"),
            )
        }
        _ => {
            let der = p256::ecdsa::SigningKey::from_slice(private.expose())
                .expect("P-256 scalar")
                .to_pkcs8_der()
                .expect("PKCS#8");
            let y = jwk.y.as_deref().expect("y");
            (
                Algorithm::ES256,
                EncodingKey::from_ec_der(der.as_bytes()),
                DecodingKey::from_ec_components(x, y).expect("P-256 public key"),
            )
        }
    };
    Peers {
        group,
        signer: KeySet::new(key),
        verifier,
        alg,
        encoding_key,
        decoding_key,
    }
}

fn bench_peers(c: &mut Criterion, peers: &Peers) {
    let claims = access_token_claims();
    let now = Utc::now();
    let keys = &peers.signer;
    let ours = keys.sign(&claims).expect("sign");

    let mut header = Header::new(peers.alg);
    header.kid = Some(keys.signing_key_id().expect("signing key").to_owned());
    let mut validation = Validation::new(peers.alg);
    validation.leeway = 0;
    let theirs = jsonwebtoken::encode(&header, &claims, &peers.encoding_key).expect("encode");
    // Each side accepts the other's token, so both verify the same thing.
    assert_eq!(
        peers
            .verifier
            .verify(&theirs, now)
            .expect("ours verifies theirs"),
        claims
    );
    jsonwebtoken::decode::<Claims>(&ours, &peers.decoding_key, &validation)
        .expect("theirs verifies ours");

    let mut group = c.benchmark_group(peers.group);
    group.bench_function("tessera_token/sign", |b| {
        b.iter(|| keys.sign(black_box(&claims)))
    });
    group.bench_function("jsonwebtoken/encode", |b| {
        b.iter(|| jsonwebtoken::encode(&header, black_box(&claims), &peers.encoding_key))
    });
    group.bench_function("tessera_token/verify", |b| {
        b.iter(|| peers.verifier.verify(black_box(&ours), now))
    });
    group.bench_function("tessera_token/verify_foreign", |b| {
        b.iter(|| peers.verifier.verify(black_box(&theirs), now))
    });
    group.bench_function("jsonwebtoken/decode", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<Claims>(black_box(&theirs), &peers.decoding_key, &validation)
        })
    });
    group.finish();
}

fn tokens(c: &mut Criterion) {
    bench_peers(c, &hs256());
    bench_peers(
        c,
        &asymmetric("access_token_eddsa", tessera_token::Algorithm::EdDSA),
    );
    bench_peers(
        c,
        &asymmetric("access_token_es256", tessera_token::Algorithm::ES256),
    );
}

criterion_group!(benches, tokens);
criterion_main!(benches);
