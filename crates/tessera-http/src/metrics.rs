//! Prometheus metrics, served at `/metrics` in the classic text format or OpenMetrics, as
//! the scraper's `Accept` asks ([`Exposition::negotiate`]).
//!
//! Every label takes its value from a fixed set: a method outside the standard ones counts
//! as `other` and a request no route matched as `unmatched`, so no client can add series
//! (one label value per method as sent once let a client grow `/metrics` without bound).

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

    /// Counts one finished request. `route` is the matched pattern (`None` when no route
    /// matched), so ids in paths do not multiply the series; `method` counts as `other`
    /// unless it is a standard one.
    pub fn record_request(&self, method: &str, route: Option<&str>, status: u16, seconds: f64) {
        let inner = &self.inner;
        let route = route.unwrap_or(UNMATCHED).to_owned();
        inner
            .requests
            .get_or_create(&RequestLabels {
                method: method_label(method).to_owned(),
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

    /// Every metric in `format`.
    pub fn render(&self, format: Exposition) -> String {
        let inner = &self.inner;
        if let Some(probe) = &inner.pool_probe {
            let usage = probe();
            inner.pool_connections.set(i64::from(usage.connections));
            inner.pool_idle.set(i64::from(usage.idle));
        }
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &inner.registry);
        match format {
            Exposition::OpenMetrics => text,
            Exposition::Classic => classic(&text),
        }
    }
}

/// The route label of a request no route matched.
const UNMATCHED: &str = "unmatched";

/// The method label: a standard method as itself, anything else as `other`.
pub(crate) fn method_label(method: &str) -> &'static str {
    const STANDARD: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    ];
    STANDARD
        .into_iter()
        .find(|known| *known == method)
        .unwrap_or("other")
}

/// The two text formats `/metrics` serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposition {
    /// Prometheus' classic text format, version 0.0.4: what `promtool check metrics`, older
    /// scrapers and people with `curl` read.
    Classic,
    /// OpenMetrics 1.0, which Prometheus asks for first.
    OpenMetrics,
}

impl Exposition {
    /// The format an `Accept` header asks for: OpenMetrics when it names
    /// `application/openmetrics-text` at least as highly as `text/plain`, else classic text
    /// (also without an `Accept`, or for `*/*`).
    pub fn negotiate(accept: Option<&str>) -> Exposition {
        let (mut open_metrics, mut text) = (0.0_f32, 0.0_f32);
        for item in accept.unwrap_or_default().split(',') {
            let mut parts = item.split(';');
            let media_type = parts.next().unwrap_or_default().trim();
            let quality = parts
                .filter_map(|parameter| parameter.split_once('='))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("q"))
                .map_or(Some(1.0), |(_, q)| q.trim().parse::<f32>().ok())
                .unwrap_or(0.0);
            if media_type.eq_ignore_ascii_case("application/openmetrics-text") {
                open_metrics = open_metrics.max(quality);
            } else if media_type.eq_ignore_ascii_case("text/plain") {
                text = text.max(quality);
            }
        }
        if open_metrics > 0.0 && open_metrics >= text {
            Exposition::OpenMetrics
        } else {
            Exposition::Classic
        }
    }

    /// The `Content-Type` of a response in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Exposition::Classic => "text/plain; version=0.0.4; charset=utf-8",
            Exposition::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// OpenMetrics text as the classic format reads it. The two differ, for what is registered
/// here, in three ways: a counter's `HELP` and `TYPE` name the sample (`x_total`), not the
/// family (`x`); there is no `UNIT` and no `# EOF`; and `unknown` is `untyped`.
fn classic(open_metrics: &str) -> String {
    let counters: Vec<&str> = open_metrics
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.strip_suffix(" counter"))
        .collect();
    let mut text = String::with_capacity(open_metrics.len());
    for line in open_metrics.lines() {
        let rewritten = if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            format!("# HELP {} {help}", classic_name(name, &counters))
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, ""));
            let kind = if kind == "unknown" { "untyped" } else { kind };
            format!("# TYPE {} {kind}", classic_name(name, &counters))
        } else if line.starts_with("# UNIT ") || line == "# EOF" || is_created(line, &counters) {
            continue;
        } else {
            line.to_owned()
        };
        text.push_str(&rewritten);
        text.push('\n');
    }
    text
}

