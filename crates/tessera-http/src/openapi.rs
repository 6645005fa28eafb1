//! The OpenAPI 3.1 document of the versioned API, generated from the handlers' annotations
//! and the DTOs, served at `/api/v1/openapi.json` and kept in `docs/openapi.json`.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{forward_auth, health, oauth, v1, well_known};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tessera",
        description = "Token authentication: register, sign in for a signed expiring token, \
                       call protected endpoints with it. Errors are RFC 9457 problem details \
                       with a stable `code`.",
        license(name = "MIT OR Apache-2.0"),
    ),
    paths(
        v1::register,
        v1::user_by_id,
        v1::issue_token,
        v1::me,
        v1::refresh,
        v1::logout,
        v1::change_password,
        v1::delete_account,
        v1::list_sessions,
        v1::end_session,
        v1::web_settings,
        health::healthz,
        health::readyz,
        well_known::jwks,
        well_known::metadata,
        oauth::token,
        oauth::introspect,
        oauth::revoke,
        forward_auth::check,
        forward_auth::redirect,
    ),
    components(schemas(
        tessera_api::Credentials,
        tessera_api::UserView,
        tessera_api::TokenResponse,
        tessera_api::Problem,
        tessera_api::Health,
        tessera_api::RefreshRequest,
        tessera_api::SignInRequest,
        tessera_api::SessionDelivery,
        tessera_api::RedirectTarget,
        tessera_api::PasswordChange,
        tessera_api::AccountDeletion,
        tessera_api::SessionView,
        tessera_api::WebSettings,
        tessera_api::Introspection,
        tessera_api::OAuthError,
        oauth::TokenForm,
        oauth::TokenParameterForm,
    )),
    modifiers(&BearerScheme),
    tags((name = "v1", description = "The versioned API"), (name = "operations", description = "Health checks"), (name = "oauth", description = "Service clients: client credentials, introspection, revocation (RFC 6749, 7662, 7009)"), (name = "forward-auth", description = "For reverse proxies guarding apps that cannot check tokens (nginx, Caddy, Traefik)")),
)]
struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.bearer_format = Some("JWT".to_owned());
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
    }
}

pub(crate) fn configure(config: &mut actix_web::web::ServiceConfig) {
    config.service(
        crate::routes::resource("/api/v1/openapi.json", "GET")
            .route(actix_web::web::get().to(serve)),
    );
}

/// `GET /api/v1/openapi.json`: this API's OpenAPI 3.1 document.
async fn serve() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type("application/json")
        .body(document())
}

/// The document, pretty-printed JSON with a final newline (as stored in `docs/`).
pub fn document() -> String {
    let mut json = ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    json.push('\n');
    json
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CI fails when the committed document differs from the code's. Regenerate with
    /// `UPDATE_OPENAPI=1 cargo test -p tessera-http openapi`.
    #[test]
    fn the_documented_username_length_is_the_policys() {
        let document: serde_json::Value = serde_json::from_str(&document()).unwrap();
        let username = &document["components"]["schemas"]["Credentials"]["properties"]["username"];
        assert_eq!(
            username["maxLength"],
            tessera_api::policy::USERNAME_MAX_CHARS,
            "{username}"
        );
    }

    #[test]
    fn docs_openapi_json_is_up_to_date() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
        let current = document();
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            std::fs::write(&path, &current).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == current,
            "docs/openapi.json is out of date: run `UPDATE_OPENAPI=1 cargo test -p tessera-http openapi`"
        );
    }

    #[test]
    fn the_document_is_openapi_3_1_and_covers_the_v1_routes() {
        let value: serde_json::Value = serde_json::from_str(&document()).unwrap();
        assert!(value["openapi"].as_str().unwrap().starts_with("3.1"));
        for path in [
            "/api/v1/users",
            "/api/v1/users/{id}",
            "/api/v1/tokens",
            "/api/v1/me",
            "/api/v1/web-settings",
            "/healthz",
            "/readyz",
            "/.well-known/jwks.json",
            "/.well-known/oauth-authorization-server",
        ] {
            assert!(value["paths"].get(path).is_some(), "{path} missing");
        }
    }
}
