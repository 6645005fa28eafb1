//! Prometheus metrics, served at `/metrics` in the text exposition format.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    event: String,
}

/// How a sign-in ended.
#[derive(Debug, Clone, Copy)]
pub enum SignIn {
    /// Good credentials; a token was issued.
    Succeeded,
    /// Wrong username or password.
    Failed,
    /// Refused by the rate limit before checking.
    Throttled,
}

/// What happened to a token.
#[derive(Debug, Clone, Copy)]
pub enum TokenEvent {
    /// A new access token was signed.
    Issued,
    /// A refresh token was exchanged.
    Refreshed,
    /// A session was ended.
    Revoked,
}

/// Connections of the database pool, as the store reports them.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolUsage {
    /// Open connections.
    pub connections: u32,
    /// Open connections not in use.
    pub idle: u32,
}

type PoolProbe = Box<dyn Fn() -> PoolUsage + Send + Sync>;

struct Inner {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    sign_ins: Family<OutcomeLabels, Counter>,
    tokens: Family<EventLabels, Counter>,
    hashing_waiting: Gauge,
    hashing_running: Gauge,
    pool_connections: Gauge,
    pool_idle: Gauge,
    pool_probe: Option<PoolProbe>,
}

/// The service's metrics; cheap to clone, all clones update the same values.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new(None)
    }
}

impl Metrics {
    /// Fresh metrics; `pool_probe` reports the database pool's usage at each scrape.
    pub fn new(pool_probe: Option<PoolProbe>) -> Metrics {
        let mut registry = Registry::with_prefix("tessera");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route, method and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(
            // 0.1 ms to ~3.3 s.
            (|| Histogram::new(exponential_buckets(0.0001, 2.0, 16))) as fn() -> Histogram,
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        let sign_ins = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "sign_ins",
            "Sign-ins by outcome (succeeded, failed, throttled)",
            sign_ins.clone(),
        );
        let tokens = Family::<EventLabels, Counter>::default();
        registry.register(
            "tokens",
            "Tokens by event (issued, refreshed, revoked)",
            tokens.clone(),
        );
        let mut gauge = |name: &str, help: &str| {
            let gauge = Gauge::default();
            registry.register(name, help, gauge.clone());
            gauge
        };
        let hashing_waiting = gauge(
            "hashing_queue_depth",
            "Password hashes waiting for the hashing pool",
        );
        let hashing_running = gauge("hashing_running", "Password hashes being computed");
        let pool_connections = gauge("db_pool_connections", "Open database connections");
        let pool_idle = gauge(
            "db_pool_idle_connections",
            "Open database connections not in use",
        );
        Metrics {
            inner: Arc::new(Inner {
                registry,
                requests,
                latency,
                sign_ins,
                tokens,
                hashing_waiting,
                hashing_running,
                pool_connections,
                pool_idle,
                pool_probe,
            }),
        }
    }

    /// Counts one finished request. `route` is the matched pattern, so ids in paths do not
    /// multiply the series.
    pub fn record_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let inner = &self.inner;
        let route = route.to_owned();
        inner
            .requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.clone(),
                status,
            })
            .inc();
        inner
            .latency
            .get_or_create(&RouteLabels { route })
            .observe(seconds);
    }

    /// Counts a sign-in by how it ended; other failures (bad input, a down database) are
    /// not sign-in outcomes.
    pub(crate) fn sign_in_outcome<T>(&self, result: &Result<T, crate::ApiError>) {
        let outcome = match result {
            Ok(_) => SignIn::Succeeded,
            Err(e) if e.code() == tessera_api::codes::INVALID_CREDENTIALS => SignIn::Failed,
            Err(e) if e.code() == tessera_api::codes::TOO_MANY_ATTEMPTS => SignIn::Throttled,
            Err(_) => return,
        };
        self.sign_in(outcome);
    }

    /// Counts one sign-in outcome.
    pub fn sign_in(&self, outcome: SignIn) {
        let outcome = match outcome {
            SignIn::Succeeded => "succeeded",
            SignIn::Failed => "failed",
            SignIn::Throttled => "throttled",
        };
        self.inner
            .sign_ins
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Counts a token event.
    pub fn token(&self, event: TokenEvent) {
        let event = match event {
            TokenEvent::Issued => "issued",
            TokenEvent::Refreshed => "refreshed",
            TokenEvent::Revoked => "revoked",
        };
        self.inner
            .tokens
            .get_or_create(&EventLabels {
                event: event.to_owned(),
            })
            .inc();
    }

    /// The gauges of the hashing pool: waiting for a permit, and holding one.
    pub fn hashing_gauges(&self) -> (Gauge, Gauge) {
        (
            self.inner.hashing_waiting.clone(),
            self.inner.hashing_running.clone(),
        )
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let inner = &self.inner;
        if let Some(probe) = &inner.pool_probe {
            let usage = probe();
            inner.pool_connections.set(i64::from(usage.connections));
            inner.pool_idle.set(i64::from(usage.idle));
        }
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &inner.registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_values_appear_in_the_exposition() {
        let metrics = Metrics::new(Some(Box::new(|| PoolUsage {
            connections: 3,
            idle: 2,
        })));
        metrics.record_request("GET", "/api/v1/users/{id}", 200, 0.002);
        metrics.sign_in(SignIn::Failed);
        metrics.token(TokenEvent::Issued);
        let text = metrics.render();
        assert!(text.contains(r#"tessera_http_requests_total{method="GET",route="/api/v1/users/{id}",status="200"} 1"#), "{text}");
        assert!(
            text.contains(r#"tessera_sign_ins_total{outcome="failed"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"tessera_tokens_total{event="issued"} 1"#),
            "{text}"
        );
        assert!(text.contains("tessera_db_pool_connections 3"), "{text}");
        assert!(
            text.contains("tessera_http_request_duration_seconds_bucket"),
            "{text}"
        );
    }
}
