//! What every browser test stands on: a `tessera serve` of its own (fresh SQLite database,
//! the built web bundle), a chromedriver of its own, and a headless Chromium with a fresh
//! profile, plus the few actions a person takes on the pages and, through the DevTools
//! protocol, what the page keeps from scripts: the app's API calls (its access token lives
//! in memory only), the HttpOnly cookies, a slow or failing network.

use std::collections::VecDeque;
use std::future::Future;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::wd::WindowHandle;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tempfile::TempDir;

/// How long any one condition may take to come true. Generous: the first start of a wasm
/// module in a fresh profile includes compiling it, and CI machines are shared.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// The cookie that holds the refresh token, HttpOnly, for `/api/v1/tokens/refresh`.
pub const REFRESH_COOKIE: &str = "tessera_refresh";
/// The cookie forward auth and the cookie sign-out read, HttpOnly, for `/`.
pub const SESSION_COOKIE: &str = "tessera_session";

/// Installed in every page before the app starts: records each API call the app makes in
/// `window.__apiCalls` (method, path, the Bearer token sent, status, when it was sent and
/// answered, and for token answers the access token and whether a refresh token came in
/// the body). The app's access token lives in its memory only; this is how tests see it.
const WATCH_API: &str = r#"
    (() => {
        const calls = [];
        Object.defineProperty(window, '__apiCalls', { value: calls });
        const send = window.fetch.bind(window);
        window.fetch = async (input, init) => {
            // Not `new Request(input)` for a Request: that would use up its body.
            const request = input instanceof Request ? input : new Request(input, init);
            const path = new URL(request.url).pathname;
            if (!path.startsWith('/api/')) {
                return send(input, init);
            }
            const authorization = request.headers.get('Authorization') || '';
            const call = {
                method: request.method,
                path,
                bearer: authorization.startsWith('Bearer ') ? authorization.slice(7) : null,
                sentAt: Date.now(),
            };
            calls.push(call);
            try {
                const response = await send(input, init);
                call.status = response.status;
                call.answeredAt = Date.now();
                if (response.ok && (path === '/api/v1/tokens' || path === '/api/v1/tokens/refresh')) {
                    const body = await response.clone().json();
                    call.accessToken = body.access_token;
                    call.refreshTokenInBody = 'refresh_token' in body;
                }
                return response;
            } catch (error) {
                call.error = String(error);
                call.answeredAt = Date.now();
                throw error;
            }
        };
    })();
"#;

/// A password the server's policy accepts.
pub const PASSWORD: &str = "correct horse battery";

fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .ancestors()
        .nth(2)
        .unwrap_or(manifest_dir)
        .to_path_buf()
}

/// Polls `probe` until it yields a value, failing the test with `what` after [`PATIENCE`].
pub async fn eventually<T, F, Fut>(what: &str, probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    eventually_within(PATIENCE, what, probe).await
}

/// [`eventually`] with a patience of `limit`, for conditions that take a known while.
pub async fn eventually_within<T, F, Fut>(limit: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What the tests need from the machine, or why it is missing.
struct Prerequisites {
    web_dir: PathBuf,
    chromium: PathBuf,
    chromedriver: PathBuf,
}

fn find_program(env_var: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env_var) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

fn prerequisites() -> Result<Prerequisites, String> {
    let web_dir = workspace_root().join("web/dist");
    if !web_dir.join("index.html").is_file() {
        return Err(format!(
            "the web bundle is missing ({}/index.html): run `make web` first",
            web_dir.display()
        ));
    }
    let web_dir = web_dir.canonicalize().map_err(|e| e.to_string())?;
    let chromium = find_program("CHROME", &["chromium", "chromium-browser", "google-chrome"])
        .ok_or("Chromium is not installed: run `scripts/install-deps.sh test`")?;
    let chromedriver = find_program("CHROMEDRIVER", &["chromedriver"])
        .ok_or("chromedriver is not installed: run `scripts/install-deps.sh test`")?;
    Ok(Prerequisites {
        web_dir,
        chromium,
        chromedriver,
    })
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// A port that was free a moment ago, for programs that cannot be told to pick one.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// How many of the server's latest log lines a failing test shows.
const LOG_LINES_KEPT: usize = 300;

/// A running `tessera serve`; killed when dropped. A test that fails shows its log.
struct Tessera {
    child: Child,
    base: String,
    log: Arc<Mutex<VecDeque<String>>>,
    _data_dir: TempDir,
}

impl Tessera {
    fn start(web_dir: &Path, token_ttl: Option<u64>, env: &[(String, String)]) -> Tessera {
        let data_dir = tempfile::tempdir().expect("a temporary data directory");
        let mut command = Command::new(env!("CARGO_BIN_EXE_tessera"));
        command.args(["serve", "--bind", "127.0.0.1:0"]);
        // Only this test's settings: nothing from the developer's environment.
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            if key.starts_with("TESSERA_") || key == "DATABASE_URL" {
                command.env_remove(&*key);
            }
        }
        command
            .env("TESSERA_DATA_DIR", data_dir.path())
            .env("TESSERA_WEB_DIR", web_dir)
            .env("TESSERA_BCRYPT_COST", "4")
            .env("TESSERA_LOG_FORMAT", "json")
            .env("TESSERA_WORKERS", "2");
        if let Some(ttl) = token_ttl {
            command.env("TESSERA_TOKEN_TTL", ttl.to_string());
        }
        command.envs(env.iter().map(|(key, value)| (key, value)));
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the tessera binary starts");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr is piped")).lines();
        let port = loop {
            let Some(Ok(line)) = lines.next() else {
                panic!("tessera exited before listening: {:?}", child.wait());
            };
            if line.contains("tessera is listening") {
                if let Some(port) = port_in_log_line(&line) {
                    break port;
                }
            }
        };
        // Keep reading, so the server never blocks on a full pipe, and keep the latest
        // lines for a failure report.
        let log = Arc::new(Mutex::new(VecDeque::with_capacity(LOG_LINES_KEPT)));
        let kept = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let mut kept = kept.lock().unwrap_or_else(PoisonError::into_inner);
                if kept.len() == LOG_LINES_KEPT {
                    kept.pop_front();
                }
                kept.push_back(line);
            }
        });
        Tessera {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
            _data_dir: data_dir,
        }
    }
}

