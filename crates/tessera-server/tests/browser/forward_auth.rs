//! Forward auth through the proxy configurations of `docs/forward-auth.md`, run as
//! documented: nginx or Caddy on a free port serves `auth.tessera.test` (Tessera and its web
//! app) and `app1`/`app2.tessera.test` (a small app of this test's own that shows the
//! identity headers it was sent). Chromium resolves `*.tessera.test` to 127.0.0.1 and takes
//! the test certificates, so the cookies are `Secure` as in production; `curl` is the client
//! that forges headers.
//!
//! A missing `nginx`, `caddy`, `openssl` or `curl` fails the test under `CI=true` and skips
//! it, loudly, otherwise.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use fantoccini::cookies::Cookie;
use serde_json::{Value, json};
use tempfile::TempDir;
use url::Url;

use crate::harness::{App, Options, PASSWORD, Surroundings, eventually};

#[path = "../support/proxies.rs"]
mod support;
use support::{
    Daemon, Documentation, caddy_test_options, certificate, fill_in, free_port, start_caddy,
    start_nginx, tool,
};

const FORWARD_AUTH: Documentation = Documentation {
    path: "docs/forward-auth.md",
    text: include_str!("../../../../docs/forward-auth.md"),
};

const AUTH: &str = "auth.tessera.test";
const APP1: &str = "app1.tessera.test";
const APP2: &str = "app2.tessera.test";
/// Allowed by nothing in this test's configuration.
const ELSEWHERE: &str = "app3.tessera.test";

/// What a client sends to pass for someone else.
const FORGED_IDENTITY: [(&str, &str); 3] = [
    ("Remote-User", "admin"),
    ("Remote-User-Id", "1000"),
    ("Remote-Token", "forged"),
];
/// What a client sends to have another URL checked than the one it asks for.
const FORGED_TARGET: [(&str, &str); 4] = [
    ("X-Original-URL", "https://evil.example/"),
    ("X-Forwarded-Proto", "http"),
    ("X-Forwarded-Host", "evil.example"),
    ("X-Forwarded-Uri", "/elsewhere"),
];

/// One request as the app behind the proxy received it.
#[derive(Debug, Clone)]
struct Received {
    target: String,
    headers: Vec<(String, String)>,
}

impl Received {
    fn values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
            .collect()
    }
}

/// The app behind the proxy: every request gets a page showing the identity headers it
/// came with, and is kept for the test to look at.
struct Upstream {
    address: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    stopped: Arc<AtomicBool>,
}

impl Upstream {
    fn start() -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port for the app");
        let address = listener.local_addr().expect("the app's address");
        let received = Arc::new(Mutex::new(Vec::new()));
        let stopped = Arc::new(AtomicBool::new(false));
        let (kept, stop) = (Arc::clone(&received), Arc::clone(&stopped));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    let kept = Arc::clone(&kept);
                    std::thread::spawn(move || answer(stream, &kept));
                }
            }
        });
        Upstream {
            address,
            received,
            stopped,
        }
    }

    /// The requests for `target` (path and query) that reached the app.
    fn received(&self, target: &str) -> Vec<Received> {
        let received = self.received.lock().unwrap_or_else(PoisonError::into_inner);
        received
            .iter()
            .filter(|request| request.target == target)
            .cloned()
            .collect()
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::SeqCst);
        // Wakes the accepting thread, which then sees the flag.
        let _ = TcpStream::connect(self.address);
    }
}

/// Reads one request head from `stream`, keeps it, and answers with the page.
fn answer(stream: TcpStream, kept: &Mutex<Vec<Received>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(&stream);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let Some(target) = line.split(' ').nth(1).map(str::to_owned) else {
        return;
    };
    let mut headers = Vec::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) if line.trim_end().is_empty() => break,
            Ok(_) => {
                if let Some((name, value)) = line.split_once(':') {
                    headers.push((name.trim().to_owned(), value.trim().to_owned()));
                }
            }
        }
    }
    let request = Received { target, headers };
    let shown = |name: &str| escape_html(&request.values(name).join(", "));
    let host = shown("Host");
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{host}</title>\
         </head><body><h1>{host}</h1>\n<p id=\"remote-user\">{}</p>\n\
         <p id=\"remote-user-id\">{}</p>\n<p id=\"remote-token\">{}</p>\n</body></html>\n",
        shown("Remote-User"),
        shown("Remote-User-Id"),
        shown("Remote-Token"),
    );
    // Kept before answering: once the answer is in, so is the request.
    kept.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(request);
    let _ = write!(
        &stream,
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
}