fn classic_name(family: &str, counters: &[&str]) -> String {
    if counters.contains(&family) {
        format!("{family}_total")
    } else {
        family.to_owned()
    }
}

/// A counter's `_created` sample, which the classic format does not have.
fn is_created(line: &str, counters: &[&str]) -> bool {
    counters.iter().any(|counter| {
        line.strip_prefix(counter)
            .and_then(|rest| rest.strip_prefix("_created"))
            .is_some_and(|rest| rest.starts_with(['{', ' ']))
    })
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
        metrics.record_request("GET", Some("/api/v1/users/{id}"), 200, 0.002);
        metrics.sign_in(SignIn::Failed);
        metrics.token(TokenEvent::Issued);
        let text = metrics.render(Exposition::OpenMetrics);
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

    #[test]
    fn methods_and_routes_a_client_chooses_do_not_become_labels() {
        let metrics = Metrics::default();
        for i in 0..100 {
            metrics.record_request(&format!("M{i}"), None, 405, 0.001);
        }
        metrics.record_request("get", None, 404, 0.001);
        metrics.record_request("PATCH", Some("/api/v1/me"), 200, 0.001);
        let text = metrics.render(Exposition::Classic);
        assert!(
            text.contains(
                r#"tessera_http_requests_total{method="other",route="unmatched",status="405"} 100"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"method="other",route="unmatched",status="404"} 1"#),
            "{text}"
        );
        assert!(text.contains(r#"method="PATCH""#), "{text}");
        assert!(!text.contains("M1"), "{text}");
    }

    #[test]
    fn accept_picks_the_format() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        for (accept, expected) in [
            (None, Exposition::Classic),
            (Some("*/*"), Exposition::Classic),
            (Some("text/plain"), Exposition::Classic),
            (
                Some("text/plain;version=0.0.4;q=1, application/openmetrics-text;q=0.5"),
                Exposition::Classic,
            ),
            (
                Some("application/openmetrics-text;q=0"),
                Exposition::Classic,
            ),
            (
                Some("application/openmetrics-text; version=1.0.0"),
                Exposition::OpenMetrics,
            ),
            (
                Some("APPLICATION/OPENMETRICS-TEXT"),
                Exposition::OpenMetrics,
            ),
            (Some(prometheus), Exposition::OpenMetrics),
            (
                Some("text/plain;q=nonsense, application/openmetrics-text;q=0.1"),
                Exposition::OpenMetrics,
            ),
        ] {
            assert_eq!(Exposition::negotiate(accept), expected, "{accept:?}");
        }
    }

    #[test]
    fn the_classic_format_names_counter_samples_in_help_and_type() {
        let metrics = Metrics::default();
        metrics.sign_in(SignIn::Succeeded);
        let text = metrics.render(Exposition::Classic);
        assert!(text.contains("# HELP tessera_sign_ins_total "), "{text}");
        assert!(
            text.contains("# TYPE tessera_sign_ins_total counter\n"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE tessera_hashing_running gauge\n"),
            "{text}"
        );
        assert!(!text.contains("# EOF"), "{text}");
        let open_metrics = metrics.render(Exposition::OpenMetrics);
        assert!(
            open_metrics.contains("# TYPE tessera_sign_ins counter\n"),
            "{open_metrics}"
        );
        assert!(open_metrics.ends_with("# EOF\n"), "{open_metrics}");
    }

    #[test]
    fn created_samples_and_units_are_dropped_from_the_classic_format() {
        let open_metrics = "# HELP a_seconds A.\n# TYPE a_seconds counter\n# UNIT a_seconds seconds\na_seconds_total 1\na_seconds_created 17\n# HELP b B.\n# TYPE b unknown\nb 2\n# EOF\n";
        assert_eq!(
            classic(open_metrics),
            "# HELP a_seconds_total A.\n# TYPE a_seconds_total counter\na_seconds_total 1\n# HELP b B.\n# TYPE b untyped\nb 2\n"
        );
    }
}
