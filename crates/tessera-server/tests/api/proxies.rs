//! The deployment snippets of `docs/operations.md`, run: its nginx and Caddy blocks, with
//! free ports, a test certificate and this test's Tessera address filled in, in front of a
//! Tessera that trusts `127.0.0.1`; its systemd unit, verified. Clients reach the proxies
//! from 127.0.0.2 and 127.0.0.3 (Linux routes all of 127/8 to `lo`), through `curl`, which
//! speaks TLS and binds a source address.
//!
//! A missing `nginx`, `caddy`, `openssl` or `curl` fails the test under `CI=true` and skips
//! it, loudly, otherwise.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::json;
use tessera_store::Backend;

use crate::helpers::{PASSWORD, TestApp, eventually, spawn_with};

#[path = "../support/proxies.rs"]
mod support;
use support::{
    Daemon, Documentation, caddy_test_options, certificate, fill_in, free_port, start_caddy,
    start_nginx, tool,
};

const OPERATIONS: Documentation = Documentation {
    path: "docs/operations.md",
    text: include_str!("../../../../docs/operations.md"),
};

/// The client that rotates `X-Forwarded-For`.
const ATTACKER: &str = "127.0.0.2";
/// Another client behind the same proxy.
const NEIGHBOUR: &str = "127.0.0.3";
/// Registrations per address and hour, and failed sign-ins per account (×5 per address), in
/// these tests: small, so that the limits are reached in a few requests.
const REGISTRATIONS: u32 = 3;
const FAILURES: u32 = 2;

/// A proxy from the documentation on `https://auth.example.com:PORT` (resolved to
/// 127.0.0.1), in front of a Tessera.
struct Front {
    port: u16,
    curl: PathBuf,
    daemon: Daemon,
    _dir: tempfile::TempDir,
}

impl Front {
    /// `POST path` with a JSON body (or `GET path` without one) from `source`, optionally
    /// with the client's own `X-Forwarded-For`; the status, or 0 when no answer came.
    async fn request(
        &self,
        source: &str,
        path: &str,
        body: Option<serde_json::Value>,
        forwarded_for: Option<&str>,
    ) -> u16 {
        let mut command = Command::new(&self.curl);
        command
            .args(["--silent", "--insecure", "--max-time", "20"])
            .args(["--output", "/dev/null", "--write-out", "%{http_code}"])
            .args(["--interface", source])
            .arg("--resolve")
            .arg(format!("auth.example.com:{}:127.0.0.1", self.port));
        if let Some(forwarded_for) = forwarded_for {
            command
                .arg("--header")
                .arg(format!("X-Forwarded-For: {forwarded_for}"));
        }
        if let Some(body) = body {
            command
                .args(["--header", "Content-Type: application/json"])
                .arg("--data-binary")
                .arg(body.to_string());
        }
        command.arg(format!("https://auth.example.com:{}{path}", self.port));
        // curl blocks; the test's runtime also drives the server's maintenance task.
        let output = actix_web::rt::task::spawn_blocking(move || command.output())
            .await
            .unwrap()
            .expect("curl runs");
        String::from_utf8_lossy(&output.stdout).parse().unwrap_or(0)
    }

    /// Waits until the proxy answers `/healthz` through to Tessera.
    async fn wait_until_ready(&self) {
        let ready = eventually(Duration::from_secs(30), async || {
            self.request(NEIGHBOUR, "/healthz", None, None).await == 200
        })
        .await;
        assert!(
            ready,
            "the proxy never answered; its log:\n{}",
            self.daemon.log()
        );
    }
}

/// A Tessera trusting the proxies on 127.0.0.1, with small limits.
async fn tessera_behind_a_proxy() -> Option<(TestApp, String)> {
    let app = spawn_with(Backend::Sqlite, |config| {
        config.trusted_proxies = "127.0.0.1".parse().unwrap();
        config.register_max_per_hour = REGISTRATIONS;
        config.login_max_failures = FAILURES;
    })
    .await?;
    let upstream = app.base.trim_start_matches("http://").to_owned();
    Some((app, upstream))
}

