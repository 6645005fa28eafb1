//! One real server per test: its own database (SQLite file, or a fresh PostgreSQL /
//! MariaDB database), its own port (bound as 0), cheap bcrypt.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue};
use tessera_server::Application;
use tessera_server::config::{Config, SecretString};
use tessera_store::Backend;
use tessera_store::testing::TestDatabase;

/// A secret of the right length that tests also use to mint their own tokens.
pub const SECRET: &str = "test-secret-of-at-least-thirty-two-bytes!";
/// The TTL tests run with.
pub const TTL: u64 = 600;
pub const PASSWORD: &str = "correct horse battery staple";
pub const ALLOWED_ORIGIN: &str = "http://vue.example";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub config: Config,
    server: actix_web::dev::ServerHandle,
    _database: TestDatabase,
    _dirs: tempfile::TempDir,
}

/// The server's settings for tests; `adjust` changes them before it starts.
pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Option<TestApp> {
    let database = TestDatabase::create(backend)?;
    let dirs = tempfile::tempdir().unwrap();
    let web_dir = dirs.path().join("web");
    std::fs::create_dir_all(web_dir.join("assets")).unwrap();
    std::fs::write(
        web_dir.join("index.html"),
        "<!doctype html><title>Tessera</title>",
    )
    .unwrap();
    std::fs::write(web_dir.join("assets/app-0123abcd.js"), "console.log(1)").unwrap();
    // Its precompressed forms, as `scripts/build-web.sh` stores them (the bytes only stand
    // for them: the server never looks inside).
    std::fs::write(web_dir.join("assets/app-0123abcd.js.br"), "the brotli form").unwrap();
    std::fs::write(web_dir.join("assets/app-0123abcd.js.gz"), "the gzip form").unwrap();
    std::fs::write(web_dir.join("assets/icon-4567cdef.svg"), "<svg/>").unwrap();
    let mut config = Config {
        bind: "127.0.0.1:0".into(),
        data_dir: dirs.path().join("data"),
        database_url: Some(database.url().to_owned()),
        secret_key: Some(SecretString::new(SECRET)),
        token_ttl: TTL,
        bcrypt_cost: 4,
        cors_origins: ALLOWED_ORIGIN.into(),
        web_dir,
        workers: 2,
        // Tests register many users from one address; the limit has tests of its own.
        register_max_per_hour: 0,
        // Reuse of a refresh token ends its session at once, as the tests of reuse detection
        // expect; the reuse interval has tests of its own.
        refresh_reuse_interval: 0,
        ..Config::default()
    };
    adjust(&mut config);
    let application = Application::build(&config).expect("the app starts");
    let base = format!("http://127.0.0.1:{}", application.port());
    let server = application.handle();
    // On a thread of its own, so that it outlives this test's runtime long enough to hear
    // the stop `TestApp` sends when dropped, and its workers close their connections.
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(application.run_until_stopped())
    });
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Some(TestApp {
        base,
        client,
        config,
        server,
        _database: database,
        _dirs: dirs,
    })
}

impl Drop for TestApp {
    /// Stops the server, whose workers outlive the test's runtime: its pool of database
    /// connections closes with it instead of idling until the binary ends.
    fn drop(&mut self) {
        // Stopping starts when asked; nothing is left to wait for.
        drop(self.server.stop(false));
    }
}

pub async fn spawn(backend: Backend) -> Option<TestApp> {
    spawn_with(backend, |_| {}).await
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn register(&self, username: &str) -> reqwest::Response {
        self.post_json(
            "/api/users",
            serde_json::json!({"username": username, "password": PASSWORD}),
        )
        .await
    }

    /// Registers `username` and returns a token from the tutorial's login.
    pub async fn token_for(&self, username: &str) -> String {
        assert_eq!(self.register(username).await.status(), 200);
        let response = self.tutorial_login(username, PASSWORD).await;
        assert_eq!(response.status(), 200);
        response.json::<String>().await.unwrap()
    }

    pub async fn tutorial_login(&self, username: &str, password: &str) -> reqwest::Response {
        self.client
            .get(self.url("/api/login"))
            .basic_auth(username, Some(password))
            .send()
            .await
            .unwrap()
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(
                reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        self.client
            .get(self.url(path))
            .headers(map)
            .send()
            .await
            .unwrap()
    }

    pub async fn get_bearer(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }
}

/// A response's problem body, after checking it is one.
/// Sends `request` and reads the answer as JSON, whatever its status.
pub async fn json_of(request: reqwest::RequestBuilder) -> serde_json::Value {
    request.send().await.unwrap().json().await.unwrap()
}

pub async fn problem(response: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(
        response.status().as_u16(),
        status,
        "status of {}",
        response.url()
    );
    let content_type = header(&response, "content-type");
    assert_eq!(
        content_type, "application/problem+json",
        "problem media type"
    );
    let body: serde_json::Value = response.json().await.expect("a JSON problem body");
    assert_eq!(body["status"], status);
    assert!(
        body["code"].is_string() && body["detail"].is_string() && body["title"].is_string(),
        "{body}"
    );
    body
}

pub fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// The Python in `target/py` (made by `make test`), for checks with the reference tools.
pub fn python() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/py/bin/python");
    if root.exists() {
        return Some(root);
    }
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "target/py is missing: `make test` (scripts/install-deps.sh test) creates it"
    );
    eprintln!("SKIPPING: no target/py; run `scripts/install-deps.sh test`");
    None
}

/// Polls `condition` until it holds or `within` passes; the revocation bound is a promise
/// about time, so the test waits for it rather than for a fixed pause.
pub async fn eventually(within: Duration, mut condition: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if condition().await {
            return true;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    condition().await
}