/// Header values are the client's to choose; on the page they are text.
fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn encoded(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The proxy program, and what it needs besides `curl`.
enum Server {
    Nginx { nginx: PathBuf, openssl: PathBuf },
    Caddy { caddy: PathBuf },
}

impl Server {
    fn nginx() -> Option<Server> {
        Some(Server::Nginx {
            nginx: tool("/usr/sbin/nginx")?,
            openssl: tool("/usr/bin/openssl")?,
        })
    }

    fn caddy() -> Option<Server> {
        Some(Server::Caddy {
            caddy: tool("/usr/bin/caddy")?,
        })
    }
}

/// An answer as `curl` saw it.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The problem code of a problem body.
    fn code(&self) -> Option<String> {
        let problem: Value = serde_json::from_str(&self.body).ok()?;
        problem["code"].as_str().map(str::to_owned)
    }
}

/// The documented proxy on `https://*.tessera.test:PORT`.
struct Proxy {
    port: u16,
    curl: PathBuf,
    daemon: Daemon,
    _dir: TempDir,
}

impl Proxy {
    /// Starts the configuration `docs/forward-auth.md` shows for `server` on `port`, in
    /// front of Tessera on `tessera` (`127.0.0.1:PORT`) and of the two apps.
    fn start(
        server: Server,
        curl: PathBuf,
        port: u16,
        tessera: &str,
        apps: [&Upstream; 2],
    ) -> Proxy {
        let dir = tempfile::tempdir().expect("a directory for the proxy");
        // The block shows app1; app2 gets the same one with its own name and upstream.
        let app_blocks = |block: &str, first: &[(&str, &str)]| {
            [(APP1, apps[0]), (APP2, apps[1])].map(|(host, upstream)| {
                let upstream = upstream.address.to_string();
                let mut replacements = first.to_vec();
                replacements.extend([(APP1, host), ("127.0.0.1:3001", upstream.as_str())]);
                fill_in(FORWARD_AUTH.block(block), &replacements)
            })
        };
        let daemon = match server {
            Server::Nginx { nginx, openssl } => {
                let (cert, key) = certificate(&openssl, dir.path(), &[AUTH, APP1, APP2]);
                let (cert, key) = (cert.display().to_string(), key.display().to_string());
                let listen = format!("listen 127.0.0.1:{port} ");
                let documented = |host: &str| {
                    [
                        format!("/etc/letsencrypt/live/{host}/fullchain.pem"),
                        format!("/etc/letsencrypt/live/{host}/privkey.pem"),
                    ]
                };
                let [auth_cert, auth_key] = documented(AUTH);
                let auth = fill_in(
                    FORWARD_AUTH.block("nginx-auth"),
                    &[
                        ("listen 443 ", &listen),
                        (&auth_cert, &cert),
                        (&auth_key, &key),
                        ("127.0.0.1:8080", tessera),
                    ],
                );
                let [app_cert, app_key] = documented(APP1);
                let [app1, app2] = app_blocks(
                    "nginx-app",
                    &[
                        ("listen 443 ", &listen),
                        (&app_cert, &cert),
                        (&app_key, &key),
                    ],
                );
                start_nginx(&nginx, dir.path(), &format!("{auth}\n{app1}\n{app2}"))
            }
            Server::Caddy { caddy } => {
                let options = caddy_test_options(dir.path(), free_port(), port);
                let auth = fill_in(
                    FORWARD_AUTH.block("caddy-auth"),
                    &[
                        ("admin off\n", &format!("admin off\n{options}")),
                        ("127.0.0.1:8080", tessera),
                    ],
                );
                let [app1, app2] = app_blocks("caddy-app", &[("127.0.0.1:8080", tessera)]);
                start_caddy(&caddy, dir.path(), &format!("{auth}\n\n{app1}\n\n{app2}\n"))
            }
        };
        Proxy {
            port,
            curl,
            daemon,
            _dir: dir,
        }
    }

    /// `https://HOST:PORT/path` through the proxy.
    fn url(&self, host: &str, path: &str) -> String {
        format!("https://{host}:{}{path}", self.port)
    }

