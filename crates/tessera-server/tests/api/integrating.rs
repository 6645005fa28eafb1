//! Services that trust Tessera's tokens, as `docs/integrating.md` tells them to: the
//! guide's snippets (`tests/peers/`: PyJWT's `PyJWKClient`, npm `jose`'s
//! `createRemoteJWKSet`, and the `verify_with_jwks` example of `tessera-token`) run against
//! the real `tessera` binary and its `/.well-known/jwks.json`.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tessera_store::Backend;
use tessera_store::testing::TestDatabase;

use crate::helpers::{PASSWORD, SECRET, json_of, python};
use crate::process::Tessera;

/// The issuer Tessera is configured with; it need not be the address it listens on.
const ISSUER: &str = "http://127.0.0.1";
const AUDIENCE: &str = "orders-api";
const TOKEN_TTL: i64 = 300;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn peer_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/peers")
        .join(name)
}

/// A verifier written by others, run as a child process: its claims on success, its
/// stderr when it refuses the token.
struct Verifier {
    name: &'static str,
    command: PathBuf,
    script: PathBuf,
    /// Where `jose_verify.mjs` runs beside a `node_modules` holding `jose`.
    _dir: Option<tempfile::TempDir>,
}

impl Verifier {
    fn pyjwt() -> Option<Verifier> {
        Some(Verifier {
            name: "PyJWT",
            command: python()?,
            script: peer_script("pyjwt_verify.py"),
            _dir: None,
        })
    }

    /// Node and the `jose` that `make test` installs in `target/tools/jose`; like
    /// [`python`], missing tools fail the test under CI and skip it elsewhere.
    fn jose() -> Option<Verifier> {
        let modules = workspace_root().join("target/tools/jose/node_modules");
        let node_runs = Command::new("node")
            .arg("--version")
            .output()
            .is_ok_and(|output| output.status.success());
        if !node_runs || !modules.join("jose/package.json").exists() {
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "node or target/tools/jose is missing: `make test` (scripts/install-deps.sh test) installs them"
            );
            eprintln!("SKIPPING: no node or target/tools/jose; run `scripts/install-deps.sh test`");
            return None;
        }
        // ES modules resolve `import … from "jose"` from the script's own directory, not
        // NODE_PATH: run a copy beside a link to the installed package.
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("jose_verify.mjs");
        std::fs::copy(peer_script("jose_verify.mjs"), &script).unwrap();
        std::os::unix::fs::symlink(&modules, dir.path().join("node_modules")).unwrap();
        Some(Verifier {
            name: "jose",
            command: "node".into(),
            script,
            _dir: Some(dir),
        })
    }

    fn verify(&self, args: &[&str]) -> Result<Value, String> {
        let output = Command::new(&self.command)
            .arg(&self.script)
            .args(args)
            .output()
            .unwrap_or_else(|error| panic!("{} runs: {error}", self.name));
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).into_owned());
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        Ok(serde_json::from_str(stdout.trim())
            .unwrap_or_else(|_| panic!("{} prints the claims as JSON: {stdout}", self.name)))
    }
}

/// A signed-in user of a running server, with what Tessera said about the sign-in.
struct Issued {
    user_id: String,
    session_id: String,
    access_token: String,
    expires_in: i64,
}

struct Server {
    tessera: Tessera,
    client: reqwest::Client,
    _database: TestDatabase,
    _data_dir: tempfile::TempDir,
}

impl Server {
    fn start(env: &[(&str, &str)]) -> Server {
        let database = TestDatabase::create(Backend::Sqlite).expect("SQLite is always there");
        let data_dir = tempfile::tempdir().unwrap();
        let tessera = Tessera::start_with(database.url(), data_dir.path(), env);
        Server {
            tessera,
            client: reqwest::Client::new(),
            _database: database,
            _data_dir: data_dir,
        }
    }

    fn jwks_url(&self) -> String {
        self.tessera.url("/.well-known/jwks.json")
    }

