//! One log line per request. Only method, path, status and duration are logged: query
//! strings, headers and bodies may carry tokens or passwords and never reach the log.

use std::time::Instant;

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

pub(crate) async fn log_request(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.path().to_owned();
    let response = next.call(request).await;
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    match &response {
        Ok(response) => tracing::info!(
            target: "tessera::request",
            %method, %path, status = response.status().as_u16(), elapsed_ms,
            "request"
        ),
        Err(error) => tracing::info!(
            target: "tessera::request",
            %method, %path, status = error.as_response_error().status_code().as_u16(), elapsed_ms,
            "request"
        ),
    }
    response
}