    /// `GET url` with `headers`, by `curl`, `*.tessera.test` resolved to the proxy.
    async fn get(&self, url: &str, headers: &[(&str, &str)]) -> Reply {
        let mut command = Command::new(&self.curl);
        command
            .args(["--silent", "--show-error", "--insecure", "--include"])
            .args(["--max-time", "20"]);
        for host in [AUTH, APP1, APP2, ELSEWHERE] {
            command
                .arg("--resolve")
                .arg(format!("{host}:{}:127.0.0.1", self.port));
        }
        for (name, value) in headers {
            command.arg("--header").arg(format!("{name}: {value}"));
        }
        command.arg(url);
        let output = tokio::task::spawn_blocking(move || command.output())
            .await
            .expect("curl was waited for")
            .expect("curl runs");
        let text = String::from_utf8_lossy(&output.stdout);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|line| line.split(' ').nth(1))
            .and_then(|status| status.parse().ok())
            .unwrap_or(0);
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
            .collect();
        Reply {
            status,
            headers,
            body: body.to_owned(),
        }
    }

    /// Waits until Tessera answers through the proxy and an app asks it.
    async fn wait_until_ready(&self) {
        let (healthz, app) = (self.url(AUTH, "/healthz"), self.url(APP1, "/"));
        eventually("the proxy to answer", || async {
            let up = self.get(&healthz, &[]).await.status == 200
                && self.get(&app, &[]).await.status == 302;
            up.then_some(())
        })
        .await;
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- the proxy's log ---\n{}", self.daemon.log());
        }
    }
}

/// Tessera behind `kind` on `auth.tessera.test`, the apps, and a browser that finds them.
struct World {
    app: App,
    proxy: Proxy,
    app1: Upstream,
    app2: Upstream,
}

impl World {
    async fn start(server: Option<Server>) -> Option<World> {
        let (server, curl) = (server?, tool("/usr/bin/curl")?);
        let port = free_port();
        let surroundings = Surroundings {
            server_env: [
                ("TESSERA_ISSUER", format!("https://{AUTH}:{port}")),
                ("TESSERA_COOKIE_DOMAIN", "tessera.test".to_owned()),
                ("TESSERA_FORWARD_AUTH_DOMAINS", format!("{APP1},{APP2}")),
                ("TESSERA_TRUSTED_PROXIES", "127.0.0.1".to_owned()),
            ]
            .map(|(key, value)| (key.to_owned(), value))
            .into(),
            chromium_args: vec![
                "--host-resolver-rules=MAP *.tessera.test 127.0.0.1".to_owned(),
                // The test certificates; the pages stay https, so Secure cookies work.
                "--ignore-certificate-errors".to_owned(),
            ],
        };
        let app = App::start_with(Options::default(), surroundings).await?;
        let (app1, app2) = (Upstream::start(), Upstream::start());
        let tessera = app.url("").trim_start_matches("http://").to_owned();
        let proxy = Proxy::start(server, curl, port, &tessera, [&app1, &app2]);
        proxy.wait_until_ready().await;
        Some(World {
            app,
            proxy,
            app1,
            app2,
        })
    }

    async fn goto(&self, url: &str) {
        self.app.browser.goto(url).await.expect("navigation");
    }

    async fn current_url(&self) -> Url {
        self.app.browser.current_url().await.expect("current url")
    }

    /// Waits until the browser shows exactly `url`.
    async fn wait_for_url(&self, url: &str) {
        eventually(&format!("the browser at {url}"), || async {
            (self.current_url().await.as_str() == url).then_some(())
        })
        .await;
    }

    /// Waits until the browser is on Tessera's sign-in page, sent to come back to `target`.
    async fn wait_for_sign_in_for(&self, target: &str) {
        eventually(&format!("the sign-in page for {target}"), || async {
            sign_in_for(&self.current_url().await, self.proxy.port, target).then_some(())
        })
        .await;
        self.app.wait_for_heading("Sign in").await;
    }

    /// Waits until the app's page names `username` (and `id`) as the user it was sent.
    async fn wait_for_user(&self, username: &str, id: i64) {
        self.app
            .wait_for(&format!("//p[@id='remote-user' and .='{username}']"))
            .await;
        self.app
            .wait_for(&format!("//p[@id='remote-user-id' and .='{id}']"))
            .await;
        assert!(self.app.has("//p[@id='remote-token' and .='']").await);
    }

    /// The browser's cookie `name` as the page at `url` has it (WebDriver shows HttpOnly
    /// cookies too).
    async fn cookie(&self, url: &str, name: &str) -> Option<Cookie<'static>> {
        self.goto(url).await;
        let cookies = self.app.browser.get_all_cookies().await.expect("cookies");
        cookies.into_iter().find(|cookie| cookie.name() == name)
    }
}