    async fn sign_in(&self, username: &str) -> Issued {
        let credentials = json!({"username": username, "password": PASSWORD});
        let created = self
            .client
            .post(self.tessera.url("/api/v1/users"))
            .json(&credentials)
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        let user: Value = created.json().await.unwrap();
        let signed_in = self
            .client
            .post(self.tessera.url("/api/v1/tokens"))
            .json(&credentials)
            .send()
            .await
            .unwrap();
        assert!(signed_in.status().is_success(), "{}", signed_in.status());
        let pair: Value = signed_in.json().await.unwrap();
        assert_eq!(pair["token_type"], "Bearer");
        let access_token = pair["access_token"].as_str().unwrap().to_owned();
        let sessions: Value = json_of(
            self.client
                .get(self.tessera.url("/api/v1/sessions"))
                .bearer_auth(&access_token),
        )
        .await;
        let current = sessions
            .as_array()
            .unwrap()
            .iter()
            .find(|session| session["current"] == true)
            .expect("the sign-in's session is listed as current");
        Issued {
            user_id: user["id"].as_i64().unwrap().to_string(),
            session_id: current["id"].as_str().unwrap().to_owned(),
            access_token,
            expires_in: pair["expires_in"].as_i64().unwrap(),
        }
    }

    /// The published keys, after checking the document's shape and caching header.
    async fn published_keys(&self) -> Vec<Value> {
        let response = self.client.get(self.jwks_url()).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let cache_control = response
            .headers()
            .get("cache-control")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(
            cache_control.contains("max-age="),
            "verifiers learn how long to cache the keys: {cache_control:?}"
        );
        let jwks: Value = response.json().await.unwrap();
        jwks["keys"].as_array().expect("a JWK Set").clone()
    }
}

fn segment(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("a compact JWS");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// The token with its subject changed and the signature kept: what a forger would send.
fn with_other_subject(token: &str) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims = segment(token, 1);
    claims["sub"] = json!("999999");
    let forged = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    format!("{}.{forged}.{}", parts[0], parts[2])
}

fn assert_claims_match(verifier: &str, claims: &Value, issued: &Issued) {
    assert_eq!(claims["sub"], json!(issued.user_id), "{verifier}: {claims}");
    assert_eq!(
        claims["sid"],
        json!(issued.session_id),
        "{verifier}: {claims}"
    );
    assert_eq!(claims["iss"], ISSUER, "{verifier}: {claims}");
    let audience = &claims["aud"];
    assert!(
        *audience == AUDIENCE
            || audience
                .as_array()
                .is_some_and(|all| all.contains(&json!(AUDIENCE))),
        "{verifier}: {claims}"
    );
    assert!(
        claims["jti"].as_str().is_some_and(|jti| !jti.is_empty()),
        "{verifier}: {claims}"
    );
    let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert_eq!(lifetime, issued.expires_in, "{verifier}: {claims}");
}

/// Tessera signs with `alg`; PyJWT and jose, given only the JWKS URL, the issuer and an
/// allowlist of that one algorithm, accept its tokens and refuse forged ones.
async fn asymmetric_tokens_verify_with_pyjwt_and_jose(alg: &str, other_alg: &str) {
    let (Some(pyjwt), Some(jose)) = (Verifier::pyjwt(), Verifier::jose()) else {
        return;
    };
    let ttl = TOKEN_TTL.to_string();
    let server = Server::start(&[
        ("TESSERA_SIGNING_ALG", alg),
        ("TESSERA_ISSUER", ISSUER),
        ("TESSERA_AUDIENCE", AUDIENCE),
        ("TESSERA_TOKEN_TTL", &ttl),
    ]);
    let issued = server.sign_in("integrator").await;
    assert_eq!(issued.expires_in, TOKEN_TTL);

    let header = segment(&issued.access_token, 0);
    assert_eq!(header["alg"], alg);
    let kid = header["kid"].as_str().expect("tokens name their key");
    let keys = server.published_keys().await;
    let key = keys
        .iter()
        .find(|key| key["kid"] == kid)
        .unwrap_or_else(|| panic!("the signing key {kid} is published: {keys:?}"));
    assert_eq!(key["alg"], alg);
    assert_eq!(key["use"], "sig");
    assert!(
        key.get("d").is_none(),
        "no private part is published: {key}"
    );

    let jwks_url = server.jwks_url();
    let jwks = jwks_url.as_str();
    let token = issued.access_token.as_str();
    let forged = with_other_subject(token);
    let forged = forged.as_str();
    let mut verified = Vec::new();
    for verifier in [&pyjwt, &jose] {
        let name = verifier.name;
        let claims = verifier
            .verify(&[jwks, ISSUER, alg, token, AUDIENCE])
            .unwrap_or_else(|error| panic!("{name} accepts Tessera's {alg} token: {error}"));
        assert_claims_match(name, &claims, &issued);
        verified.push(claims);

        let refusals = [
            ("a changed claim", [jwks, ISSUER, alg, forged, AUDIENCE]),
            (
                "another issuer",
                [jwks, "https://evil.example", alg, token, AUDIENCE],
            ),
            (
                "another audience",
                [jwks, ISSUER, alg, token, "billing-api"],
            ),
            (
                "another algorithm",
                [jwks, ISSUER, other_alg, token, AUDIENCE],
            ),
        ];
        for (what, args) in refusals {
            assert!(verifier.verify(&args).is_err(), "{name} refuses {what}");
        }
    }
    assert_eq!(verified[0], verified[1], "both read the same claims");
}

