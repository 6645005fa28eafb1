//! What every request passes through on its way in and out: a request id (echoed as
//! `X-Request-Id` and attached to every log line of the request), one log line, and the
//! request metrics. Only method, route, status and duration are logged: query strings,
//! headers and bodies may carry tokens or passwords and never reach the log.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use tracing::Instrument;

use crate::metrics::Metrics;

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

pub(crate) async fn observe(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let id = request_id(&request);
    let method = request.method().clone();
    let path = request.path().to_owned();
    let metrics = request.app_data::<web::Data<Metrics>>().cloned();
    let span = tracing::info_span!("request", request_id = %id);
    let result = next.call(request).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let (status, route) = match &result {
        Ok(response) => (
            response.status().as_u16(),
            response
                .request()
                .match_pattern()
                .unwrap_or_else(|| "unmatched".to_owned()),
        ),
        Err(error) => (
            error.as_response_error().status_code().as_u16(),
            "unmatched".to_owned(),
        ),
    };
    let elapsed_ms = elapsed.as_secs_f64() * 1000.0;
    span.in_scope(|| {
        tracing::info!(target: "tessera::request", %method, %path, status, elapsed_ms, "request");
    });
    if let Some(metrics) = metrics {
        metrics.record_request(method.as_str(), &route, status, elapsed.as_secs_f64());
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
}
