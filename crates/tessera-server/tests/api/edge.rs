//! The HTTP edge against slow and odd clients: the request body deadline, the
//! per-address connection cap, the head size limit, duplicate `Authorization` headers,
//! bad `Content-Encoding`, and CORS refusals — each answered with a problem body or a
//! closed connection, never a connection held open or plain text.
//!
//! Raw sockets where reqwest would hide what the server does; the waiting is done by the
//! server's own deadlines, read with a generous client-side timeout.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};
use tessera_store::Backend;

use crate::helpers::{ALLOWED_ORIGIN, PASSWORD, TestApp, eventually, header, problem, spawn_with};

/// Far above every server-side bound these tests configure: reaching it is the failure.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(20);

fn server_address(app: &TestApp) -> SocketAddr {
    app.base.trim_start_matches("http://").parse().unwrap()
}

/// A blocking connection to the server from `source` (any 127.0.0.0/8 address is this
/// host), with the client-side read timeout set.
async fn connect_from(source: IpAddr, server: SocketAddr) -> TcpStream {
    let socket = actix_web::rt::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(source, 0)).unwrap();
    let stream = socket.connect(server).await.unwrap().into_std().unwrap();
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(CLIENT_TIMEOUT)).unwrap();
    stream
}

/// Everything the server sends until it closes the connection, and whether it did close
/// it (`false`: the client-side timeout ran out first).
fn read_until_closed(stream: &mut TcpStream) -> (String, bool) {
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    let closed = loop {
        match stream.read(&mut chunk) {
            Ok(0) => break true,
            Ok(n) => answer.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
            Err(_) => break false,
        }
    };
    (String::from_utf8_lossy(&answer).into_owned(), closed)
}

/// Sends `head` (which announces a 10,000-byte body), then one byte of it every 200 ms
/// until the server stops reading or the client gives up; returns what the server said
/// and whether it closed the connection.
async fn trickle(app: &TestApp, head: String) -> (String, bool) {
    let mut stream = connect_from([127, 0, 0, 1].into(), server_address(app)).await;
    actix_web::rt::task::spawn_blocking(move || {
        stream.write_all(head.as_bytes()).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let mut writer = stream.try_clone().unwrap();
        let trickler = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                // The attack's pace, not a synchronisation: the server must not wait for it.
                for _ in 0..10_000 {
                    if stop.load(Ordering::Relaxed) || writer.write_all(b" ").is_err() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
            })
        };
        let outcome = read_until_closed(&mut stream);
        stop.store(true, Ordering::Relaxed);
        trickler.join().unwrap();
        outcome
    })
    .await
    .unwrap()
}

fn one_second_bodies(config: &mut tessera_server::config::Config) {
    config.request_body_timeout = 1;
}

