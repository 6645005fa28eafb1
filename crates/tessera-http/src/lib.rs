//! Tessera's HTTP layer (actix-web): the tutorial-compatible routes, the versioned API,
//! authentication extractors, CORS, security headers, request logging, and the mapping of
//! every error to an RFC 9457 problem body.
//!
//! It talks to storage only through the domain's traits; the binary wires a store in.

mod auth;
mod authorization;
mod blocking;
mod browser_session;
mod client_address;
mod edge;
mod error;
mod logging;
mod metrics;
mod openapi;
mod problems;
mod routes;
mod spa;
mod state;

use std::net::TcpListener;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpRequest, HttpServer, web};

pub use browser_session::CookieSettings;
pub use client_address::{InvalidProxy, TrustedProxies};
pub use edge::MAX_HEAD_BYTES;
pub use error::{ApiError, Challenge};
pub use metrics::{Exposition, Metrics, PoolUsage, SignIn, TokenEvent};
pub use state::{AppState, HashingPool};

/// Which other origins may call the API from a browser.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CorsPolicy {
    /// Same origin only: no CORS headers.
    #[default]
    SameOrigin,
    /// Any origin (`*`), never with credentials: tokens travel in `Authorization`, and the
    /// session cookies stay with Tessera's own pages and the listed origins.
    AnyOrigin,
    /// These exact origins, e.g. `http://localhost:8081`, with credentials: their pages may
    /// use a browser session's cookies.
    Origins(Vec<String>),
}

/// How the HTTP layer behaves, from configuration.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Cross-origin access.
    pub cors: CorsPolicy,
    /// Largest accepted JSON body, in bytes.
    pub max_body_bytes: usize,
    /// Worker threads; 0 means one per core.
    pub workers: usize,
    /// The built web app (`index.html` and its assets), when it is served.
    pub web_dir: Option<std::path::PathBuf>,
    /// Where request, sign-in and token counts go; served at `/metrics`.
    pub metrics: Metrics,
    /// How often revocations made by other processes are fetched: the bound on how long
    /// an ended session's tokens keep working elsewhere.
    pub revocation_sync: std::time::Duration,
    /// The whole request body must arrive within this time after the head, or the
    /// request is answered 408 and the connection closed.
    pub body_timeout: std::time::Duration,
    /// Most open connections from one client address (an IPv4 address or an IPv6 /64);
    /// more are closed at once. Trusted proxies are exempt. 0 turns the cap off.
    pub max_connections_per_address: usize,
    /// The proxies exempt from the connection cap (the same list the client address uses).
    pub trusted_proxies: TrustedProxies,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            cors: CorsPolicy::SameOrigin,
            max_body_bytes: 16 * 1024,
            workers: 0,
            web_dir: None,
            metrics: Metrics::default(),
            revocation_sync: std::time::Duration::from_secs(2),
            body_timeout: std::time::Duration::from_secs(30),
            // A browser opens about six per host; a few tabs and a NAT stay far below.
            max_connections_per_address: 64,
            trusted_proxies: TrustedProxies::default(),
        }
    }
}

/// Starts serving on an already bound listener (tests bind port 0 and read the port back).
/// The returned server runs until it is awaited to completion and stops cleanly on SIGINT
/// and SIGTERM.
pub fn serve(
    listener: TcpListener,
    state: AppState,
    settings: HttpSettings,
) -> std::io::Result<Server> {
    spawn_maintenance(state.clone(), settings.revocation_sync);
    let state = web::Data::new(state);
    let web_root = web::Data::new(spa::WebRoot(settings.web_dir.clone()));
    let metrics = web::Data::new(settings.metrics.clone());
    let workers = settings.workers;
    let limits = edge::RequestLimits {
        body_timeout: settings.body_timeout,
    };
    let cap = edge::ConnectionCap::new(
        settings.max_connections_per_address,
        settings.trusted_proxies.clone(),
    );
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web_root.clone())
            .app_data(metrics.clone())
            .app_data(json_config(settings.max_body_bytes))
            .app_data(limits)
            .wrap(cors(&settings.cors))
            .wrap(from_fn(edge::cors_problems))
            .wrap(from_fn(edge::request_limits))
            // Outside the edge checks, so their answers carry the headers too.
            .wrap(security_headers())
            .wrap(from_fn(logging::observe))
            .configure(routes::health::configure)
            .configure(routes::well_known::configure)
            .configure(routes::oauth::configure)
            // Before the `/api/v1` scope, which would answer its path with a 404.
            .configure(openapi::configure)
            .configure(routes::v1::configure)
            .configure(routes::tutorial::configure)
            .default_service(web::to(spa::fallback))
    })
    .on_connect(move |connection, data| cap.on_connect(connection, data))
    .listen(listener)?
    // Slow clients: headers must arrive within 10 s, bodies within `body_timeout`
    // (`edge::request_limits`), and idle keep-alive connections close after 30 s, so a
    // trickle of bytes cannot hold connections.
    .client_request_timeout(std::time::Duration::from_secs(10))
    .client_disconnect_timeout(std::time::Duration::from_secs(2))
    .keep_alive(std::time::Duration::from_secs(30))
    .shutdown_timeout(10);
    if workers > 0 {
        server = server.workers(workers);
    }
    Ok(server.run())
}

/// Every `interval` (the first run at once): keeps this process's list of revoked
/// sessions current with the database, and clears long-expired sessions and old rate-limit
/// counts.
fn spawn_maintenance(state: AppState, interval: std::time::Duration) {
    actix_web::rt::spawn(async move {
        let mut ticks = actix_web::rt::time::interval(interval);
        loop {
            ticks.tick().await;
            let auth = state.auth.clone();
            if let Err(error) = blocking::blocking(move || auth.maintain(chrono::Utc::now())).await
            {
                tracing::warn!(%error, "maintenance failed; retrying");
            }
        }
    });
}

/// Headers every response carries.
fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
}

/// CORS as configured. Preflights are answered without credentials; the headers go on
/// every response, errors included, so a browser client sees its 401 and can react.
fn cors(policy: &CorsPolicy) -> Cors {
    let base = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "DELETE"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .expose_headers([
            header::WWW_AUTHENTICATE,
            header::LOCATION,
            header::RETRY_AFTER,
        ])
        .max_age(3600);
    match policy {
        CorsPolicy::SameOrigin => Cors::default(),
        CorsPolicy::AnyOrigin => base.allow_any_origin().send_wildcard(),
        CorsPolicy::Origins(origins) => origins
            .iter()
            .fold(base, |cors, origin| cors.allowed_origin(origin))
            .supports_credentials(),
    }
}

/// JSON bodies: size limit, and problem bodies for every way a body can be wrong.
fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(move |error, _: &HttpRequest| ApiError::from_json_error(error, limit).into())
}