impl Drop for Tessera {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
            eprintln!("--- the server's last {} log lines ---", log.len());
            for line in log.iter() {
                eprintln!("{line}");
            }
        }
    }
}

fn port_in_log_line(line: &str) -> Option<u16> {
    let log: Value = serde_json::from_str(line).ok()?;
    let port = log["fields"]["port"].as_u64().or(log["port"].as_u64())?;
    u16::try_from(port).ok()
}

/// A running chromedriver; asked to quit (closing its browsers) when dropped.
struct ChromeDriver {
    child: Child,
    port: u16,
}

impl ChromeDriver {
    async fn start(program: &Path) -> ChromeDriver {
        // The port can be taken between our check and chromedriver's bind: try again then.
        for _ in 0..3 {
            let port = free_port();
            let child = Command::new(program)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("chromedriver starts");
            let mut driver = ChromeDriver { child, port };
            if driver.wait_until_ready().await {
                return driver;
            }
        }
        panic!("chromedriver did not start on any of three ports");
    }

    /// Whether `/status` says ready before [`PATIENCE`] runs out or the process exits.
    async fn wait_until_ready(&mut self) -> bool {
        let url = format!("http://127.0.0.1:{}/status", self.port);
        let http = reqwest::Client::new();
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if let Ok(response) = http.get(&url).send().await {
                if let Ok(status) = response.json::<Value>().await {
                    if status["value"]["ready"] == json!(true) {
                        return true;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // `/shutdown` makes chromedriver close its browsers too; killing it would orphan them.
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = write!(
                stream,
                "GET /shutdown HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            );
            let _ = std::io::Read::read_to_end(&mut stream, &mut Vec::new());
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Options for [`App::start`].
#[derive(Debug, Default, Clone, Copy)]
pub struct Options {
    /// `TESSERA_TOKEN_TTL` in seconds; the server's default when `None`.
    pub token_ttl: Option<u64>,
}

/// What [`App::start_with`] adds to [`Options`], for a test that puts the server behind a
/// proxy of its own. Kept apart from `Options`, which tests spell out field by field.
#[derive(Debug, Default, Clone)]
pub struct Surroundings {
    /// More `tessera serve` environment, e.g. `TESSERA_ISSUER`.
    pub server_env: Vec<(String, String)>,
    /// More Chromium arguments, e.g. `--host-resolver-rules=…`.
    pub chromium_args: Vec<String>,
}

/// One test's world: server, browser and the means to use them. Fields drop in order:
/// the WebDriver session, then chromedriver (and with it Chromium), then the server.
pub struct App {
    pub browser: Client,
    driver: ChromeDriver,
    _profile: TempDir,
    server: Tessera,
    http: reqwest::Client,
}

impl App {
    /// Starts everything, or returns `None` (saying so loudly) when the machine lacks the
    /// bundle or the browser outside CI. In CI (`CI` set) a missing piece fails the test.
    pub async fn start(options: Options) -> Option<App> {
        Self::start_with(options, Surroundings::default()).await
    }

    /// [`App::start`] with `surroundings` added.
    pub async fn start_with(options: Options, surroundings: Surroundings) -> Option<App> {
        let prerequisites = match prerequisites() {
            Ok(found) => found,
            Err(missing) if in_ci() => panic!("browser tests cannot run: {missing}"),
            Err(missing) => {
                // Straight to stderr, past the test harness's capture, so it is seen.
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED browser test (CI is not set): {missing}"
                );
                return None;
            }
        };
        let server = Tessera::start(
            &prerequisites.web_dir,
            options.token_ttl,
            &surroundings.server_env,
        );
        let driver = ChromeDriver::start(&prerequisites.chromedriver).await;
        let profile = tempfile::tempdir().expect("a temporary browser profile");
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
            "--window-size=1280,900",
        ]
        .map(String::from)
        .into_iter()
        .chain([format!("--user-data-dir={}", profile.path().display())])
        .chain(surroundings.chromium_args)
        .collect::<Vec<_>>();
        let capabilities = json!({
            "browserName": "chrome",
            "goog:loggingPrefs": { "browser": "ALL" },
            "goog:chromeOptions": {
                "binary": prerequisites.chromium,
                "args": args,
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("json! of an object literal is an object")
        };
        let browser = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
            .expect("chromedriver opens a Chromium session");
        let app = App {
            browser,
            driver,
            _profile: profile,
            server,
            http: reqwest::Client::new(),
        };
        app.watch_api().await;
        Some(app)
    }

    /// Ends the browser session; dropping the `App` does the rest.
    pub async fn close(self) {
        let App { browser, .. } = self;
        let _ = browser.close().await;
    }

    /// Stops the server, as when it crashes or the network goes away.
    pub fn stop_server(&mut self) {
        let _ = self.server.child.kill();
        let _ = self.server.child.wait();
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base)
    }

    pub async fn goto(&self, path: &str) {
        self.browser
            .goto(&self.url(path))
            .await
            .expect("navigation");
    }

    /// The page's path and query, e.g. `/login?next=%2Faccount`.
    pub async fn location(&self) -> String {
        let url = self.browser.current_url().await.expect("current url");
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Waits until the page's path and query are `expected`.
    pub async fn wait_for_location(&self, expected: &str) {
        eventually(&format!("the location {expected}"), || async {
            (self.location().await == expected).then_some(())
        })
        .await;
    }

    /// Waits for the main heading to read exactly `text`.
    pub async fn wait_for_heading(&self, text: &str) -> Element {
        self.wait_for(&format!("//h1[normalize-space()='{text}']"))
            .await
    }

    /// Waits for an element matching `xpath`; on failure, the message shows where the
    /// browser is and what it shows.
    pub async fn wait_for(&self, xpath: &str) -> Element {
        match self
            .browser
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::XPath(xpath))
            .await
        {
            Ok(element) => element,
            Err(error) => {
                let location = self.location().await;
                let text = self.script("return document.body.innerText;", vec![]).await;
                panic!(
                    "no element {xpath} within {PATIENCE:?} ({error})\nat {location}, showing:\n{}",
                    text.as_str().unwrap_or_default()
                );
            }
        }
    }

    /// Whether some element matches `xpath` right now.
    pub async fn has(&self, xpath: &str) -> bool {
        !self
            .browser
            .find_all(Locator::XPath(xpath))
            .await
            .expect("find")
            .is_empty()
    }

    /// The input labelled exactly `label` (through the label's `for`).
    pub async fn field(&self, label: &str) -> Element {
        let label = self
            .wait_for(&format!("//label[normalize-space()='{label}']"))
            .await;
        let id = label
            .attr("for")
            .await
            .expect("label attribute")
            .expect("the label names its input");
        self.browser
            .find(Locator::Id(&id))
            .await
            .expect("the labelled input exists")
    }

    /// Replaces the text of the field labelled `label` as a person would: select all,
    /// delete, type. (WebDriver's Clear fires no `input` event, so the app would not see it.)
    pub async fn fill(&self, label: &str, text: &str) {
        let field = self.field(label).await;
        // Control+A, release the modifier, Backspace.
        field
            .send_keys("\u{E009}a\u{E000}\u{E003}")
            .await
            .expect("select and delete");
        field.send_keys(text).await.expect("type");
    }

    /// Presses Enter in the field labelled `label`.
    pub async fn press_enter(&self, label: &str) {
        let field = self.field(label).await;
        field.send_keys("\u{E007}").await.expect("Enter");
    }

    /// The button whose text is exactly `text`.
    pub async fn button(&self, text: &str) -> Element {
        self.wait_for(&format!("//button[normalize-space()='{text}']"))
            .await
    }

    pub async fn click_button(&self, text: &str) {
        self.button(text).await.click().await.expect("click");
    }

    pub async fn click_link(&self, text: &str) {
        self.wait_for(&format!("//a[normalize-space()='{text}']"))
            .await
            .click()
            .await
            .expect("click");
    }

    pub async fn script(&self, source: &str, args: Vec<Value>) -> Value {
        self.browser
            .execute(source, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{source}"))
    }

    /// Everything scripts on the page can read of what the app keeps: `document.cookie`,
    /// localStorage and sessionStorage, as one JSON text.
    pub async fn readable_by_scripts(&self) -> String {
        let dump = self
            .script(
                "return JSON.stringify({ cookie: document.cookie, \
                 local: Object.assign({}, window.localStorage), \
                 session: Object.assign({}, window.sessionStorage) });",
                vec![],
            )
            .await;
        dump.as_str().unwrap_or_default().to_owned()
    }

    /// Every API call the app made in the current page, oldest first (see [`WATCH_API`]).
    pub async fn api_calls(&self) -> Vec<Value> {
        let calls = self.script("return window.__apiCalls || [];", vec![]).await;
        calls.as_array().cloned().unwrap_or_default()
    }

    /// The calls of the current page to `path`, oldest first.
    pub async fn calls_to(&self, path: &str) -> Vec<Value> {
        let mut calls = self.api_calls().await;
        calls.retain(|call| call["path"] == json!(path));
        calls
    }

    /// The last access token the server gave the app in the current page, if any.
    pub async fn last_access_token(&self) -> Option<String> {
        self.api_calls()
            .await
            .iter()
            .rev()
            .find_map(|call| call["accessToken"].as_str().map(str::to_owned))
    }

    /// Waits until the app has an access token in the current page, and returns it.
    pub async fn wait_for_access_token(&self) -> String {
        eventually("an access token for the app", || self.last_access_token()).await
    }

    /// The browser's cookie `name` for the API's paths, HttpOnly ones too (through the
    /// DevTools protocol: scripts cannot read them, which is the point).
    pub async fn cookie(&self, name: &str) -> Option<Value> {
        let urls = [self.url("/api/v1/tokens/refresh")];
        let answer = self
            .devtools("Network.getCookies", json!({ "urls": urls }))
            .await;
        answer["value"]["cookies"]
            .as_array()?
            .iter()
            .find(|cookie| cookie["name"] == json!(name))
            .cloned()
    }

    /// The refresh token in the browser's refresh cookie, if it has one.
    pub async fn refresh_cookie(&self) -> Option<String> {
        let cookie = self.cookie(REFRESH_COOKIE).await?;
        cookie["value"].as_str().map(str::to_owned)
    }

    /// Removes the browser's cookie `name`, as when it reaches its `Max-Age`.
    pub async fn delete_cookie(&self, name: &str) {
        let url = self.url("/api/v1/tokens/refresh");
        self.devtools("Network.deleteCookies", json!({ "name": name, "url": url }))
            .await;
        assert_eq!(self.cookie(name).await, None, "{name} deleted");
    }

    /// Waits until the browser holds neither session cookie (the server cleared them).
    pub async fn wait_for_no_session_cookies(&self) {
        eventually("the session cookies to be cleared", || async {
            let left = self.cookie(REFRESH_COOKIE).await.is_some()
                || self.cookie(SESSION_COOKIE).await.is_some();
            (!left).then_some(())
        })
        .await;
    }

    /// Asserts that the tokens of a signed-in app are out of scripts' reach: the refresh
    /// token only in an HttpOnly cookie for its own path, the session cookie HttpOnly too,
    /// and neither they nor the access token in `document.cookie` or either storage.
    pub async fn assert_tokens_out_of_scripts_reach(&self) {
        let refresh = self.cookie(REFRESH_COOKIE).await.expect("a refresh cookie");
        assert_eq!(refresh["httpOnly"], json!(true), "{refresh}");
        assert_eq!(
            refresh["path"],
            json!("/api/v1/tokens/refresh"),
            "{refresh}"
        );
        let session = self.cookie(SESSION_COOKIE).await.expect("a session cookie");
        assert_eq!(session["httpOnly"], json!(true), "{session}");
        let readable = self.readable_by_scripts().await;
        let access = self.last_access_token().await.expect("an access token");
        for (what, secret) in [
            (
                "the refresh token",
                refresh["value"].as_str().expect("a value"),
            ),
            (
                "the session cookie",
                session["value"].as_str().expect("a value"),
            ),
            ("the access token", access.as_str()),
            ("a JWT", "eyJ"),
        ] {
            assert!(!secret.is_empty(), "{what} is empty");
            assert!(
                !readable.contains(secret),
                "{what} is readable by scripts: {readable}"
            );
        }
    }

    /// The browser console's errors since the last call (chromedriver's log endpoint, which
    /// WebDriver itself lacks): refused by the content security policy, failed loads, and
    /// uncaught exceptions all show up here.
    pub async fn console_errors(&self) -> Vec<String> {
        let session = self
            .browser
            .session_id()
            .await
            .expect("session id")
            .expect("a session");
        let url = format!(
            "http://127.0.0.1:{}/session/{session}/se/log",
            self.driver.port
        );
        let log: Value = self
            .http
            .post(url)
            .json(&json!({ "type": "browser" }))
            .send()
            .await
            .expect("chromedriver answers")
            .json()
            .await
            .expect("a JSON log");
        log["value"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|entry| entry["level"] == json!("SEVERE"))
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// The console errors since the last call, less those of the app asking the refresh
    /// cookie for a session when there is none: a 401 is how it learns that nobody is
    /// signed in.
    pub async fn console_errors_but_no_session(&self) -> Vec<String> {
        let mut errors = self.console_errors().await;
        errors.retain(|e| !(e.contains("/api/v1/tokens/refresh") && e.contains("401")));
        errors
    }

    /// Runs a Chrome DevTools Protocol command in the current tab, through chromedriver.
    async fn devtools(&self, command: &str, params: Value) -> Value {
        let session = self
            .browser
            .session_id()
            .await
            .expect("session id")
            .expect("a session");
        let url = format!(
            "http://127.0.0.1:{}/session/{session}/goog/cdp/execute",
            self.driver.port
        );
        let response = self
            .http
            .post(url)
            .json(&json!({ "cmd": command, "params": params }))
            .send()
            .await
            .expect("chromedriver answers");
        assert!(response.status().is_success(), "{command}: {response:?}");
        response.json().await.expect("a JSON answer")
    }

    /// Records the app's API calls (see [`WATCH_API`]) in pages loaded in the current tab
    /// from now on; [`App::start`] does it for the first tab.
    pub async fn watch_api(&self) {
        self.devtools(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": WATCH_API }),
        )
        .await;
    }

    /// Opens a new tab of the same browser (same cookies and storage), switches to it and
    /// watches its API calls; returns its handle.
    pub async fn open_tab(&self) -> WindowHandle {
        let tab = self.browser.new_window(true).await.expect("new tab").handle;
        self.browser
            .switch_to_window(tab.clone())
            .await
            .expect("switch");
        self.watch_api().await;
        tab
    }

    /// Makes the current tab fail every request whose URL matches one of `patterns` (`*`
    /// wildcards) as a network error, as when the server cannot be reached; `&[]` undoes it.
    pub async fn block_urls(&self, patterns: &[&str]) {
        self.devtools("Network.enable", json!({})).await;
        self.devtools("Network.setBlockedURLs", json!({ "urls": patterns }))
            .await;
    }

    /// Makes every answer in the current tab arrive `latency_ms` late, as on a slow network.
    pub async fn delay_network(&self, latency_ms: u64) {
        self.devtools("Network.enable", json!({})).await;
        let conditions = json!({
            "offline": false,
            "latency": latency_ms,
            "downloadThroughput": -1,
            "uploadThroughput": -1,
        });
        self.devtools("Network.emulateNetworkConditions", conditions)
            .await;
    }

    /// Saves a PNG of the page to `target/e2e/NAME.png`, for people to look at.
    pub async fn screenshot(&self, name: &str) {
        let png = self.browser.screenshot().await.expect("screenshot");
        let dir = workspace_root().join("target/e2e");
        std::fs::create_dir_all(&dir).expect("target/e2e");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }

    /// Creates an account through the API, faster than the form for tests about other things.
    pub async fn register_via_api(&self, username: &str, password: &str) {
        let response = self
            .http
            .post(self.url("/api/v1/users"))
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .expect("the API answers");
        assert_eq!(response.status(), 201, "registering {username}");
    }

    /// The server's answer to a sign-in, as `(status, body)`.
    pub async fn token_via_api(&self, username: &str, password: &str) -> (u16, Value) {
        let response = self
            .http
            .post(self.url("/api/v1/tokens"))
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .expect("the API answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("a JSON body"))
    }

    /// A request to the API straight from the test, as another program (or another
    /// device) would make it: `(status, body)`, the body `null` when empty.
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the API answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("a JSON body")
        };
        (status, body)
    }

    /// A sign-in straight through the API: another session of the same user, as from
    /// another device. Returns the token response.
    pub async fn session_via_api(&self, username: &str, password: &str) -> Value {
        let (status, body) = self.token_via_api(username, password).await;
        assert_eq!(status, 200, "signing in {username} through the API: {body}");
        body
    }

    /// The status `GET /api/v1/me` answers for `access_token`: 200 while its session is
    /// alive, 401 once it has ended.
    pub async fn me_status(&self, access_token: &str) -> u16 {
        self.api(reqwest::Method::GET, "/api/v1/me", Some(access_token), None)
            .await
            .0
    }

    /// The server's answer to presenting `refresh_token`, as `(status, body)`. Careful:
    /// a refresh token works once, and a second use ends its session.
    pub async fn refresh_via_api(&self, refresh_token: &str) -> (u16, Value) {
        let body = json!({ "refresh_token": refresh_token });
        self.api(
            reqwest::Method::POST,
            "/api/v1/tokens/refresh",
            None,
            Some(body),
        )
        .await
    }

    /// Signs in through the form on the current page and waits for the greeting.
    pub async fn sign_in_with_form(&self, username: &str, password: &str) {
        self.wait_for_heading("Sign in").await;
        self.fill("Username", username).await;
        self.fill("Password", password).await;
        self.click_button("Sign in").await;
    }

    /// Starts everything, creates `username` and signs in through the form: the user is on
    /// Home with a session.
    pub async fn start_signed_in(options: Options, username: &str) -> Option<App> {
        let app = App::start(options).await?;
        app.register_via_api(username, PASSWORD).await;
        app.goto("/login").await;
        app.sign_in_with_form(username, PASSWORD).await;
        app.wait_for_greeting(username).await;
        app.wait_for_access_token().await;
        Some(app)
    }

    /// Ends every session of `username` but one of its own, from another device: signs in
    /// there through the API and deletes the others (`DELETE /api/v1/sessions/{id}`).
    pub async fn end_sessions_from_another_device(&self, username: &str) {
        let elsewhere = self.session_via_api(username, PASSWORD).await;
        let token = elsewhere["access_token"].as_str().expect("an access token");
        let (status, sessions) = self
            .api(reqwest::Method::GET, "/api/v1/sessions", Some(token), None)
            .await;
        assert_eq!(status, 200, "{sessions}");
        for session in sessions.as_array().expect("a list") {
            if session["current"] == json!(false) {
                let id = session["id"].as_str().expect("an id");
                let path = format!("/api/v1/sessions/{id}");
                let (status, body) = self
                    .api(reqwest::Method::DELETE, &path, Some(token), None)
                    .await;
                assert_eq!(status, 204, "ending session {id}: {body}");
            }
        }
    }

    /// Waits for Home's greeting of `username`.
    pub async fn wait_for_greeting(&self, username: &str) {
        self.wait_for_heading(&format!("Hello, {username}")).await;
    }
}

/// Where `scripts/install-deps.sh test` puts axe-core, the accessibility checker.
const AXE_CORE: &str = "target/tools/axe-core/node_modules/axe-core/axe.min.js";

/// What the pages must meet: WCAG 2.2 at level AA, which takes in A and the earlier versions.
pub const WCAG_22_AA: [&str; 5] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

/// The widths the pages are looked at in: a phone and a desktop.
pub const PHONE_WIDTH: u32 = 390;
pub const DESKTOP_WIDTH: u32 = 1440;

/// Keys as WebDriver spells them, for [`App::press`]. The NUL at the end of Shift+Tab lets
/// go of Shift.
pub const TAB: &str = "\u{E004}";
pub const SHIFT_TAB: &str = "\u{E008}\u{E004}\u{E000}";
pub const ENTER: &str = "\u{E007}";

/// axe-core's source, read once. Missing, it fails the test in CI, as a missing Chromium
/// does; elsewhere the check is skipped, saying so loudly.
fn axe_core() -> Option<&'static str> {
    static SOURCE: std::sync::OnceLock<Result<String, String>> = std::sync::OnceLock::new();
    let source = SOURCE.get_or_init(|| {
        let path = workspace_root().join(AXE_CORE);
        std::fs::read_to_string(&path).map_err(|error| {
            format!(
                "axe-core is missing ({}: {error}): run `scripts/install-deps.sh test`",
                path.display()
            )
        })
    });
    match source {
        Ok(source) => Some(source),
        Err(missing) if in_ci() => panic!("accessibility checks cannot run: {missing}"),
        Err(missing) => {
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED accessibility check (CI is not set): {missing}"
            );
            None
        }
    }
}

/// Resolves once the page's finite animations and transitions have ended (endless ones,
/// such as a spinner, are left running) and two frames have been drawn: colours are then
/// as a person sees them, not halfway through a fade.
const SETTLE: &str = r#"
    const done = arguments[arguments.length - 1];
    const finite = document.getAnimations().filter((animation) =>
        animation.playState === 'running' && animation.effect
            && animation.effect.getComputedTiming().endTime !== Infinity);
    Promise.all(finite.map((animation) => animation.finished.catch(() => null)))
        .then(() => new Promise((frame) => requestAnimationFrame(() => requestAnimationFrame(frame))))
        .then(() => done(true));
"#;

/// Runs axe-core over the whole document for the tags in `arguments[0]` and answers its
/// violations, each with the nodes that fail it.
const RUN_AXE: &str = r#"
    const [tags, done] = [arguments[0], arguments[arguments.length - 1]];
    axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })
        .then((results) => done({
            violations: results.violations.map((violation) => ({
                id: violation.id,
                impact: violation.impact,
                help: violation.help,
                helpUrl: violation.helpUrl,
                nodes: violation.nodes.map((node) => ({
                    target: node.target,
                    html: node.html,
                    failureSummary: node.failureSummary,
                })),
            })),
        }), (error) => done({ error: String((error && error.stack) || error) }));
"#;

/// The focused element, described for a person: tag, id, classes and text.
const DESCRIBE_FOCUS: &str = r#"
    const el = document.activeElement;
    if (!el || el === document.body) { return 'the page itself (nothing focused)'; }
    const text = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim();
    return el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
        + [...el.classList].map((name) => '.' + name).join('')
        + ' "' + text.replace(/\s+/g, ' ').slice(0, 60) + '"';
"#;

/// What the colour checks below share, put before each: CSS colours read, WCAG's relative
/// luminance and contrast ratio, and the first opaque background behind an element.
const COLOUR_MATH: &str = r#"
    const rgba = (text) => {
        const match = /rgba?\(([^)]*)\)/.exec(text);
        if (!match) { return null; }
        const [r, g, b, a = 1] = match[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
        return { r, g, b, a, text };
    };
    const luminance = ({ r, g, b }) => {
        const linear = (v) => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
        return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
    };
    const contrast = (x, y) => {
        const [light, dark] = [luminance(x), luminance(y)].sort((p, q) => q - p);
        return (light + 0.05) / (dark + 0.05);
    };
    const opaqueBackground = (start) => {
        for (let node = start; node; node = node.parentElement) {
            const colour = rgba(getComputedStyle(node).backgroundColor);
            if (colour && colour.a >= 1) { return colour; }
        }
        return { r: 255, g: 255, b: 255, a: 1, text: 'white (the canvas)' };
    };
"#;

/// What is wrong with how the focused element shows its focus, or `null`: WCAG 2.4.11 and
/// 2.4.13 as the app meets them, an outline at least 2 CSS pixels thick with a contrast of
/// 3:1 or more against what lies next to it: the background around the element, and its
/// own background too when the outline touches it. (axe-core does not judge focus.)
const FOCUS_INDICATOR_PROBLEM: &str = r#"
    const el = document.activeElement;
    if (!el || el === document.body) { return 'nothing has the focus'; }
    const style = getComputedStyle(el);
    const width = parseFloat(style.outlineWidth) || 0;
    if (style.outlineStyle === 'none' || width < 2) {
        return `no outline of 2px or more (outline: ${style.outlineStyle} ${style.outlineWidth}, box-shadow: ${style.boxShadow})`;
    }
    const outline = rgba(style.outlineColor);
    if (!outline || outline.a < 1) { return `an outline colour that is not opaque: ${style.outlineColor}`; }
    const neighbours = [['the background around it', opaqueBackground(el.parentElement)]];
    if ((parseFloat(style.outlineOffset) || 0) <= 0) {
        const own = rgba(style.backgroundColor);
        if (own && own.a >= 1) { neighbours.push(['its own background', own]); }
    }
    for (const [what, colour] of neighbours) {
        const ratio = contrast(outline, colour);
        if (ratio < 3) {
            return `an outline of ${outline.text} with a contrast of ${ratio.toFixed(2)}:1 against ${what} (${colour.text})`;
        }
    }
    return null;
"#;

impl App {
    /// Waits until the page holds still: see [`SETTLE`].
    pub async fn settle(&self) {
        self.browser
            .execute_async(SETTLE, vec![])
            .await
            .expect("the page settles");
    }

    /// axe-core's verdict on the page as it is now, at WCAG 2.2 AA: `None` when it finds no
    /// violation (or is not installed outside CI, see [`axe_core`]), else every violation
    /// with its rule, impact, help and each failing node's target and summary, under the
    /// heading `state`.
    pub async fn accessibility_violations(&self, state: &str) -> Option<String> {
        let source = axe_core()?;
        // WebDriver's scripts are not the page's, so the content security policy (no
        // inline script, no eval) does not stop them: axe arrives as a script of its own.
        let loaded = self.script("return typeof window.axe === 'object';", vec![]);
        if loaded.await != json!(true) {
            self.browser
                .execute(source, vec![])
                .await
                .unwrap_or_else(|e| panic!("axe-core does not load into the page: {e}"));
        }
        self.settle().await;
        let answer = self
            .browser
            .execute_async(RUN_AXE, vec![json!(WCAG_22_AA)])
            .await
            .unwrap_or_else(|e| panic!("axe-core did not run: {e}"));
        if let Some(error) = answer["error"].as_str() {
            panic!("axe-core failed in {state}: {error}");
        }
        let violations = answer["violations"].as_array().expect("axe's violations");
        if violations.is_empty() {
            return None;
        }
        let location = self.location().await;
        let mut report = format!(
            "{state} (at {location}): {} accessibility violation(s) at WCAG 2.2 AA (axe-core)\n",
            violations.len()
        );
        for violation in violations {
            report.push_str(&format!(
                "  - {} ({}): {} <{}>\n",
                violation["id"].as_str().unwrap_or_default(),
                violation["impact"].as_str().unwrap_or("no impact given"),
                violation["help"].as_str().unwrap_or_default(),
                violation["helpUrl"].as_str().unwrap_or_default(),
            ));
            for node in violation["nodes"].as_array().into_iter().flatten() {
                report.push_str(&format!(
                    "      at {}: {}\n        {}\n",
                    node["target"],
                    node["html"].as_str().unwrap_or_default(),
                    node["failureSummary"]
                        .as_str()
                        .unwrap_or_default()
                        .replace('\n', "\n        "),
                ));
            }
        }
        Some(report)
    }

    /// Fails the test with every violation of WCAG 2.2 AA that axe-core finds in the page
    /// as it is now; `state` names the page and its state in the message.
    pub async fn assert_accessible(&self, state: &str) {
        if let Some(report) = self.accessibility_violations(state).await {
            panic!("{report}");
        }
    }

    /// Shows the page as a screen `width` CSS pixels wide (a phone's below 600, with its
    /// viewport rules) would, in the dark colour scheme when `dark`, else the light one.
    pub async fn emulate(&self, width: u32, dark: bool) {
        self.emulate_size(width, if width < 600 { 844 } else { 900 })
            .await;
        let scheme = if dark { "dark" } else { "light" };
        self.devtools(
            "Emulation.setEmulatedMedia",
            json!({ "features": [{ "name": "prefers-color-scheme", "value": scheme }] }),
        )
        .await;
    }

    async fn emulate_size(&self, width: u32, height: u64) {
        let metrics = json!({
            "width": width,
            "height": height,
            "deviceScaleFactor": 1,
            "mobile": width < 600,
        });
        self.devtools("Emulation.setDeviceMetricsOverride", metrics)
            .await;
    }

    /// Back to the browser's own window size and colour scheme.
    pub async fn emulate_defaults(&self) {
        self.devtools("Emulation.clearDeviceMetricsOverride", json!({}))
            .await;
        self.devtools("Emulation.setEmulatedMedia", json!({ "features": [] }))
            .await;
    }

    /// Saves the whole page (not just what fits on the screen) at a phone's and a desktop's
    /// width, light and dark, as `target/e2e/PAGE-{390,1440}-{light,dark}.png`; then back
    /// to the defaults.
    pub async fn screenshots(&self, page: &str) {
        for width in [PHONE_WIDTH, DESKTOP_WIDTH] {
            for dark in [false, true] {
                self.emulate(width, dark).await;
                self.settle().await;
                // As tall as the page, so the screenshot holds all of it.
                let tall = self
                    .script(
                        "return Math.ceil(document.documentElement.scrollHeight);",
                        vec![],
                    )
                    .await
                    .as_u64()
                    .expect("the page's height");
                let screen = if width < 600 { 844 } else { 900 };
                if tall > screen {
                    self.emulate_size(width, tall).await;
                    self.settle().await;
                }
                let scheme = if dark { "dark" } else { "light" };
                self.screenshot(&format!("{page}-{width}-{scheme}")).await;
            }
        }
        self.emulate_defaults().await;
    }

    /// Holds every request of the current tab whose URL matches one of `patterns` (`*`
    /// wildcards) unanswered, as a very slow network would, until [`App::release_requests`].
    pub async fn hold_requests(&self, patterns: &[&str]) {
        let patterns: Vec<Value> = patterns
            .iter()
            .map(|pattern| json!({ "urlPattern": pattern, "requestStage": "Request" }))
            .collect();
        self.devtools("Fetch.enable", json!({ "patterns": patterns }))
            .await;
    }

    /// Lets the requests held by [`App::hold_requests`] go on, and holds no more.
    pub async fn release_requests(&self) {
        self.devtools("Fetch.disable", json!({})).await;
    }

    /// The focused element, described for a person (tag, id, classes, text).
    pub async fn focused(&self) -> String {
        let described = self.script(DESCRIBE_FOCUS, vec![]).await;
        described.as_str().unwrap_or_default().to_owned()
    }

    /// Whether `condition`, a JavaScript expression about the focused element `el`, holds.
    pub async fn focus_is(&self, condition: &str) -> bool {
        let source = format!("const el = document.activeElement; return Boolean({condition});");
        self.script(&source, vec![]).await == json!(true)
    }

    /// Waits until `condition` (see [`App::focus_is`]) holds; the message of a failure
    /// names `what` and what has the focus instead.
    pub async fn wait_for_focus(&self, what: &str, condition: &str) {
        let deadline = Instant::now() + PATIENCE;
        while !self.focus_is(condition).await {
            if Instant::now() >= deadline {
                panic!(
                    "timed out after {PATIENCE:?} waiting for the focus on {what}; at {} it is on {}",
                    self.location().await,
                    self.focused().await
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Presses `keys` (WebDriver's key codes: [`TAB`], [`SHIFT_TAB`], [`ENTER`], or text)
    /// where the focus is, as on a keyboard: no element is picked, no mouse is used.
    pub async fn press(&self, keys: &str) {
        let active = self
            .browser
            .active_element()
            .await
            .expect("an active element");
        active.send_keys(keys).await.expect("keys reach the page");
    }

    /// What is wrong with the focused element's focus indicator, if anything (see
    /// [`FOCUS_INDICATOR_PROBLEM`]), with the element named.
    pub async fn focus_indicator_problem(&self) -> Option<String> {
        let problem = self
            .script(&format!("{COLOUR_MATH}{FOCUS_INDICATOR_PROBLEM}"), vec![])
            .await;
        let problem = problem.as_str()?;
        Some(format!("{}: {problem}", self.focused().await))
    }

    /// Presses Tab (Shift+Tab when `backwards`) until `condition` (see [`App::focus_is`])
    /// holds, at most 40 times. Fails naming `what` and every element the focus passed, or
    /// when one of them does not show its focus well enough to see.
    pub async fn tab_to(&self, what: &str, condition: &str, backwards: bool) {
        let mut passed = Vec::new();
        for _ in 0..40 {
            self.press(if backwards { SHIFT_TAB } else { TAB }).await;
            if let Some(problem) = self.focus_indicator_problem().await {
                panic!("on the way to {what}, the focus is hard to see on {problem}");
            }
            if self.focus_is(condition).await {
                return;
            }
            passed.push(self.focused().await);
        }
        panic!(
            "{} did not reach {what} in 40 presses; the focus went to:\n  {}",
            if backwards { "Shift+Tab" } else { "Tab" },
            passed.join("\n  ")
        );
    }

    /// Tabs once around the whole page, from its first stop to its last, and answers every
    /// element whose focus indicator is too faint to see (see [`App::tab_to`]).
    pub async fn faint_focus_indicators(&self) -> Vec<String> {
        const NOTHING: &str = "el === document.body || el === null";
        // To the end of the page first: one Tab past its last stop, nothing has the focus.
        let mut presses = 0;
        while !self.focus_is(NOTHING).await {
            self.press(TAB).await;
            presses += 1;
            assert!(presses <= 60, "Tab never leaves the page");
        }
        let mut problems = Vec::new();
        let mut stops = 0;
        loop {
            self.press(TAB).await;
            if self.focus_is(NOTHING).await {
                break;
            }
            stops += 1;
            assert!(stops <= 60, "Tab never leaves the page");
            problems.extend(self.focus_indicator_problem().await);
        }
        assert!(stops > 0, "Tab reaches nothing on the page");
        problems
    }

    /// Where the text fields' edges are too faint to see (WCAG 1.4.11, non-text contrast):
    /// neither their border nor their own background reaches 3:1 against the background
    /// around them. axe-core does not judge this either.
    pub async fn input_boundary_problems(&self) -> Vec<String> {
        let problems = self
            .script(&format!("{COLOUR_MATH}{INPUT_BOUNDARY_PROBLEMS}"), vec![])
            .await;
        problems
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|problem| problem.as_str().map(str::to_owned))
            .collect()
    }
}

/// Every visible text field whose boundary is too faint: see [`App::input_boundary_problems`].
const INPUT_BOUNDARY_PROBLEMS: &str = r#"
    const problems = [];
    const fields = document.querySelectorAll('input:not([type=checkbox]):not([type=radio]):not([type=hidden]), textarea, select');
    for (const field of fields) {
        if (!field.checkVisibility()) { continue; }
        const style = getComputedStyle(field);
        const around = opaqueBackground(field.parentElement);
        const border = rgba(style.borderTopColor);
        const own = rgba(style.backgroundColor);
        const borderRatio = border && parseFloat(style.borderTopWidth) > 0 && border.a >= 1
            ? contrast(border, around) : 0;
        const ownRatio = own && own.a >= 1 ? contrast(own, around) : 0;
        if (borderRatio < 3 && ownRatio < 3) {
            problems.push(`${field.tagName.toLowerCase()}#${field.id}: border ${style.borderTopColor} `
                + `${borderRatio.toFixed(2)}:1 and background ${style.backgroundColor} `
                + `${ownRatio.toFixed(2)}:1 against ${around.text}; 3:1 is needed`);
        }
    }
    return problems;
"#;

/// What sticks out sideways of a page wider than the screen, or `null` when it fits.
const HORIZONTAL_OVERFLOW: &str = r#"
    const width = document.documentElement.clientWidth;
    const wide = document.documentElement.scrollWidth;
    if (wide <= width) { return null; }
    const right = (el) => el.getBoundingClientRect().right;
    const sticking = [...document.body.querySelectorAll('*')]
        // Not what is fixed to the screen: a screen wider than the page stretches that too.
        .filter((el) => right(el) > width + 0.5 && el.checkVisibility()
            && getComputedStyle(el).position !== 'fixed'
            && (el.parentElement === document.body || right(el.parentElement) <= width + 0.5))
        .slice(0, 5)
        .map((el) => el.tagName.toLowerCase() + [...el.classList].map((c) => '.' + c).join('')
            + ` (right edge at ${Math.round(right(el))}px)`);
    return `the page is ${wide}px wide on a screen of ${width}px; sticking out: ${sticking.join(', ') || 'nothing visible'}`;
"#;

impl App {
    /// Whether the page is wider than the screen, so that reading it takes scrolling
    /// sideways (WCAG 1.4.10, Reflow): `None` when it fits, else what sticks out.
    pub async fn horizontal_overflow(&self) -> Option<String> {
        let overflow = self.script(HORIZONTAL_OVERFLOW, vec![]).await;
        overflow.as_str().map(str::to_owned)
    }
}