#[actix_web::test]
async fn a_trickled_body_is_answered_408_at_its_deadline() {
    let app = spawn_with(Backend::Sqlite, one_second_bodies)
        .await
        .unwrap();
    let (answer, closed) = trickle(
        &app,
        "POST /api/v1/tokens HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
         Content-Length: 10000\r\n\r\n{"
            .to_owned(),
    )
    .await;
    assert!(closed, "the connection stayed open: {answer:?}");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let lower = answer.to_lowercase();
    assert!(
        lower.contains("content-type: application/problem+json"),
        "{answer}"
    );
    assert!(lower.contains("connection: close"), "{answer}");
    assert!(answer.contains(r#""code":"request_timeout""#), "{answer}");
}

#[actix_web::test]
async fn a_trickled_body_no_route_reads_closes_after_the_answer() {
    let app = spawn_with(Backend::Sqlite, one_second_bodies)
        .await
        .unwrap();
    let (answer, closed) = trickle(
        &app,
        "GET /healthz HTTP/1.1\r\nHost: test\r\nContent-Length: 10000\r\n\r\n".to_owned(),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        closed,
        "the unread body kept the connection open: {answer:?}"
    );
}

/// One keep-alive `GET /healthz` on `stream`: the status line, or `None` when the server
/// closed the connection instead of answering.
fn healthz(stream: &mut TcpStream) -> Option<String> {
    let _ = stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n");
    let mut answer = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        let text = String::from_utf8_lossy(&answer).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|line| {
                    line.to_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_owned)
                })
                .and_then(|length| length.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if body.len() >= length {
                return head.lines().next().map(str::to_owned);
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => answer.extend_from_slice(&chunk[..n]),
        }
    }
}

async fn healthz_from(source: IpAddr, app: &TestApp) -> (TcpStream, Option<String>) {
    let mut stream = connect_from(source, server_address(app)).await;
    actix_web::rt::task::spawn_blocking(move || {
        let status = healthz(&mut stream);
        (stream, status)
    })
    .await
    .unwrap()
}

#[actix_web::test]
async fn connections_over_the_per_address_cap_are_closed_and_others_served() {
    const CAP: usize = 4;
    let app = spawn_with(Backend::Sqlite, |config| {
        config.max_connections_per_address = CAP;
    })
    .await
    .unwrap();
    let local: IpAddr = [127, 0, 0, 1].into();
    let mut held = Vec::new();
    for _ in 0..CAP {
        // Answered, so counted: the next one is over the cap whatever the workers' order.
        let (stream, status) = healthz_from(local, &app).await;
        assert_eq!(status.as_deref(), Some("HTTP/1.1 200 OK"));
        held.push(stream);
    }
    let (_, over) = healthz_from(local, &app).await;
    assert_eq!(over, None, "connection {} from one address", CAP + 1);
    let (_, other) = healthz_from([127, 0, 0, 2].into(), &app).await;
    assert_eq!(
        other.as_deref(),
        Some("HTTP/1.1 200 OK"),
        "another address is served"
    );
    drop(held.pop());
    let freed = eventually(Duration::from_secs(10), async || {
        healthz_from(local, &app).await.1.as_deref() == Some("HTTP/1.1 200 OK")
    })
    .await;
    assert!(freed, "a closed connection gives its slot back");
}

#[actix_web::test]
async fn headers_over_32_kib_get_a_problem_431() {
    let app = spawn_with(Backend::Sqlite, |_| {}).await.unwrap();
    let within = "a".repeat(tessera_http::MAX_HEAD_BYTES / 2);
    let response = app.get_with("/healthz", &[("x-padding", &within)]).await;
    assert_eq!(response.status(), 200, "half the limit is fine");
    let over = "a".repeat(tessera_http::MAX_HEAD_BYTES + 1024);
    let response = app.get_with("/healthz", &[("x-padding", &over)]).await;
    assert_eq!(header(&response, "connection"), "close");
    let body = problem(response, 431).await;
    assert_eq!(body["code"], "headers_too_large");
    assert_eq!(
        body["detail"],
        "the request line and headers are larger than 32 KiB"
    );
    // Spread over many headers counts the same.
    let mut request = app.client.get(app.url("/healthz"));
    for i in 0..40 {
        request = request.header(format!("x-padding-{i}"), "b".repeat(1000));
    }
    problem(request.send().await.unwrap(), 431).await;
}

async fn two_authorization_headers_are_400(backend: Backend) {
    let Some(app) = spawn_with(backend, |_| {}).await else {
        return;
    };
    let token = app.token_for("first").await;
    let other = app.token_for("second").await;
    let cases = [
        (
            "/api/v1/me",
            format!("Bearer {token}"),
            format!("Bearer {other}"),
        ),
        ("/", format!("Bearer {token}"), "Bearer x.y.z".to_owned()),
        (
            "/api/login",
            format!("Basic {}", basic("first", PASSWORD)),
            format!("Basic {}", basic("second", PASSWORD)),
        ),
    ];
    for (path, first, second) in cases {
        let mut headers = HeaderMap::new();
        headers.append("authorization", HeaderValue::from_str(&first).unwrap());
        headers.append("authorization", HeaderValue::from_str(&second).unwrap());
        let response = app
            .client
            .get(app.url(path))
            .headers(headers)
            .send()
            .await
            .unwrap();
        let body = problem(response, 400).await;
        assert_eq!(body["code"], "invalid_authorization", "{path}: {body}");
    }
    // One header still works.
    assert_eq!(app.get_bearer("/api/v1/me", &token).await.status(), 200);
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

/// A body in an encoding it does not claim is refused in plain words; an encoding actix
/// cannot decode is refused, not read as identity.
#[actix_web::test]
async fn a_bad_content_encoding_is_a_plain_sentence() {
    let app = spawn_with(Backend::Sqlite, |_| {}).await.unwrap();
    let credentials = json!({"username": "ann", "password": PASSWORD}).to_string();
    let cases = [
        ("gzip", 400),
        ("deflate", 400),
        ("br", 415),
        ("zstd", 415),
        ("bogus", 415),
        ("gzip, gzip", 415),
    ];
    for (encoding, status) in cases {
        let response = app
            .client
            .post(app.url("/api/v1/tokens"))
            .header("content-type", "application/json")
            .header("content-encoding", encoding)
            .body(credentials.clone())
            .send()
            .await
            .unwrap();
        let body: Value = problem(response, status).await;
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains("Content-Encoding"), "{encoding}: {detail}");
        for debug_text in ["Custom", "kind:", "Some(", "{", "Error"] {
            assert!(!detail.contains(debug_text), "{encoding}: {detail}");
        }
    }
    let identity = app
        .client
        .post(app.url("/api/v1/tokens"))
        .header("content-type", "application/json")
        .header("content-encoding", "identity")
        .body(credentials)
        .send()
        .await
        .unwrap();
    assert_eq!(problem(identity, 401).await["code"], "invalid_credentials");
}

#[actix_web::test]
async fn cors_refusals_are_problems() {
    let app = spawn_with(Backend::Sqlite, |_| {}).await.unwrap();
    let preflight = |origin: &str, method: &str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/tokens"))
            .header("origin", origin)
            .header("access-control-request-method", method)
            .send()
    };
    let allowed = preflight(ALLOWED_ORIGIN, "POST").await.unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        header(&allowed, "access-control-allow-origin"),
        ALLOWED_ORIGIN
    );

    let refused = preflight("http://evil.example", "POST").await.unwrap();
    assert_eq!(header(&refused, "x-content-type-options"), "nosniff");
    assert_eq!(header(&refused, "access-control-allow-origin"), "");
    let body = problem(refused, 403).await;
    assert_eq!(body["code"], "cors_refused");
    let body = problem(preflight(ALLOWED_ORIGIN, "PATCH").await.unwrap(), 403).await;
    assert_eq!(body["code"], "cors_refused");

    // A simple request is answered without CORS headers: the browser keeps it from the page.
    let simple = app
        .get_with("/healthz", &[("origin", "http://evil.example")])
        .await;
    assert_eq!(simple.status(), 200);
    assert_eq!(header(&simple, "access-control-allow-origin"), "");
}

backend_tests!(two_authorization_headers_are_400);
