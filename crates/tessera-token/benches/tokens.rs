//! Sign and verify a typical access token, with jsonwebtoken's HS256 as the peer
//! on the same claims and secret.
//!
//! - `tessera_token/sign`, `jsonwebtoken/encode`: one token each.
//! - `tessera_token/verify`: signature, algorithm, `kid`, `exp`/`nbf` and claim
//!   types of a token this key set issued (its header bytes are the ones the key
//!   issues, so the header parse is skipped: see `Key::issued_header`).
//! - `tessera_token/verify_foreign`: the same checks on the token jsonwebtoken
//!   minted, whose header (`{"typ":"JWT","alg":"HS256","kid":…}`) is parsed.
//! - `jsonwebtoken/decode`: decode with `Validation` (HS256, `exp`, leeway 0).
//!
//! `cargo bench -p tessera-token -- --quick`; `make bench` runs it several times
//! and writes the medians to `docs/benchmarks.md`.

use std::hint::black_box;

use chrono::{Duration, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
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

fn tokens(c: &mut Criterion) {
    let claims = access_token_claims();
    let now = Utc::now();

    let keys = KeySet::new(Key::new(KID, Secret::new(SECRET)));
    let ours = keys.sign(&claims).expect("sign");

    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(KID.to_owned());
    let encoding_key = EncodingKey::from_secret(SECRET);
    let decoding_key = DecodingKey::from_secret(SECRET);
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    let theirs = jsonwebtoken::encode(&header, &claims, &encoding_key).expect("encode");
    // Each side accepts the other's token, so both verify the same thing.
    assert_eq!(
        keys.verify(&theirs, now).expect("ours verifies theirs"),
        claims
    );
    jsonwebtoken::decode::<Claims>(&ours, &decoding_key, &validation)
        .expect("theirs verifies ours");

    let mut group = c.benchmark_group("access_token");
    group.bench_function("tessera_token/sign", |b| {
        b.iter(|| keys.sign(black_box(&claims)))
    });
    group.bench_function("jsonwebtoken/encode", |b| {
        b.iter(|| jsonwebtoken::encode(&header, black_box(&claims), &encoding_key))
    });
    group.bench_function("tessera_token/verify", |b| {
        b.iter(|| keys.verify(black_box(&ours), now))
    });
    group.bench_function("tessera_token/verify_foreign", |b| {
        b.iter(|| keys.verify(black_box(&theirs), now))
    });
    group.bench_function("jsonwebtoken/decode", |b| {
        b.iter(|| jsonwebtoken::decode::<Claims>(black_box(&theirs), &decoding_key, &validation))
    });
    group.finish();
}

criterion_group!(benches, tokens);
criterion_main!(benches);
