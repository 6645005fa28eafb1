//! Asymmetric signing keys on live deployments: the JWKS and metadata documents, rotation
//! by hand with `tessera keys rotate` against a running server's database, and several
//! processes rotating on schedule without ever both making a key.

use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tessera_domain::{KeyState, SigningKeyRepository};
use tessera_store::testing::TestDatabase;
use tessera_store::{Backend, Database, PoolOptions};
use tessera_token::{Jwks, KeySet};

use crate::helpers::{PASSWORD, SECRET, eventually, json_of};
use crate::process::Tessera;

/// The `tessera` command on `database_url`, configured as the servers of these tests are.
fn tessera(database_url: &str, data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("TESSERA_DATA_DIR", data_dir)
        .env("TESSERA_SECRET_KEY", SECRET)
        .env("TESSERA_SIGNING_ALG", "EdDSA")
        .env("TESSERA_KEY_ROTATION_DAYS", "0")
        .output()
        .expect("the tessera binary runs")
}

/// A fresh SQLite database, a data directory and `tessera serve` over them with `env`.
fn sqlite_server(env: &[(&str, &str)]) -> (TestDatabase, tempfile::TempDir, Tessera) {
    let database = TestDatabase::create(Backend::Sqlite).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = Tessera::start_with(database.url(), dir.path(), env);
    (database, dir, server)
}

async fn sign_in(client: &reqwest::Client, server: &Tessera, username: &str) -> String {
    let credentials = json!({"username": username, "password": PASSWORD});
    let created = client
        .post(server.url("/api/v1/users"))
        .json(&credentials)
        .send()
        .await
        .unwrap();
    assert!([201, 409].contains(&created.status().as_u16()));
    let issued: Value = json_of(client.post(server.url("/api/v1/tokens")).json(&credentials)).await;
    issued["access_token"].as_str().unwrap().to_owned()
}

