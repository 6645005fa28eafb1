//! Liveness and readiness, for load balancers and orchestrators.

use actix_web::{HttpResponse, web};
use tessera_api::Health;

use crate::error::ApiError;
use crate::routes::{blocking, resource};
use crate::state::AppState;

pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        .service(resource("/healthz", "GET").route(web::get().to(healthz)))
        .service(resource("/readyz", "GET").route(web::get().to(readyz)));
}

/// The process is up and serving.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok".to_owned(),
    })
}

/// The database answers; 503 otherwise, so a load balancer stops sending traffic here.
async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let accounts = state.accounts.clone();
    blocking(move || accounts.users().ping().map_err(tessera_domain::Error::from)).await?;
    Ok(HttpResponse::Ok().json(Health {
        status: "ok".to_owned(),
    }))
}
