//! A resource server's check of an access token against its issuer's JWK Set.
//!
//! ```text
//! cargo run -p tessera-token --example verify_with_jwks -- \
//!     --jwks-url http://127.0.0.1:8080/.well-known/jwks.json \
//!     --issuer http://127.0.0.1:8080 --token eyJhbGciOiJFZERTQSIs…
//! ```
//!
//! Fetches the JWK Set, keeps the keys this crate can use ([`KeySet::from_jwks`]),
//! verifies the token now, requires `iss` to equal `--issuer`, and prints the
//! claims as JSON on stdout (whitespace around `--token` is ignored, as a shell
//! `$(cat token)` may add it). Any failure is one line on stderr and exit status 1.
//! The HTTP client has no TLS: give it an `http://` URL (a local issuer, or a
//! TLS-terminating proxy in front of it).

use std::process::ExitCode;
use std::time::Duration;

use chrono::Utc;
use tessera_token::{Jwks, KeySet, MAX_JWKS_LEN};

const USAGE: &str = "usage: verify_with_jwks --jwks-url URL --issuer ISS --token TOKEN";

struct Args {
    jwks_url: String,
    issuer: String,
    token: String,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let (mut jwks_url, mut issuer, mut token) = (None, None, None);
    while let Some(flag) = args.next() {
        let slot = match flag.as_str() {
            "--jwks-url" => &mut jwks_url,
            "--issuer" => &mut issuer,
            "--token" => &mut token,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        };
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        if slot.replace(value).is_some() {
            return Err(format!("{flag} given twice\n{USAGE}"));
        }
    }
    match (jwks_url, issuer, token) {
        (Some(jwks_url), Some(issuer), Some(token)) => Ok(Args {
            jwks_url,
            issuer,
            token,
        }),
        _ => Err(USAGE.to_owned()),
    }
}

/// Fetches the JWK Set at `url`, refusing bodies over [`MAX_JWKS_LEN`] before
/// reading them whole.
fn fetch_jwks(url: &str) -> Result<Jwks, String> {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|err| format!("cannot build the HTTP client: {}", causes(&err)))?;
    let response = client
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .map_err(|err| format!("cannot fetch the JWK Set from {url}: {}", causes(&err)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("fetching the JWK Set from {url}: HTTP {status}"));
    }
    if response
        .content_length()
        .is_some_and(|len| len > MAX_JWKS_LEN as u64)
    {
        return Err(format!("the JWK Set at {url} is over {MAX_JWKS_LEN} bytes"));
    }
    let mut body = Vec::new();
    let mut limited = std::io::Read::take(response, MAX_JWKS_LEN as u64 + 1);
    std::io::Read::read_to_end(&mut limited, &mut body)
        .map_err(|err| format!("cannot read the JWK Set from {url}: {err}"))?;
    Jwks::from_json(&body).map_err(|err| format!("the JWK Set at {url} is refused: {err}"))
}

/// `err` and each of its sources, so that "error sending request" says why.
fn causes(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn run(args: &Args) -> Result<String, String> {
    let jwks = fetch_jwks(&args.jwks_url)?;
    let keys = KeySet::from_jwks(&jwks).map_err(|err| format!("the JWK Set is refused: {err}"))?;
    if keys.keys().next().is_none() {
        return Err("the JWK Set has no EdDSA or ES256 signature key".to_owned());
    }
    let claims = keys
        .verify(args.token.trim(), Utc::now())
        .map_err(|err| format!("token refused ({}): {err}", err.kind()))?;
    // Verification leaves `iss` to the caller: a key set trusts its keys, and only
    // the caller knows which issuer those keys speak for.
    if claims.iss.as_deref() != Some(args.issuer.as_str()) {
        return Err(format!(
            "token refused (wrong_issuer): iss is {:?}, expected {:?}",
            claims.iss.as_deref().unwrap_or("<none>"),
            args.issuer
        ));
    }
    serde_json::to_string(&claims).map_err(|err| format!("cannot print the claims: {err}"))
}

fn main() -> ExitCode {
    let outcome = parse_args(std::env::args().skip(1)).and_then(|args| run(&args));
    match outcome {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("verify_with_jwks: {message}");
            ExitCode::FAILURE
        }
    }
}