/// The documented nginx server block inside a minimal `nginx.conf` of the test's own.
fn start_documented_nginx(upstream: &str) -> Option<Front> {
    let (nginx, openssl, curl) = (
        tool("/usr/sbin/nginx")?,
        tool("/usr/bin/openssl")?,
        tool("/usr/bin/curl")?,
    );
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = certificate(&openssl, dir.path(), &["auth.example.com"]);
    let port = free_port();
    let server = fill_in(
        OPERATIONS.block("nginx"),
        &[
            ("listen 443 ", &format!("listen 127.0.0.1:{port} ")),
            (
                "/etc/letsencrypt/live/auth.example.com/fullchain.pem",
                &cert.display().to_string(),
            ),
            (
                "/etc/letsencrypt/live/auth.example.com/privkey.pem",
                &key.display().to_string(),
            ),
            ("http://127.0.0.1:8080", &format!("http://{upstream}")),
        ],
    );
    let daemon = start_nginx(&nginx, dir.path(), &server);
    Some(Front {
        port,
        curl,
        daemon,
        _dir: dir,
    })
}

/// The documented Caddyfile site, after global options of the test's own: no admin
/// endpoint, free ports, its local CA instead of ACME, state in the temp dir.
fn start_documented_caddy(upstream: &str) -> Option<Front> {
    let (caddy, curl) = (tool("/usr/bin/caddy")?, tool("/usr/bin/curl")?);
    let dir = tempfile::tempdir().unwrap();
    let (port, http_port) = (free_port(), free_port());
    let site = fill_in(OPERATIONS.block("caddy"), &[("127.0.0.1:8080", upstream)]);
    let options = caddy_test_options(dir.path(), http_port, port);
    let caddyfile = format!("{{\n    admin off\n{options}}}\n\n{site}\n");
    let daemon = start_caddy(&caddy, dir.path(), &caddyfile);
    Some(Front {
        port,
        curl,
        daemon,
        _dir: dir,
    })
}

/// Through `front`: registrations and failed sign-ins with a new `X-Forwarded-For` each
/// time still meet the per-address limits, and another client keeps its own.
async fn rotating_forwarded_for_meets_the_limits(front: &Front) {
    front.wait_until_ready().await;
    let mut registrations = Vec::new();
    for i in 0..REGISTRATIONS + 3 {
        let body = json!({"username": format!("rotating{i}"), "password": PASSWORD});
        let forged = format!("198.51.100.{i}");
        registrations.push(
            front
                .request(ATTACKER, "/api/v1/users", Some(body), Some(&forged))
                .await,
        );
    }
    assert_eq!(
        registrations,
        [201, 201, 201, 429, 429, 429],
        "registrations with a rotating X-Forwarded-For"
    );
    let neighbour = json!({"username": "neighbour", "password": PASSWORD});
    assert_eq!(
        front
            .request(NEIGHBOUR, "/api/v1/users", Some(neighbour), None)
            .await,
        201,
        "another client behind the proxy is not counted with the first"
    );

    let per_address = FAILURES * 5;
    let mut sign_ins = Vec::new();
    for i in 0..per_address + 3 {
        // A new account each time too, so only the address limit can stop this.
        let body = json!({"username": format!("guess{i}"), "password": "wrong password!"});
        let forged = format!("203.0.113.{i}, 10.{i}.0.1");
        sign_ins.push(
            front
                .request(ATTACKER, "/api/v1/tokens", Some(body), Some(&forged))
                .await,
        );
    }
    let expected: Vec<u16> = (0..per_address + 3)
        .map(|i| if i < per_address { 401 } else { 429 })
        .collect();
    assert_eq!(
        sign_ins, expected,
        "failed sign-ins, rotating X-Forwarded-For"
    );
    let wrong = json!({"username": "neighbour", "password": "wrong password!"});
    assert_eq!(
        front
            .request(NEIGHBOUR, "/api/v1/tokens", Some(wrong), None)
            .await,
        401,
        "the other client's address is not locked"
    );
    let right = json!({"username": "neighbour", "password": PASSWORD});
    assert_eq!(
        front
            .request(NEIGHBOUR, "/api/v1/tokens", Some(right), None)
            .await,
        200
    );
}

#[actix_web::test]
async fn nginx_as_documented_keeps_clients_apart_and_forged_addresses_out() {
    let Some((_app, upstream)) = tessera_behind_a_proxy().await else {
        return;
    };
    let Some(front) = start_documented_nginx(&upstream) else {
        return;
    };
    rotating_forwarded_for_meets_the_limits(&front).await;
}

#[actix_web::test]
async fn caddy_as_documented_keeps_clients_apart_and_forged_addresses_out() {
    let Some((_app, upstream)) = tessera_behind_a_proxy().await else {
        return;
    };
    let Some(front) = start_documented_caddy(&upstream) else {
        return;
    };
    rotating_forwarded_for_meets_the_limits(&front).await;
}

