//! Honest storage failures, on SQLite in the real `tessera` binary: a full disk is 503 (not
//! 500) and fails `/readyz` until space returns; a logout answered 204 survives a restart,
//! and one that could not be stored answers 503 and changed nothing; the files SQLite keeps
//! beside the database can be damaged under the process without killing it.
//!
//! The disk-full cases mount a small tmpfs, which needs root: without it they fail when
//! `CI=true` and are skipped, loudly, otherwise.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, SECRET, problem};
use crate::tmpfs::Tmpfs;

/// How long a condition may take to come true (the readiness probe writes every 2 s).
const DEADLINE: Duration = Duration::from_secs(20);

/// A running `tessera serve` whose log lines are kept, and whose end is noticed.
struct Server {
    child: Child,
    base: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(database: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env("DATABASE_URL", format!("sqlite://{}", database.display()))
            .env("TESSERA_DATA_DIR", database.parent().unwrap())
            .env("TESSERA_SECRET_KEY", SECRET)
            .env("TESSERA_BCRYPT_COST", "4")
            .env("TESSERA_LOG_FORMAT", "json")
            .env("TESSERA_WORKERS", "2")
            .env("TESSERA_REGISTER_MAX_PER_HOUR", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the tessera binary starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let port = loop {
            let Some(Ok(line)) = lines.next() else {
                panic!("tessera exited before listening: {:?}", child.wait());
            };
            let listening = line.contains("tessera is listening");
            log.lock().unwrap().push(line.clone());
            if listening {
                let entry: Value = serde_json::from_str(&line).unwrap();
                break entry["fields"]["port"].as_u64().unwrap();
            }
        };
        let kept = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                kept.lock().unwrap().push(line);
            }
        });
        Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Panics, with how it ended, if the process is gone.
    fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!(
                "tessera died: {status:?}; last log lines: {:?}",
                self.tail()
            );
        }
    }

    fn tail(&self) -> Vec<String> {
        let log = self.log.lock().unwrap();
        log.iter().rev().take(5).cloned().collect()
    }

    fn logged(&self, needle: &str) -> bool {
        self.log
            .lock()
            .unwrap()
            .iter()
            .any(|line| line.contains(needle))
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap()
}

async fn register(server: &Server, username: &str) {
    let response = client()
        .post(server.url("/api/v1/users"))
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{:?}", response.text().await);
}

async fn sign_in(server: &Server, username: &str) -> reqwest::Response {
    client()
        .post(server.url("/api/v1/tokens"))
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
}

async fn tokens(server: &Server, username: &str) -> (String, String) {
    let response = sign_in(server, username).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    (
        body["access_token"].as_str().unwrap().to_owned(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

async fn refresh(server: &Server, refresh_token: &str) -> reqwest::Response {
    client()
        .post(server.url("/api/v1/tokens/refresh"))
        .json(&json!({"refresh_token": refresh_token}))
        .send()
        .await
        .unwrap()
}

async fn logout(server: &Server, access_token: &str) -> reqwest::Response {
    client()
        .post(server.url("/api/v1/logout"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
}

async fn me(server: &Server, access_token: &str) -> u16 {
    client()
        .get(server.url("/api/v1/me"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn readyz(server: &Server) -> u16 {
    client()
        .get(server.url("/readyz"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Polls `/readyz` until it answers `status`, within [`DEADLINE`].
async fn await_readyz(server: &Server, status: u16) {
    let start = Instant::now();
    loop {
        let seen = readyz(server).await;
        if seen == status {
            return;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "/readyz still answers {seen}, not {status}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

fn database_in(dir: &Path) -> PathBuf {
    dir.join("data").join("tessera.db")
}

#[actix_web::test]
async fn a_full_disk_is_503_and_not_ready_until_space_returns() {
    let Some(tmpfs) = Tmpfs::mount("4m") else {
        return;
    };
    let mut server = Server::start(&database_in(tmpfs.path()));
    register(&server, "alice").await;
    let (_, refresh_token) = tokens(&server, "alice").await;
    await_readyz(&server, 200).await;

    tmpfs.fill();
    problem(sign_in(&server, "alice").await, 503).await;
    problem(refresh(&server, &refresh_token).await, 503).await;
    await_readyz(&server, 503).await;
    problem(
        client().get(server.url("/readyz")).send().await.unwrap(),
        503,
    )
    .await;
    assert!(
        server.logged("database or disk is full"),
        "the cause is logged: {:?}",
        server.tail()
    );
    server.assert_running();

    tmpfs.free();
    await_readyz(&server, 200).await;
    assert_eq!(sign_in(&server, "alice").await.status(), 200);
    assert_eq!(refresh(&server, &refresh_token).await.status(), 200);
}

#[actix_web::test]
async fn a_logout_answered_204_survives_a_restart_and_one_that_failed_changed_nothing() {
    let Some(tmpfs) = Tmpfs::mount("4m") else {
        return;
    };
    let database = database_in(tmpfs.path());
    let server = Server::start(&database);
    register(&server, "alice").await;
    let (access_token, _) = tokens(&server, "alice").await;

    tmpfs.fill();
    // The logout cannot be stored: it must say so, not answer 204 and be forgotten.
    problem(logout(&server, &access_token).await, 503).await;
    // Nothing changed, here or after a restart: the client knows to try again.
    assert_eq!(me(&server, &access_token).await, 200);
    tmpfs.free();
    server.stop();
    let server = Server::start(&database);
    assert_eq!(me(&server, &access_token).await, 200);

    // Tried again with space: 204, and the token stays refused after a restart.
    assert_eq!(logout(&server, &access_token).await.status(), 204);
    assert_eq!(me(&server, &access_token).await, 401);
    server.stop();
    let server = Server::start(&database);
    assert_eq!(me(&server, &access_token).await, 401);
}

#[actix_web::test]
async fn sqlite_side_files_truncated_under_the_process_do_not_kill_it() {
    // No root needed: another process truncating the files beside the database (a
    // `-shm` index mapped into memory, in WAL mode) used to end this one with SIGBUS.
    let dir = tempfile::tempdir().unwrap();
    let database = database_in(dir.path());
    let mut server = Server::start(&database);
    register(&server, "alice").await;
    for _ in 0..5 {
        tokens(&server, "alice").await;
    }
    let data = database.parent().unwrap();
    for entry in std::fs::read_dir(data).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().contains("tessera.db-") {
            std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .unwrap()
                .set_len(0)
                .unwrap();
        }
    }
    for _ in 0..5 {
        let sent = client()
            .post(server.url("/api/v1/tokens"))
            .json(&json!({"username": "alice", "password": PASSWORD}))
            .send()
            .await;
        // A dead process explains a failed request better than the request does.
        server.assert_running();
        let response = sent.unwrap();
        if response.status() != 200 {
            problem(response, 503).await;
        }
    }
    assert_eq!(readyz(&server).await, 200);
    server.assert_running();
}
