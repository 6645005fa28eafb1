//! Liveness and readiness, for load balancers and orchestrators.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use tessera_api::Health;

use crate::blocking::blocking;
use crate::error::ApiError;
use crate::metrics::Exposition;
use crate::routes::resource;
use crate::state::AppState;

pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        .service(resource("/healthz", "GET").route(web::get().to(healthz)))
        .service(resource("/readyz", "GET").route(web::get().to(readyz)))
        .service(resource("/metrics", "GET").route(web::get().to(metrics)));
}

#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    description = "The process is up.",
    responses((status = 200, description = "Serving", body = tessera_api::Health))
)]
/// The process is up and serving.
pub(crate) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok".to_owned(),
    })
}

#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    description = "The database answers; 503 otherwise.",
    responses(
        (status = 200, description = "Ready", body = tessera_api::Health),
        (status = 503, description = "The database cannot be reached", body = tessera_api::Problem, content_type = "application/problem+json")
    )
)]
/// The database answers; 503 otherwise, so a load balancer stops sending traffic here.
pub(crate) async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let auth = state.auth.clone();
    blocking(move || auth.ping()).await?;
    Ok(HttpResponse::Ok().json(Health {
        status: "ok".to_owned(),
    }))
}

/// Prometheus metrics: OpenMetrics when `Accept` prefers it, else the classic text format.
async fn metrics(request: HttpRequest, metrics: web::Data<crate::Metrics>) -> HttpResponse {
    let accept = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok());
    let format = Exposition::negotiate(accept);
    HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header((header::VARY, "Accept"))
        .body(metrics.render(format))
}
