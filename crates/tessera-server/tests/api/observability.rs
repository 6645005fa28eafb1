//! What operators see: `/metrics` (bounded labels, both text formats, `promtool`-clean) and
//! the log lines of the real `tessera` binary (client address, user id, levels, rounded
//! durations, the lockout warning, no colour in a pipe, no secrets).
//!
//! `promtool` (Debian's `prometheus` package) checks the classic text format: without it
//! that test fails when `CI=true` and is skipped, loudly, otherwise.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tessera_store::Backend;

use crate::helpers::{PASSWORD, SECRET, spawn};

/// How long a log line may take to arrive; only a failing test waits this long.
const DEADLINE: Duration = Duration::from_secs(20);

async fn metrics(base: &str, accept: Option<&str>) -> (String, String) {
    let mut request = reqwest::Client::new().get(format!("{base}/metrics"));
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    (content_type, response.text().await.unwrap())
}

#[actix_web::test]
async fn methods_and_paths_a_client_invents_never_become_metric_labels() {
    let app = spawn(Backend::Sqlite).await.unwrap();
    let mut invented = Vec::new();
    for _ in 0..200 {
        // ~2 KB each: 200 of them as labels would be 400 KB of /metrics.
        let method = format!("X{}", tessera_domain::random_token::<1500>().unwrap());
        let response = app
            .client
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                app.url("/healthz"),
            )
            .send()
            .await
            .unwrap();
        assert!(response.status().is_client_error(), "{}", response.status());
        invented.push(method);
    }
    let path = format!("/no-such-{}", tessera_domain::random_token::<16>().unwrap());
    app.client.get(app.url(&path)).send().await.unwrap();
    app.client
        .post(app.url(&path))
        .body("x")
        .send()
        .await
        .unwrap();

    let (_, text) = metrics(&app.base, None).await;
    assert!(
        text.contains(
            r#"tessera_http_requests_total{method="other",route="/healthz",status="405"} 200"#
        ),
        "{text}"
    );
    for method in &invented {
        assert!(!text.contains(&method[..40]), "{method} is a label");
    }
    assert!(!text.contains(&path[1..]), "{path} is a label: {text}");
    assert!(
        text.len() < 32 * 1024,
        "/metrics grew to {} bytes",
        text.len()
    );
}

/// `promtool`, or `None` (a skip, said out loud) outside CI.
fn promtool() -> Option<&'static str> {
    if Command::new("promtool")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Some("promtool");
    }
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "promtool is missing: `make test` (scripts/install-deps.sh test) installs it (Debian's prometheus)"
    );
    eprintln!("SKIPPING: promtool is missing; run `scripts/install-deps.sh test`");
    None
}