#[actix_web::test]
async fn eddsa_tokens_verify_with_pyjwt_and_jose() {
    asymmetric_tokens_verify_with_pyjwt_and_jose("EdDSA", "ES256").await;
}

#[actix_web::test]
async fn es256_tokens_verify_with_pyjwt_and_jose() {
    asymmetric_tokens_verify_with_pyjwt_and_jose("ES256", "EdDSA").await;
}

/// The default keeps shared-secret tokens: the secret verifies them, and the JWKS, which
/// never holds a secret, is empty — so a JWKS verifier finds nothing to trust them with.
#[actix_web::test]
async fn hs256_tokens_still_verify_with_the_secret() {
    let (Some(pyjwt), Some(jose)) = (Verifier::pyjwt(), Verifier::jose()) else {
        return;
    };
    let server = Server::start(&[]);
    let issued = server.sign_in("shared-secret").await;
    assert_eq!(segment(&issued.access_token, 0)["alg"], "HS256");
    let token = issued.access_token.as_str();

    let claims = pyjwt
        .verify(&["--secret", SECRET, "HS256", token])
        .unwrap_or_else(|error| panic!("PyJWT accepts the HS256 token: {error}"));
    assert_eq!(claims["sub"], json!(issued.user_id));
    assert_eq!(claims["sid"], json!(issued.session_id));
    let wrong_secret = "another-secret-of-at-least-thirty-two-bytes";
    assert!(
        pyjwt
            .verify(&["--secret", wrong_secret, "HS256", token])
            .is_err()
    );
    let forged = with_other_subject(token);
    assert!(
        pyjwt
            .verify(&["--secret", SECRET, "HS256", &forged])
            .is_err()
    );

    let response = server.client.get(server.jwks_url()).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap(), json!({"keys": []}));
    let jwks_url = server.jwks_url();
    let issuer = claims["iss"].as_str().unwrap_or(ISSUER).to_owned();
    for verifier in [&pyjwt, &jose] {
        assert!(
            verifier
                .verify(&[jwks_url.as_str(), &issuer, "HS256", token])
                .is_err(),
            "{} finds no key for an HS256 token in the JWKS",
            verifier.name
        );
    }
}

/// `crates/tessera-token/examples/verify_with_jwks.rs`, built: `cargo test --workspace`
/// builds it beside the tests; a run of this crate alone builds it here, in the same
/// target directory (cargo releases its lock once the tests are built).
fn rust_example() -> PathBuf {
    let profile_dir = Path::new(env!("CARGO_BIN_EXE_tessera")).parent().unwrap();
    let example = profile_dir.join("examples/verify_with_jwks");
    if example.exists() {
        return example;
    }
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "build",
            "--locked",
            "-p",
            "tessera-token",
            "--example",
            "verify_with_jwks",
        ])
        .arg("--target-dir")
        .arg(profile_dir.parent().unwrap());
    if cfg!(not(debug_assertions)) {
        cargo.arg("--release");
    }
    assert!(
        cargo.status().unwrap().success(),
        "the verify_with_jwks example builds"
    );
    example
}

#[actix_web::test]
async fn the_rust_example_verifies_against_the_jwks() {
    let example = rust_example();
    let server = Server::start(&[("TESSERA_SIGNING_ALG", "EdDSA"), ("TESSERA_ISSUER", ISSUER)]);
    let issued = server.sign_in("rustacean").await;
    let jwks_url = server.jwks_url();
    let run = |issuer: &str, token: &str| {
        Command::new(&example)
            .args([
                "--jwks-url",
                &jwks_url,
                "--issuer",
                issuer,
                "--token",
                token,
            ])
            .output()
            .expect("the example runs")
    };

    let output = run(ISSUER, &issued.access_token);
    assert!(
        output.status.success(),
        "the example accepts the token: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let claims: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|_| panic!("the example prints the claims as JSON: {stdout}"));
    assert_eq!(claims["sub"], json!(issued.user_id));
    assert_eq!(claims["sid"], json!(issued.session_id));

    assert!(
        !run("https://evil.example", &issued.access_token)
            .status
            .success()
    );
    assert!(
        !run(ISSUER, &with_other_subject(&issued.access_token))
            .status
            .success()
    );
}
