//! Hostile input, each with the exact status it must get: forged and malformed tokens,
//! broken headers and bodies. Never a 500, never a hang, always a JSON problem.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use tessera_store::Backend;

use crate::helpers::{SECRET, problem, spawn};

/// A token signed with the server's real secret around the given header and claims text,
/// so only the hostile part can be why it is refused.
fn forge(header: &str, claims: &str) -> String {
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(signing_input.as_bytes());
    format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

fn kid() -> String {
    let config = tessera_server::config::Config {
        secret_key: Some(tessera_server::config::SecretString::new(SECRET)),
        ..Default::default()
    };
    tessera_server::keys::key_set(&config)
        .unwrap()
        .signing_key_id()
        .unwrap()
        .to_owned()
}

fn claims(exp: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    format!(r#"{{"sub":"1","iat":{now},"exp":{exp},"jti":"x","sid":"s"}}"#)
}

async fn hostile_tokens_are_401(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let token = app.token_for("hostile").await;
    let kid = kid();
    let later = (chrono::Utc::now().timestamp() + 600).to_string();
    let good_header = format!(r#"{{"alg":"HS256","typ":"JWT","kid":"{kid}"}}"#);
    let (head, rest) = token.split_once('.').unwrap();
    let cases: Vec<(&str, String)> = vec![
        (
            "control: a well-formed forged token verifies",
            forge(&good_header, &claims(&later)),
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
                URL_SAFE_NO_PAD.encode(claims(&later))
            ),
        ),
        (
            "alg swapped to HS512",
            forge(
                &format!(r#"{{"alg":"HS512","typ":"JWT","kid":"{kid}"}}"#),
                &claims(&later),
            ),
        ),
        (
            "kid unknown",
            forge(
                r#"{"alg":"HS256","typ":"JWT","kid":"nobody"}"#,
                &claims(&later),
            ),
        ),
        (
            "kid path-like",
            forge(
                r#"{"alg":"HS256","typ":"JWT","kid":"../../etc/passwd"}"#,
                &claims(&later),
            ),
        ),
        (
            "duplicate JSON keys",
            forge(
                &good_header,
                &format!(r#"{{"sub":"1","sub":"2","iat":1,"exp":{later},"jti":"x"}}"#),
            ),
        ),
        (
            "exp as a string",
            forge(&good_header, &claims(&format!("\"{later}\""))),
        ),
        (
            "exp as a float",
            forge(&good_header, &claims(&format!("{later}.5"))),
        ),
        (
            "exp huge",
            forge(&good_header, &claims("99999999999999999999999")),
        ),
        ("exp in the past", forge(&good_header, &claims("1"))),
        (
            "no sid: Tessera issues no token without a session",
            forge(&good_header, &claims(&later).replace(r#","sid":"s""#, "")),
        ),
        (
            "empty sid",
            forge(
                &good_header,
                &claims(&later).replace(r#""sid":"s""#, r#""sid":"""#),
            ),
        ),
        (
            "sub with a leading zero names nobody",
            forge(
                &good_header,
                &claims(&later).replace(r#""sub":"1""#, r#""sub":"01""#),
            ),
        ),
        (
            "iat in the future",
            forge(
                &good_header,
                &format!(r#"{{"sub":"1","iat":{later},"exp":{later}9,"jti":"x","sid":"s"}}"#),
            ),
        ),
        (
            "control: NUL inside a signed claim is data, not an attack",
            forge(
                &good_header,
                &claims(&later).replace("\"x\"", "\"x\\u0000\""),
            ),
        ),
        (
            "invalid UTF-8 in the header",
            format!("{}.{rest}", URL_SAFE_NO_PAD.encode([0xff, 0xfe, b'{'])),
        ),
        ("non-canonical base64", format!("{head}A.{rest}")),
        ("padding", format!("{head}==.{rest}")),
        (
            "huge token",
            format!("{}.{}.{}", head, "A".repeat(9000), "B"),
        ),
        ("two segments", rest.to_owned()),
    ];
    for (why, token) in &cases {
        let response = app.get_bearer("/api/v1/me", token).await;
        let expected = if why.starts_with("control") { 200 } else { 401 };
        if expected == 200 {
            assert_eq!(response.status(), 200, "{why}");
            continue;
        }
        assert_eq!(response.status(), 401, "{why}");
        assert_eq!(
            problem(response, 401).await["code"],
            "invalid_token",
            "{why}"
        );
    }
}

/// Why, path, headers, body (POST when present), expected status.
type Case = (
    &'static str,
    &'static str,
    Vec<(&'static str, String)>,
    Option<Vec<u8>>,
    u16,
);

async fn hostile_requests_get_exact_statuses(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let token = app.token_for("target").await;
    let basic = |raw: &[u8]| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    };
    let cases: Vec<Case> = vec![
        (
            "token in the query string",
            "/api/v1/me?access_token=TOKEN",
            vec![],
            None,
            401,
        ),
        (
            "Basic with invalid UTF-8",
            "/api/login",
            vec![("authorization", basic(&[0xff, b':', b'x']))],
            None,
            401,
        ),
        (
            "Basic without a colon",
            "/api/login",
            vec![("authorization", basic(b"nocolon"))],
            None,
            401,
        ),
        (
            "Basic that is not base64",
            "/api/login",
            vec![("authorization", "Basic ***".into())],
            None,
            401,
        ),
        (
            "unknown scheme",
            "/api/v1/me",
            vec![("authorization", "Digest x".into())],
            None,
            400,
        ),
        (
            "Bearer with spaces",
            "/api/v1/me",
            vec![("authorization", "Bearer a b".into())],
            None,
            400,
        ),
        (
            "empty Bearer",
            "/api/v1/me",
            vec![("authorization", "Bearer".into())],
            None,
            400,
        ),
        (
            "body: invalid UTF-8",
            "/api/v1/users",
            vec![("content-type", "application/json".into())],
            Some(b"{\"username\":\"\xff\"}".to_vec()),
            400,
        ),
        (
            "body: NUL in the name",
            "/api/v1/users",
            vec![("content-type", "application/json".into())],
            Some(br#"{"username":"a\u0000b","password":"correct horse battery"}"#.to_vec()),
            400,
        ),
        (
            "body: a JSON array",
            "/api/v1/tokens",
            vec![("content-type", "application/json".into())],
            Some(b"[1,2]".to_vec()),
            400,
        ),
        (
            "body: deep nesting",
            "/api/v1/tokens",
            vec![("content-type", "application/json".into())],
            Some(format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes()),
            400,
        ),
        (
            "body: username null",
            "/api/v1/tokens",
            vec![("content-type", "application/json".into())],
            Some(br#"{"username":null,"password":"x"}"#.to_vec()),
            400,
        ),
    ];
    for (why, path, headers, body, status) in cases {
        let path = path.replace("TOKEN", &token);
        let mut request = match body {
            Some(body) => app.client.post(app.url(&path)).body(body),
            None => app.client.get(app.url(&path)),
        };
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{why}: {e}"));
        assert_eq!(response.status(), status, "{why}");
        let body: Value = problem(response, status).await;
        assert!(body["code"].is_string(), "{why}: {body}");
    }
}

/// A 1 MB body gets 413. The server answers as soon as it sees the length and closes the
/// connection, so the request is written raw: the answer is read even when the rest of
/// the body can no longer be sent.
async fn a_megabyte_body_is_413(backend: Backend) {
    use std::io::{Read, Write};
    let Some(app) = spawn(backend).await else {
        return;
    };
    let address = app.base.trim_start_matches("http://").to_owned();
    let answer = actix_web::rt::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let body = vec![b' '; 1 << 20];
        let head = format!(
            "POST /api/v1/users HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let mut writer = stream.try_clone().unwrap();
        let sender = std::thread::spawn(move || {
            let _ = writer
                .write_all(head.as_bytes())
                .and_then(|()| writer.write_all(&body));
        });
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        let _ = sender.join();
        String::from_utf8_lossy(&answer).into_owned()
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer
            .to_lowercase()
            .contains("content-type: application/problem+json"),
        "{answer}"
    );
    assert!(answer.contains(r#""code":"payload_too_large""#), "{answer}");
}

backend_tests!(
    hostile_tokens_are_401,
    hostile_requests_get_exact_statuses,
    a_megabyte_body_is_413
);
