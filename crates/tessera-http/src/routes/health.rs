//! Liveness and readiness, for load balancers and orchestrators.

use actix_web::{HttpResponse, web};
use tessera_api::Health;

use crate::blocking::blocking;
use crate::error::ApiError;
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

/// Prometheus metrics in the text exposition format.
async fn metrics(metrics: web::Data<crate::Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(metrics.render())
}
