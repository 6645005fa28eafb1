use std::sync::Arc;

use actix_web::HttpRequest;
use prometheus_client::metrics::gauge::Gauge;
use tessera_api::{Credentials, WebSettings};
use tessera_domain::{Auth, Client, Error, User};
use tokio::sync::Semaphore;

use crate::blocking::blocking;
use crate::browser_session::CookieSettings;
use crate::client_address::TrustedProxies;
use crate::error::ApiError;
use crate::metrics::Metrics;

/// Everything the handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The use cases.
    pub auth: Auth,
    /// Where password hashing runs.
    pub hashing: HashingPool,
    /// The proxies whose `X-Forwarded-For` is believed; empty trusts no header.
    pub trusted_proxies: TrustedProxies,
    /// Browser sessions' cookies and who may use them.
    pub cookies: CookieSettings,
    /// What the operator configured for the web app's pages, as `GET /api/v1/web-settings`
    /// answers it.
    pub web_settings: WebSettings,
}

impl AppState {
    /// The client's address as the limits count it: the peer, or (when the peer is a
    /// trusted proxy) the rightmost `X-Forwarded-For` entry that is not a trusted proxy
    /// (`client_address`).
    pub(crate) fn client_address(&self, request: &HttpRequest) -> String {
        let Some(peer) = request.peer_addr() else {
            return "unknown".to_owned();
        };
        let forwarded_for = request
            .headers()
            .get_all(actix_web::http::header::X_FORWARDED_FOR)
            .map(|value| value.as_bytes());
        self.trusted_proxies
            .client_address(peer.ip(), forwarded_for)
            .to_string()
    }

    /// The client as every use case is given it: the address of [`AppState::client_address`]
    /// and the `User-Agent` (the first one, if it is UTF-8; the domain cleans and bounds
    /// it). Every handler that passes a [`Client`] takes it from here.
    pub(crate) fn request_client(&self, request: &HttpRequest) -> RequestClient {
        let user_agent = request
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|value| std::str::from_utf8(value.as_bytes()).ok())
            .map(str::to_owned);
        RequestClient {
            address: self.client_address(request),
            user_agent,
        }
    }

    /// Runs a use case that hashes, with the client ([`AppState::request_client`]), on the
    /// hashing pool.
    pub(crate) async fn hashing_use_case<T, F>(
        &self,
        request: &HttpRequest,
        use_case: F,
    ) -> Result<T, ApiError>
    where
        F: FnOnce(&Auth, Client<'_>) -> Result<T, Error> + Send + 'static,
        T: Send + 'static,
    {
        let (auth, client) = (self.auth.clone(), self.request_client(request));
        self.hashing
            .run(move || use_case(&auth, client.as_client()))
            .await
    }

    /// Registers an account: the one call behind the tutorial's and the versioned route.
    pub(crate) async fn register(
        &self,
        request: &HttpRequest,
        credentials: Credentials,
    ) -> Result<User, ApiError> {
        let Credentials { username, password } = credentials;
        self.hashing_use_case(request, move |auth, client| {
            auth.register(&username, &password, client)
        })
        .await
    }
}

/// A request's client, owned, so that a use case can take it to another thread.
#[derive(Debug, Clone)]
pub(crate) struct RequestClient {
    address: String,
    user_agent: Option<String>,
}

impl RequestClient {
    /// The client as the use cases take it.
    pub(crate) fn as_client(&self) -> Client<'_> {
        Client {
            address: &self.address,
            user_agent: self.user_agent.as_deref(),
        }
    }
}

/// A bounded pool for password hashing: at most `permits` use cases that hash run at once,
/// on blocking threads, so a flood of sign-ins queues here instead of starving the async
/// workers that serve token-authenticated requests.
#[derive(Debug, Clone)]
pub struct HashingPool {
    permits: Arc<Semaphore>,
    waiting: Gauge,
    running: Gauge,
}

impl HashingPool {
    /// A pool running at most `concurrency` hashes at once (about the number of cores).
    pub fn new(concurrency: usize) -> HashingPool {
        HashingPool {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            waiting: Gauge::default(),
            running: Gauge::default(),
        }
    }

    /// Reports the queue depth and the hashes in progress to `metrics`.
    pub fn observed_by(mut self, metrics: &Metrics) -> HashingPool {
        (self.waiting, self.running) = metrics.hashing_gauges();
        self
    }

    /// Runs `work` (a use case that hashes or verifies a password) with `blocking` once a
    /// permit is free.
    pub async fn run<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce() -> Result<T, tessera_domain::Error> + Send + 'static,
        T: Send + 'static,
    {
        let permit = {
            let _waiting = GaugeGuard::enter(&self.waiting);
            self.permits.acquire().await
        };
        let _permit = permit.map_err(|_| ApiError::internal("hashing pool closed"))?;
        let _running = GaugeGuard::enter(&self.running);
        blocking(work).await
    }
}

/// Holds a gauge one higher while alive, also when the request is cancelled.
struct GaugeGuard<'a>(&'a Gauge);

impl<'a> GaugeGuard<'a> {
    fn enter(gauge: &'a Gauge) -> GaugeGuard<'a> {
        gauge.inc();
        GaugeGuard(gauge)
    }
}

impl Drop for GaugeGuard<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}