/// `tessera config` in an empty directory with `env`: (succeeded, stdout, stderr).
pub(crate) fn tessera_config(env: &[(&str, &str)]) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("config")
        .current_dir(dir.path())
        .env("TESSERA_DATA_DIR", dir.path())
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn trusted_proxies_come_from_the_environment_and_bad_entries_stop_the_start() {
    let (ok, stdout, stderr) =
        tessera_config(&[("TESSERA_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8,fd00::/8")]);
    assert!(ok, "{stderr}");
    let config: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        config["trusted_proxies"],
        json!(["127.0.0.1/32", "10.0.0.0/8", "fd00::/8"])
    );
    let (_, stdout, _) = tessera_config(&[]);
    let config: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        config["trusted_proxies"],
        json!([]),
        "no header is believed"
    );

    let (ok, _, stderr) = tessera_config(&[("TESSERA_TRUSTED_PROXIES", "127.0.0.1,localhost")]);
    assert!(!ok && stderr.contains("\"localhost\""), "{stderr}");
}

#[test]
fn the_old_trust_forwarded_for_stops_the_start_naming_its_replacement() {
    let (ok, _, stderr) = tessera_config(&[("TESSERA_TRUST_FORWARDED_FOR", "true")]);
    assert!(!ok, "the old setting must not be ignored");
    assert!(
        stderr.contains("TESSERA_TRUSTED_PROXIES") && stderr.contains("trusted_proxies"),
        "{stderr}"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tessera.toml");
    std::fs::write(&file, "trust_forwarded_for = false\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("--config")
        .arg(&file)
        .arg("config")
        .current_dir(dir.path())
        .env("TESSERA_DATA_DIR", dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("trusted_proxies"),
        "{stderr}"
    );
}

/// `Key=value` lines of a unit's block, in order, comments and sections left out.
fn unit_settings(unit: &str) -> Vec<(&str, &str)> {
    unit.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with(['#', ';', '[']))
        .map(|line| line.split_once('=').expect("Key=value"))
        .collect()
}

#[test]
fn the_documented_systemd_unit_is_valid_and_starts_the_cli_as_it_is() {
    let unit = OPERATIONS.block("systemd");
    let settings = unit_settings(unit);
    let value = |key: &str| settings.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);

    let files: u64 = value("LimitNOFILE")
        .expect("the unit raises the file limit")
        .parse()
        .expect("LimitNOFILE is a number");
    assert!(files >= 8192, "LimitNOFILE={files}");

    let exec_start = value("ExecStart").expect("ExecStart");
    let mut words = exec_start.split_whitespace();
    let program = words.next().unwrap();
    assert!(
        program.starts_with('/') && program.ends_with("/tessera"),
        "{program}"
    );
    let args: Vec<&str> = words.collect();
    let help = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(&args)
        .arg("--help")
        .output()
        .unwrap();
    assert!(
        help.status.success(),
        "`tessera {}` is not a command: {}",
        args.join(" "),
        String::from_utf8_lossy(&help.stderr)
    );

    let known = serde_json::to_value(tessera_server::Config::default()).unwrap();
    for (key, assignment) in settings.iter().filter(|(k, _)| *k == "Environment") {
        let (name, _) = assignment.split_once('=').expect("NAME=value");
        let setting = name
            .strip_prefix("TESSERA_")
            .map(str::to_lowercase)
            .unwrap_or_else(|| name.to_lowercase());
        assert!(
            known.get(&setting).is_some(),
            "{key}={assignment}: {name} is no setting of tessera"
        );
    }

    // systemd's own parser, where it is installed: unknown keys and bad values are warnings
    // on stderr, so any line about the unit fails the test.
    let Some(analyze) = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"]
        .into_iter()
        .map(PathBuf::from)
        .find(|path| path.exists())
    else {
        eprintln!("NOT CHECKED: systemd-analyze is missing; only the keys above were checked");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tessera.service");
    std::fs::write(&file, unit.replace(program, env!("CARGO_BIN_EXE_tessera"))).unwrap();
    let output = Command::new(analyze)
        .arg("verify")
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let about_the_unit: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("tessera.service"))
        .collect();
    assert!(
        output.status.success() && about_the_unit.is_empty(),
        "systemd-analyze verify: {stderr}"
    );
}
