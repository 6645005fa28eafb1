//! What every request passes through on its way in and out: a request id (echoed as
//! `X-Request-Id` and attached to every log line of the request), one log line, and the
//! request metrics. Only method, path, status, duration, the client's address and the
//! authenticated user's id are logged: query strings, headers (`Authorization` above all)
//! and bodies may carry tokens or passwords and never reach the log.
//!
//! The line is at `info`, or `error` for a 5xx: a client's mistakes (4xx) are its own and
//! must not page anyone, nor let a client fill the log with errors.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpRequest, web};
use tessera_domain::UserId;
use tracing::{Instrument, Level};

use crate::metrics::{Metrics, method_label};
use crate::state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The caller's request id when it is a sane token (a proxy's id keeps logs joinable),
/// else a fresh random one.
fn request_id(request: &ServiceRequest) -> String {
    let sane = |id: &&str| {
        !id.is_empty()
            && id.len() <= 64
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
    };
    match request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(sane)
    {
        Some(id) => id.to_owned(),
        None => fresh_request_id(),
    }
}

/// A process-wide random prefix and a counter: unique within the process, and across
/// processes but for a 1 in 2³² chance, without a system call per request (the ids
/// correlate log lines; nobody needs to be unable to guess them).
fn fresh_request_id() -> String {
    static PREFIX: OnceLock<String> = OnceLock::new();
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    // Not a secret: without OS randomness the ids are still unique within the process.
    let prefix = PREFIX.get_or_init(|| tessera_domain::random_token::<4>().unwrap_or_default());
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}{count:08x}")
}

/// The user a request authenticated as, kept in its extensions for the request's log line.
#[derive(Debug, Clone, Copy)]
struct RequestUser(UserId);

/// Notes that `request` authenticated as `user`, for its log line.
pub(crate) fn record_user(request: &HttpRequest, user: UserId) {
    request.extensions_mut().insert(RequestUser(user));
}

/// The level of a request's log line: only the server's failures are errors.
fn level_for(status: u16) -> Level {
    if status >= 500 {
        Level::ERROR
    } else {
        Level::INFO
    }
}

/// Milliseconds to the microsecond, so the log shows `0.214`, not `0.21400000000000002`.
fn rounded_ms(elapsed: std::time::Duration) -> f64 {
    (elapsed.as_secs_f64() * 1e6).round() / 1e3
}

pub(crate) async fn observe(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let id = request_id(&request);
    let method = method_label(request.method().as_str());
    let path = request.path().to_owned();
    let client = request
        .app_data::<web::Data<AppState>>()
        .map(|state| state.client_address(request.request()));
    let metrics = request.app_data::<web::Data<Metrics>>().cloned();
    let span = tracing::info_span!("request", request_id = %id);
    let result = next.call(request).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let (status, route, user) = match &result {
        Ok(response) => {
            let request = response.request();
            let user = request
                .extensions()
                .get::<RequestUser>()
                .map(|user| user.0.0);
            (response.status().as_u16(), request.match_pattern(), user)
        }
        Err(error) => (error.as_response_error().status_code().as_u16(), None, None),
    };
    let elapsed_ms = rounded_ms(elapsed);
    span.in_scope(|| {
        macro_rules! log {
            ($level:expr) => {
                tracing::event!(
                    target: "tessera::request",
                    $level,
                    method,
                    %path,
                    status,
                    elapsed_ms,
                    client = client.as_deref(),
                    user,
                    "request"
                )
            };
        }
        // A level is part of an event's static metadata: one call per level.
        match level_for(status) {
            Level::ERROR => log!(Level::ERROR),
            _ => log!(Level::INFO),
        }
    });
    if let Some(metrics) = metrics {
        metrics.record_request(method, route.as_deref(), status, elapsed.as_secs_f64());
    }
    result.map(|mut response| {
        if let Ok(value) = HeaderValue::from_str(&id) {
            response.headers_mut().insert(REQUEST_ID, value);
        }
        response
    })
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn a_sane_caller_id_is_kept_and_anything_else_replaced() {
        let with = |id: &str| TestRequest::default().insert_header((REQUEST_ID, id));
        let kept = request_id(&with("proxy-42.a:b_c").to_srv_request());
        assert_eq!(kept, "proxy-42.a:b_c");
        for insane in ["", "a b", "<script>", &"x".repeat(65)] {
            let replaced = request_id(&with(insane).to_srv_request());
            assert_ne!(replaced, insane);
            assert_eq!(replaced.len(), 14, "{replaced}");
        }
    }

    #[test]
    fn fresh_ids_are_a_random_prefix_and_a_counter_and_never_repeat() {
        let ids: Vec<String> = (0..1000).map(|_| fresh_request_id()).collect();
        let (prefix, _) = ids[0].split_at(6);
        assert!(
            ids.iter().all(|id| id.len() == 14
                && id.starts_with(prefix)
                && id[6..].bytes().all(|b| b.is_ascii_hexdigit())),
            "{ids:?}"
        );
        let distinct: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
    }

    #[test]
    fn only_server_failures_are_errors() {
        for status in [200, 204, 301, 400, 401, 404, 405, 413, 429, 499] {
            assert_eq!(level_for(status), Level::INFO, "{status}");
        }
        for status in [500, 502, 503, 599] {
            assert_eq!(level_for(status), Level::ERROR, "{status}");
        }
    }

    #[test]
    fn durations_are_logged_to_the_microsecond() {
        use std::time::Duration;
        assert_eq!(
            rounded_ms(Duration::from_nanos(168_530)).to_string(),
            "0.169"
        );
        assert_eq!(
            rounded_ms(Duration::from_nanos(214_000)).to_string(),
            "0.214"
        );
        assert_eq!(rounded_ms(Duration::from_millis(1500)).to_string(), "1500");
    }
}