fn kid(token: &str) -> String {
    let (header, _) = tessera_token::decode_unverified(token).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

async fn jwks(client: &reqwest::Client, server: &Tessera) -> (Jwks, String) {
    let response = client
        .get(server.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cache_control = response.headers()["cache-control"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = response.bytes().await.unwrap();
    (Jwks::from_json(&body).unwrap(), cache_control)
}

fn kids(jwks: &Jwks) -> HashSet<String> {
    jwks.keys.iter().filter_map(|key| key.kid.clone()).collect()
}

/// The JWKS publishes the active and the next key, cached for less than the next key's
/// lead time; the metadata names the issuer and the JWKS; the key list shows the states.
#[actix_web::test]
async fn the_jwks_and_metadata_describe_the_keys() {
    let issuer = "https://auth.example.test";
    let (database, dir, server) =
        sqlite_server(&[("TESSERA_SIGNING_ALG", "ES256"), ("TESSERA_ISSUER", issuer)]);
    let client = reqwest::Client::new();
    let token = sign_in(&client, &server, "alice").await;
    let (set, cache_control) = jwks(&client, &server).await;
    assert_eq!(set.keys.len(), 2, "active and next: {set:?}");
    assert!(
        set.keys.iter().all(|key| {
            key.alg.as_deref() == Some("ES256") && key.use_.as_deref() == Some("sig")
        })
    );
    assert!(kids(&set).contains(&kid(&token)));
    assert_eq!(cache_control, "public, max-age=300");
    let verified = KeySet::from_jwks(&set)
        .unwrap()
        .verify(&token, chrono::Utc::now())
        .unwrap();
    assert_eq!(verified.iss.as_deref(), Some(issuer));

    let metadata: Value =
        json_of(client.get(server.url("/.well-known/oauth-authorization-server"))).await;
    assert_eq!(metadata["issuer"], issuer);
    assert_eq!(
        metadata["jwks_uri"],
        format!("{issuer}/.well-known/jwks.json")
    );
    assert_eq!(
        metadata["access_token_signing_alg_values_supported"],
        json!(["ES256"])
    );

    let listed = tessera(database.url(), dir.path(), &["keys", "list", "--json"]);
    assert!(listed.status.success(), "{listed:?}");
    let rows: Vec<Value> = String::from_utf8(listed.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let states: Vec<(&str, &str)> = rows
        .iter()
        .map(|row| {
            (
                row["state"].as_str().unwrap(),
                row["source"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("next", "database"),
            ("active", "database"),
            ("retired", "configuration")
        ],
        "newest first; the configured secret only verifies: {rows:?}"
    );
    assert_eq!(rows[1]["kid"], kid(&token));
    assert!(rows[1]["activated"].is_string() && rows[0]["activated"].is_null());
    let table = tessera(database.url(), dir.path(), &["keys", "list"]);
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(table.starts_with("KID") && table.contains("ES256") && table.contains("3 key(s)"));
}

/// An attacker holds only what the server publishes: the JWKS. An HS256 token "signed"
/// with any form of a published public key, an unsigned one, or one that names a key of
/// the other curve under a published `kid`, is a 401 — while the genuine token works.
#[actix_web::test]
async fn tokens_forged_from_the_published_keys_are_refused() {
    let (_database, _dir, server) = sqlite_server(&[("TESSERA_SIGNING_ALG", "EdDSA")]);
    let client = reqwest::Client::new();
    let genuine = sign_in(&client, &server, "alice").await;
    let published: Value = json_of(client.get(server.url("/.well-known/jwks.json"))).await;
    let keys = published["keys"].as_array().unwrap();
    for key in keys {
        let members: HashSet<&str> = key
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            members,
            HashSet::from(["kty", "crv", "x", "kid", "alg", "use"]),
            "public members only: {key}"
        );
    }
    let active = keys
        .iter()
        .find(|key| key["kid"].as_str() == Some(kid(&genuine).as_str()))
        .expect("the signing key is published");
    let x = active["x"].as_str().unwrap();
    let payload = genuine.split('.').nth(1).unwrap();
    let header = |value: Value| URL_SAFE_NO_PAD.encode(value.to_string());
    let hs256_with = |secret: &[u8]| {
        let head = header(json!({"alg": "HS256", "typ": "JWT", "kid": kid(&genuine)}));
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
        mac.update(format!("{head}.{payload}").as_bytes());
        let tag = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{head}.{payload}.{tag}")
    };
    let signature = genuine.rsplit('.').next().unwrap();
    let forged = [
        (
            "HS256 keyed by the raw public key",
            hs256_with(&URL_SAFE_NO_PAD.decode(x).unwrap()),
        ),
        ("HS256 keyed by x as text", hs256_with(x.as_bytes())),
        (
            "HS256 keyed by the JWK",
            hs256_with(active.to_string().as_bytes()),
        ),
        (
            "HS256 keyed by the JWKS",
            hs256_with(published.to_string().as_bytes()),
        ),
        (
            "alg none",
            format!(
                "{}.{payload}.",
                header(json!({"alg": "none", "kid": kid(&genuine)}))
            ),
        ),
        (
            "ES256 under the EdDSA kid",
            format!(
                "{}.{payload}.{signature}",
                header(json!({"alg": "ES256", "typ": "JWT", "kid": kid(&genuine)}))
            ),
        ),
    ];
    let me = |token: String| {
        client
            .get(server.url("/api/v1/me"))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(me(genuine.clone()).await.unwrap().status(), 200);
    for (name, token) in forged {
        assert_eq!(me(token).await.unwrap().status(), 401, "{name}");
    }
}

/// `tessera keys rotate` against a live server's database: refused while the next key is
/// new, then forced; the server signs with the key that was already in the JWKS it
/// published before, and the token signed before the rotation still verifies.
#[actix_web::test]
async fn rotation_by_hand_on_a_live_server_never_meets_an_unknown_kid() {
    let (database, dir, server) = sqlite_server(&[
        ("TESSERA_SIGNING_ALG", "EdDSA"),
        ("TESSERA_KEY_ROTATION_DAYS", "0"),
        ("TESSERA_REVOCATION_SYNC_INTERVAL", "1"),
    ]);
    let client = reqwest::Client::new();
    let before = sign_in(&client, &server, "bob").await;
    let (published, _) = jwks(&client, &server).await;

    let refused = tessera(database.url(), dir.path(), &["keys", "rotate"]);
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("--force"), "{message}");

    let rotated = tessera(database.url(), dir.path(), &["keys", "rotate", "--force"]);
    assert!(rotated.status.success(), "{rotated:?}");

    let mut after = String::new();
    let switched = eventually(Duration::from_secs(10), async || {
        after = sign_in(&client, &server, "bob").await;
        kid(&after) != kid(&before)
    })
    .await;
    assert!(
        switched,
        "the server learns of the rotation within its sync interval"
    );
    assert!(
        kids(&published).contains(&kid(&after)),
        "the new signing key was in the JWKS fetched before the rotation"
    );
    let (republished, _) = jwks(&client, &server).await;
    let now = chrono::Utc::now();
    let keys = KeySet::from_jwks(&republished).unwrap();
    assert!(
        keys.verify(&before, now).is_ok(),
        "the retired key is still published"
    );
    assert!(keys.verify(&after, now).is_ok());
    let me = client
        .get(server.url("/api/v1/me"))
        .bearer_auth(&before)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200, "a token of the retired key still works");
}

/// Two processes on one database rotate every ten seconds or so. Each rotation happens
/// once: the generations run without gap or repeat, each retirement is its successor's
/// activation, and tokens from either process verify on the other at once.
async fn processes_rotate_on_schedule_and_never_both_make_a_key(backend: Backend) {
    let Some(database) = TestDatabase::create(backend) else {
        return;
    };
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // 0.00012 days: 10.4 s, just over the shortest period allowed.
    let env = [
        ("TESSERA_SIGNING_ALG", "EdDSA"),
        ("TESSERA_KEY_ROTATION_DAYS", "0.00012"),
        ("TESSERA_REVOCATION_SYNC_INTERVAL", "1"),
    ];
    let a = Tessera::start_with(database.url(), dir_a.path(), &env);
    let b = Tessera::start_with(database.url(), dir_b.path(), &env);
    let store = Database::open(database.url(), &PoolOptions::default()).unwrap();
    let rotated = eventually(Duration::from_secs(90), async || {
        store.signing_keys().unwrap().len() >= 5
    })
    .await;
    assert!(rotated, "three rotations in 90 s");

    let client = reqwest::Client::new();
    let from_a = sign_in(&client, &a, "carol").await;
    let me = client
        .get(b.url("/api/v1/me"))
        .bearer_auth(&from_a)
        .send()
        .await
        .unwrap();
    assert_eq!(
        me.status(),
        200,
        "B verifies A's token: it had A's key as next"
    );

    let keys = store.signing_keys().unwrap();
    let generations: Vec<i64> = keys.iter().map(|key| key.generation).collect();
    let first = generations[0];
    assert_eq!(
        generations,
        (first..first + keys.len() as i64).collect::<Vec<_>>(),
        "no generation made twice or skipped"
    );
    let unique: HashSet<&str> = keys.iter().map(|key| key.kid.as_str()).collect();
    assert_eq!(unique.len(), keys.len());
    let states: Vec<KeyState> = keys.iter().map(|key| key.state()).collect();
    assert_eq!(states.iter().filter(|s| **s == KeyState::Active).count(), 1);
    assert_eq!(states.last(), Some(&KeyState::Next));
    for pair in keys.windows(2) {
        if pair[0].state() == KeyState::Retired {
            assert_eq!(
                pair[0].retired_at, pair[1].activated_at,
                "one rotation retired {} and activated {}",
                pair[0].kid, pair[1].kid
            );
        }
    }
    drop((a, b));
}

server_backend_tests!(processes_rotate_on_schedule_and_never_both_make_a_key);