/// Whether `url` is Tessera's sign-in page behind the proxy on `port`, asked to return to
/// `target`.
fn sign_in_for(url: &Url, port: u16, target: &str) -> bool {
    url.scheme() == "https"
        && url.host_str() == Some(AUTH)
        && url.port() == Some(port)
        && url.path() == "/login"
        && url
            .query_pairs()
            .any(|(key, value)| key == "rd" && value == target)
}

/// Registers `username` through the API; its id.
async fn register(app: &App, username: &str) -> i64 {
    let (status, user) = app
        .api(
            reqwest::Method::POST,
            "/api/v1/users",
            None,
            Some(json!({ "username": username, "password": PASSWORD })),
        )
        .await;
    assert_eq!(status, 201, "registering {username}: {user}");
    user["id"].as_i64().expect("the new user's id")
}

/// The whole journey through one proxy, from the first redirect to sign-out.
async fn forward_auth_as_documented(server: Option<Server>, username: &str) {
    let Some(world) = World::start(server).await else {
        return;
    };
    let (app, proxy) = (&world.app, &world.proxy);
    let id = register(app, username).await;

    // Signed out, the app sends the browser to sign in, remembering where it was going.
    let private = proxy.url(APP1, "/private?tab=1");
    world.goto(&private).await;
    world.wait_for_sign_in_for(&private).await;
    app.sign_in_with_form(username, PASSWORD).await;
    world.wait_for_url(&private).await;
    world.wait_for_user(username, id).await;

    // The other app on the cookie domain lets the user in without a second sign-in.
    let other = proxy.url(APP2, "/");
    world.goto(&other).await;
    world.wait_for_url(&other).await;
    world.wait_for_user(username, id).await;

    // What scripts can read, on the auth host (whose app renews its access token from the
    // refresh cookie as the page loads) and on an app.
    world.goto(&proxy.url(AUTH, "/")).await;
    app.wait_for_greeting(username).await;
    let access = app.wait_for_access_token().await;
    let readable_on_auth = app.readable_by_scripts().await;
    world.goto(&proxy.url(APP1, "/readable")).await;
    world.wait_for_user(username, id).await;
    let readable_on_app = app.readable_by_scripts().await;

    // The refresh token lives in an HttpOnly cookie for its own path on the auth host; the
    // session cookie is HttpOnly too, for the whole cookie domain.
    let refresh = world
        .cookie(
            &proxy.url(AUTH, "/api/v1/tokens/refresh"),
            "tessera_refresh",
        )
        .await
        .expect("a refresh cookie on the auth host");
    let session = world
        .cookie(&proxy.url(APP1, "/"), "tessera_session")
        .await
        .expect("a session cookie on the app's host");
    let attributes = |cookie: &Cookie| {
        (
            cookie.http_only(),
            cookie.secure(),
            cookie.same_site().map(|same_site| same_site.to_string()),
            cookie.path().map(str::to_owned),
            cookie.domain().map(str::to_owned),
        )
    };
    let lax = Some("Lax".to_owned());
    assert_eq!(
        attributes(&refresh),
        (
            Some(true),
            Some(true),
            lax.clone(),
            Some("/api/v1/tokens/refresh".to_owned()),
            Some(AUTH.to_owned())
        )
    );
    assert_eq!(
        attributes(&session),
        (
            Some(true),
            Some(true),
            lax,
            Some("/".to_owned()),
            Some("tessera.test".to_owned())
        )
    );
    // Host-only: not sent to the apps, even on that path.
    assert!(
        world
            .cookie(
                &proxy.url(APP1, "/api/v1/tokens/refresh"),
                "tessera_refresh"
            )
            .await
            .is_none()
    );
    for (page, readable) in [(AUTH, &readable_on_auth), (APP1, &readable_on_app)] {
        for secret in [
            refresh.value(),
            session.value(),
            access.as_str(),
            "tessera_refresh",
            "tessera_session",
        ] {
            assert!(!readable.contains(secret), "{secret} on {page}: {readable}");
        }
    }

    // A page of an app on the cookie domain cannot end the session: its request carries the
    // cookie (same site) but not Tessera's origin.
    world.goto(&proxy.url(APP1, "/sibling")).await;
    let sent = app
        .script(
            "return fetch(arguments[0], { method: 'POST', credentials: 'include', \
             mode: 'no-cors' }).then(response => response.type);",
            vec![json!(proxy.url(AUTH, "/api/v1/logout"))],
        )
        .await;
    assert_eq!(sent, json!("opaque"), "the request was sent");
    world.goto(&other).await;
    world.wait_for_user(username, id).await;

    // A client's own identity headers never reach the app: with the user's session cookie
    // the app gets the user, and without one it gets nothing.
    let cookie = format!("tessera_session={}", session.value());
    let with_cookie = "/forged?signed-in";
    let reply = proxy
        .get(
            &proxy.url(APP1, with_cookie),
            &[FORGED_IDENTITY.as_slice(), &[("Cookie", cookie.as_str())]].concat(),
        )
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let received = world.app1.received(with_cookie);
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0].values("Remote-User"), [username]);
    assert_eq!(received[0].values("Remote-User-Id"), [id.to_string()]);
    assert_eq!(received[0].values("Remote-Token"), Vec::<&str>::new());

    // Nor does a URL of the client's choosing replace the one it asked for.
    let signed_out = "/forged?signed-out";
    let reply = proxy
        .get(
            &proxy.url(APP1, signed_out),
            &[FORGED_IDENTITY.as_slice(), &FORGED_TARGET].concat(),
        )
        .await;
    let location = reply.header("Location").map(Url::parse);
    assert!(
        reply.status == 302
            && location.is_some_and(|url| url.is_ok_and(|url| sign_in_for(
                &url,
                proxy.port,
                &proxy.url(APP1, signed_out)
            ))),
        "{reply:?}"
    );
    assert_eq!(world.app1.received(signed_out).len(), 0);

    // The sign-in page returns only to allowed hosts.
    let check = |rd: &str| {
        proxy.url(
            AUTH,
            &format!("/api/v1/forward-auth/redirect?rd={}", encoded(rd)),
        )
    };
    let reply = proxy.get(&check(&private), &[]).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(
        serde_json::from_str::<Value>(&reply.body).ok(),
        Some(json!({ "url": private }))
    );
    for foreign in [
        "https://evil.example/",
        &format!("https://{APP1}.evil.example/"),
        &format!("https://{APP1}@evil.example/"),
        &format!("//{APP1}/"),
        "javascript:alert(1)",
        &proxy.url(ELSEWHERE, "/"),
    ] {
        let reply = proxy.get(&check(foreign), &[]).await;
        assert_eq!(
            (reply.status, reply.code().as_deref()),
            (400, Some("redirect_not_allowed")),
            "rd={foreign}: {reply:?}"
        );
    }

    // Forward auth for a host outside the allowed domains refuses, signed in or not, and
    // never redirects: Tessera is asked directly, as by a proxy.
    let forward_auth = app.url("/api/v1/forward-auth");
    let target = proxy.url(ELSEWHERE, "/");
    let forwarded_host = format!("{ELSEWHERE}:{}", proxy.port);
    for cookie in [None, Some(("Cookie", cookie.as_str()))] {
        for asked in [
            vec![("X-Original-URL", target.as_str())],
            vec![
                ("X-Forwarded-Proto", "https"),
                ("X-Forwarded-Host", forwarded_host.as_str()),
                ("X-Forwarded-Uri", "/"),
            ],
        ] {
            let headers = [asked, cookie.into_iter().collect()].concat();
            let reply = proxy.get(&forward_auth, &headers).await;
            assert_eq!(
                (
                    reply.status,
                    reply.code().as_deref(),
                    reply.header("Location")
                ),
                (403, Some("redirect_not_allowed"), None),
                "{headers:?}: {reply:?}"
            );
        }
    }

    // Signing out through the proxy ends the session for every app.
    world
        .goto(&proxy.url(AUTH, &format!("/logout?rd={}", encoded(&private))))
        .await;
    world.wait_for_sign_in_for(&private).await;
    world.goto(&other).await;
    world.wait_for_sign_in_for(&other).await;
    // The session cookie copied before no longer opens an app.
    let after = "/after-sign-out";
    for (host, upstream) in [(APP1, &world.app1), (APP2, &world.app2)] {
        let reply = proxy
            .get(&proxy.url(host, after), &[("Cookie", &cookie)])
            .await;
        assert_eq!(reply.status, 302, "{host}: {reply:?}");
        assert_eq!(upstream.received(after).len(), 0, "{host}");
    }

    let World { app, .. } = world;
    app.close().await;
}

#[tokio::test]
async fn nginx_as_documented_signs_in_once_for_every_app_and_lets_no_forged_header_through() {
    forward_auth_as_documented(Server::nginx(), "nina").await;
}

#[tokio::test]
async fn caddy_as_documented_signs_in_once_for_every_app_and_lets_no_forged_header_through() {
    forward_auth_as_documented(Server::caddy(), "cady").await;
}
