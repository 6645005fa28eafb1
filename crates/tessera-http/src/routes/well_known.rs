//! What services behind Tessera fetch to trust its tokens: the public signing keys (JWKS,
//! RFC 7517) and the authorization server metadata (RFC 8414). Both are answered from
//! memory: the key set in use, kept current by the maintenance task.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde_json::json;
use tessera_token::Algorithm;

use crate::error::ApiError;
use crate::routes::resource;
use crate::state::AppState;

/// How service clients authenticate at the OAuth endpoints (RFC 6749 §2.3.1).
const CLIENT_AUTH_METHODS: [&str; 2] = ["client_secret_basic", "client_secret_post"];

/// Where the JWKS is served, below the issuer.
pub(crate) const JWKS_PATH: &str = "/.well-known/jwks.json";

pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        .service(resource(JWKS_PATH, "GET").route(web::get().to(jwks)))
        .service(
            resource("/.well-known/oauth-authorization-server", "GET")
                .route(web::get().to(metadata)),
        );
}

/// `Cache-Control` for both documents: shorter than a next key's lead time, so a cached
/// copy always holds the key that signs next.
fn cache_control(state: &AppState) -> (header::HeaderName, String) {
    let seconds = state.auth.jwks_max_age().num_seconds().max(1);
    (header::CACHE_CONTROL, format!("public, max-age={seconds}"))
}

#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = "operations",
    description = "The public keys that verify Tessera's tokens (RFC 7517): every published \
                   key — next, active and retired — with `kid`, `alg` and `use: sig`. Empty \
                   with HS256, whose secret is never published.",
    responses((status = 200, description = "The JWK Set", body = Object, content_type = "application/jwk-set+json"))
)]
/// The JWK Set of every published signing key.
pub(crate) async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/jwk-set+json")
        .insert_header(cache_control(&state))
        .json(state.auth.key_set().jwks())
}

#[utoipa::path(
    get,
    path = "/.well-known/oauth-authorization-server",
    tag = "operations",
    description = "Authorization server metadata (RFC 8414): the issuer, the JWKS, the \
                   signing algorithms, and the token, introspection and revocation endpoints \
                   with their grant type and client authentication methods. 404 when no \
                   issuer is configured.",
    responses(
        (status = 200, description = "The metadata", body = Object),
        (status = 404, description = "No issuer is configured", body = tessera_api::Problem, content_type = "application/problem+json")
    )
)]
/// The metadata document: what a client library needs to find the keys.
pub(crate) async fn metadata(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let issuer = state.auth.issuer().ok_or_else(ApiError::not_found)?;
    let keys = state.auth.key_set();
    // The algorithms of access tokens: the signing key's first, then any other published
    // key's (a retired key of an earlier algorithm).
    let signing = keys.signing_algorithm().map(Algorithm::as_str);
    let published = keys
        .keys()
        .filter(|key| key.public_jwk().is_some())
        .map(|key| key.algorithm().as_str());
    let mut algorithms: Vec<&str> = Vec::new();
    for alg in signing.into_iter().chain(published) {
        if !algorithms.contains(&alg) {
            algorithms.push(alg);
        }
    }
    let document = json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}{JWKS_PATH}"),
        // Tessera has no authorization endpoint (no browser redirects): no response types.
        "response_types_supported": [],
        // Not registered by RFC 8414, which allows additions.
        "access_token_signing_alg_values_supported": algorithms,
        "service_documentation": format!("{issuer}/api/v1/openapi.json"),
        "token_endpoint": format!("{issuer}/oauth/token"),
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "introspection_endpoint": format!("{issuer}/oauth/introspect"),
        "introspection_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "revocation_endpoint": format!("{issuer}/oauth/revoke"),
        "revocation_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
    });
    Ok(HttpResponse::Ok()
        .insert_header(cache_control(&state))
        .json(document))
}