#[actix_web::test]
async fn metrics_are_classic_text_or_openmetrics_as_asked_and_promtool_accepts_them() {
    let app = spawn(Backend::Sqlite).await.unwrap();
    // Something in every family: requests, a failed sign-in, a token.
    assert_eq!(app.register("metered").await.status(), 200);
    assert_eq!(app.tutorial_login("metered", PASSWORD).await.status(), 200);
    assert_eq!(app.tutorial_login("metered", "wrong").await.status(), 401);

    for accept in [Some("text/plain"), Some("text/plain;version=0.0.4"), None] {
        let (content_type, text) = metrics(&app.base, accept).await;
        assert_eq!(
            content_type, "text/plain; version=0.0.4; charset=utf-8",
            "{accept:?}"
        );
        assert!(
            text.contains("# HELP tessera_sign_ins_total ")
                && text.contains("# TYPE tessera_sign_ins_total counter\n")
                && text.contains(r#"tessera_sign_ins_total{outcome="failed"} 1"#),
            "{text}"
        );
        assert!(!text.contains("# EOF"), "{text}");
    }

    let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;\
        version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    for accept in ["application/openmetrics-text", prometheus] {
        let (content_type, text) = metrics(&app.base, Some(accept)).await;
        assert!(
            content_type.starts_with("application/openmetrics-text; version=1.0.0"),
            "{content_type}"
        );
        assert!(text.contains("# TYPE tessera_sign_ins counter\n"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    let Some(promtool) = promtool() else { return };
    let (_, text) = metrics(&app.base, Some("text/plain")).await;
    let mut check = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    check
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = check.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The log of a running `tessera serve`, line by line as it arrives.
#[derive(Default)]
struct Log {
    lines: Mutex<Vec<String>>,
    arrived: Condvar,
}

impl Log {
    /// Waits for the first line that `wanted` accepts.
    fn wait_for(&self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + DEADLINE;
        let mut lines = self.lines.lock().unwrap();
        loop {
            if let Some(line) = lines.iter().find(|line| wanted(line)) {
                return line.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "no log line {what}; the log: {lines:#?}");
            lines = self.arrived.wait_timeout(lines, left).unwrap().0;
        }
    }

    /// Waits for the JSON request line of `path` with `status`.
    fn request_line(&self, path: &str, status: u16) -> Value {
        let line = self.wait_for(&format!("for {path} {status}"), |line| {
            serde_json::from_str::<Value>(line).is_ok_and(|entry| {
                entry["target"] == "tessera::request"
                    && entry["fields"]["path"] == path
                    && entry["fields"]["status"] == status
            })
        });
        serde_json::from_str(&line).unwrap()
    }

    fn all(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

/// Removes terminal escape sequences, so a line can be read whatever the colour setting.
fn without_escapes(line: &str) -> String {
    let mut plain = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            chars.by_ref().find(char::is_ascii_alphabetic);
        } else {
            plain.push(c);
        }
    }
    plain
}

/// A running `tessera serve` whose log is kept; killed when dropped.
struct Server {
    child: Child,
    base: String,
    log: Arc<Log>,
    /// Reads stderr into `log` until it closes.
    reader: Option<std::thread::JoinHandle<()>>,
    _data: tempfile::TempDir,
}

impl Server {
    fn start(env: &[(&str, &str)]) -> Server {
        let data = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env(
                "DATABASE_URL",
                format!("sqlite://{}", data.path().join("tessera.db").display()),
            )
            .env("TESSERA_DATA_DIR", data.path())
            .env("TESSERA_SECRET_KEY", SECRET)
            .env("TESSERA_BCRYPT_COST", "4")
            .env("TESSERA_LOG_FORMAT", "json")
            .env("TESSERA_WORKERS", "2")
            .env("TESSERA_REGISTER_MAX_PER_HOUR", "0")
            .env_remove("TESSERA_LOG")
            .env_remove("NO_COLOR")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the tessera binary starts");
        let log = Arc::new(Log::default());
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let kept = Arc::clone(&log);
        let reader = std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                kept.lines.lock().unwrap().push(line);
                kept.arrived.notify_all();
            }
        });
        let listening = without_escapes(&log.wait_for("saying the server listens", |line| {
            line.contains("tessera is listening")
        }));
        let port = match serde_json::from_str::<Value>(&listening) {
            Ok(entry) => entry["fields"]["port"].as_u64().unwrap(),
            // Text: `… port=40205 …`.
            Err(_) => listening
                .split_whitespace()
                .find_map(|field| field.strip_prefix("port="))
                .and_then(|port| port.parse().ok())
                .unwrap_or_else(|| panic!("no port in {listening:?}")),
        };
        Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
            reader: Some(reader),
            _data: data,
        }
    }

    /// SIGTERM, as a service manager stops it: its exit status and its whole log, once its
    /// stderr has closed.
    fn terminate(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let kill = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(kill.success(), "kill -TERM: {kill}");
        let status = self.child.wait().expect("tessera exits");
        if let Some(reader) = self.reader.take() {
            reader.join().expect("the log reader ends with stderr");
        }
        let lines = self.log.lines.lock().unwrap().clone();
        (status, lines)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn address(&self) -> &str {
        self.base.trim_start_matches("http://")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The digits after the decimal point of `field`'s number in a raw JSON line.
fn decimals(line: &str, field: &str) -> usize {
    let key = format!("\"{field}\":");
    let start = line
        .find(&key)
        .unwrap_or_else(|| panic!("no {field} in {line}"))
        + key.len();
    let number: String = line[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    number
        .split_once('.')
        .map_or(0, |(_, fraction)| fraction.len())
}

#[actix_web::test]
async fn request_lines_name_the_client_and_user_and_keep_client_mistakes_out_of_errors() {
    let server = Server::start(&[("TESSERA_TRUSTED_PROXIES", "127.0.0.1")]);
    let client = reqwest::Client::new();
    let username = "logged-ann";
    let registered = client
        .post(server.url("/api/v1/users"))
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);
    let tokens: Value = client
        .post(server.url("/api/v1/tokens"))
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access_token = tokens["access_token"].as_str().unwrap();
    let me: Value = client
        .get(server.url("/api/v1/me"))
        .bearer_auth(access_token)
        .header("x-forwarded-for", "198.51.100.1, 203.0.113.9")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let line = server.log.request_line("/api/v1/me", 200);
    assert_eq!(line["fields"]["client"], "203.0.113.9", "{line}");
    assert_eq!(line["fields"]["user"], me["id"], "{line}");
    assert_eq!(line["level"], "INFO", "{line}");
    let anonymous = server.log.request_line("/api/v1/users", 201);
    assert_eq!(anonymous["fields"]["client"], "127.0.0.1", "{anonymous}");
    assert!(anonymous["fields"].get("user").is_none(), "{anonymous}");

    // Client mistakes: a body that is not JSON, a bad token, and bytes that are not HTTP
    // (which actix answers 400 itself, before any route).
    let bad_body = client
        .post(server.url("/api/v1/tokens"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_body.status(), 400);
    let bad_token = client
        .get(server.url("/api/v1/me"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_token.status(), 401);
    for garbage in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: many\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: x\r\n\r\n",
    ] {
        let mut stream = TcpStream::connect(server.address()).unwrap();
        stream.write_all(garbage).unwrap();
        let mut answer = String::new();
        // Until the server closes: it logs a refused request before closing.
        stream.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    }
    // A request after them: its line comes after anything they logged.
    client.get(server.url("/healthz")).send().await.unwrap();
    server.log.request_line("/healthz", 200);

    let bad_body = server.log.request_line("/api/v1/tokens", 400);
    assert_eq!(bad_body["level"], "INFO", "{bad_body}");
    let log = server.log.all();
    let errors: Vec<&String> = log
        .iter()
        .filter(|l| l.contains(r#""level":"ERROR""#))
        .collect();
    assert!(
        errors.is_empty(),
        "client mistakes logged as errors: {errors:#?}"
    );
    for line in log.iter().filter(|line| line.contains("tessera::request")) {
        assert!(decimals(line, "elapsed_ms") <= 3, "{line}");
    }
    let secrets = [
        access_token,
        tokens["refresh_token"].as_str().unwrap(),
        PASSWORD,
    ];
    for line in &log {
        for secret in secrets {
            assert!(!line.contains(secret), "a secret in the log: {line}");
        }
        assert!(!line.to_lowercase().contains("bearer"), "{line}");
    }
}

#[actix_web::test]
async fn a_lockout_is_one_warning_naming_the_account_by_hash_and_the_client() {
    let server = Server::start(&[("TESSERA_LOGIN_MAX_FAILURES", "3")]);
    let client = reqwest::Client::new();
    let username = "Locked-Out-Bob";
    let sign_in = async |password: &str| {
        client
            .post(server.url("/api/v1/tokens"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap()
            .status()
    };
    let registered = client
        .post(server.url("/api/v1/users"))
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);
    // A success at the limit clears the count: no lockout, no warning.
    assert_eq!(sign_in("wrong").await, 401);
    assert_eq!(sign_in("wrong").await, 401);
    assert_eq!(sign_in(PASSWORD).await, 200);
    for _ in 0..3 {
        assert_eq!(sign_in("wrong").await, 401);
    }
    assert_eq!(sign_in(PASSWORD).await, 429);
    server.log.request_line("/api/v1/tokens", 429);

    let is_lockout = |line: &str| line.contains("account locked");
    let warning: Value =
        serde_json::from_str(&server.log.wait_for("about the lockout", is_lockout)).unwrap();
    let digest = Sha256::digest(username.to_lowercase().as_bytes());
    let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(warning["level"], "WARN", "{warning}");
    assert_eq!(warning["fields"]["account"], hash, "{warning}");
    assert_eq!(warning["fields"]["client"], "127.0.0.1", "{warning}");
    let log = server.log.all();
    assert_eq!(
        log.iter().filter(|line| is_lockout(line)).count(),
        1,
        "{log:#?}"
    );
    for line in &log {
        assert!(!line.to_lowercase().contains("locked-out-bob"), "{line}");
    }
}

#[actix_web::test]
async fn text_logs_written_to_a_pipe_have_no_colour() {
    let server = Server::start(&[("TESSERA_LOG_FORMAT", "text")]);
    reqwest::get(server.url("/healthz")).await.unwrap();
    server.log.wait_for("for /healthz", |line| {
        without_escapes(line).contains("path=/healthz")
    });
    let log = server.log.all();
    let coloured: Vec<&String> = log.iter().filter(|line| line.contains('\x1b')).collect();
    assert!(coloured.is_empty(), "escape codes in a pipe: {coloured:#?}");
}

/// The log is written by its own thread (`init_logging`): every line queued before a
/// stop, and the stop's own line, still reach stderr before the process exits.
#[actix_web::test]
async fn a_stopped_server_writes_every_queued_line_before_it_exits() {
    let server = Server::start(&[]);
    let client = reqwest::Client::new();
    const REQUESTS: usize = 200;
    for _ in 0..REQUESTS {
        let answer = client.get(server.url("/healthz")).send().await.unwrap();
        assert_eq!(answer.status(), 200);
    }
    let (status, lines) = server.terminate();
    assert!(status.success(), "a clean stop: {status}");
    let requests = lines
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|entry| {
            entry["target"] == "tessera::request" && entry["fields"]["path"] == "/healthz"
        })
        .count();
    assert_eq!(requests, REQUESTS, "one line per request, none lost");
    let last = lines.last().map(|line| without_escapes(line));
    assert!(
        last.as_deref()
            .is_some_and(|line| line.contains("\"stopped\"")),
        "the stop is the last line: {last:?}"
    );
}
