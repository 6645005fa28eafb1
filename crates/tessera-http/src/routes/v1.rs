//! The versioned API, `/api/v1`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::SecondsFormat;
use tessera_api::{Credentials, TokenResponse, UserView};
use tessera_domain::User;

use crate::auth::AuthUser;
use crate::error::{ApiError, Challenge};
use crate::metrics::{Metrics, SignIn, TokenEvent};
use crate::routes::resource;
use crate::routes::tutorial::{no_store, sign_in_failed};
use crate::state::AppState;

pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config.service(
        web::scope("/api/v1")
            .service(resource("/users", "POST").route(web::post().to(register)))
            .service(resource("/users/{id}", "GET").route(web::get().to(user_by_id)))
            .service(resource("/tokens", "POST").route(web::post().to(issue_token)))
            .service(resource("/me", "GET").route(web::get().to(me)))
            .service(resource("/openapi.json", "GET").route(web::get().to(openapi))),
    );
}

fn view(user: &User) -> UserView {
    UserView {
        id: user.id.0,
        username: user.username.clone(),
        created_at: user.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "v1",
    description = "Creates an account. Usernames are unique regardless of letter case.",
    request_body = tessera_api::Credentials,
    responses(
        (status = 201, description = "The new user", body = tessera_api::UserView, headers(("Location" = String, description = "The user's URL"))),
        (status = 409, description = "The username is taken", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 400, description = "Malformed JSON, missing fields, or a field that breaks the policy (`field` says which)", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json`", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database cannot be reached", body = tessera_api::Problem, content_type = "application/problem+json")
    )
)]
/// `POST /api/v1/users` → 201 with the user and its `Location`.
pub(crate) async fn register(
    state: web::Data<AppState>,
    body: web::Json<Credentials>,
) -> Result<HttpResponse, ApiError> {
    let Credentials { username, password } = body.into_inner();
    let accounts = state.accounts.clone();
    let user = state
        .hashing
        .run(move || accounts.register(&username, &password))
        .await??;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/users/{}", user.id)))
        .json(view(&user)))
}

/// `GET /api/v1/users/{id}`: a user may read their own record; any other id is a 404, so
/// ids do not reveal which accounts exist.
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}",
    tag = "v1",
    description = "The caller's own record; any other id is a 404, so ids reveal nothing.",
    params(("id" = String, Path, description = "User id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user", body = tessera_api::UserView),
        (status = 400, description = "A malformed `Authorization` header", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No token, or a malformed, forged or expired one", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not the caller's id", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database cannot be reached", body = tessera_api::Problem, content_type = "application/problem+json")
    )
)]
pub(crate) async fn user_by_id(
    auth: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if id.parse::<i64>().ok() != Some(auth.user.id.0) {
        return Err(ApiError::not_found());
    }
    Ok(HttpResponse::Ok().json(view(&auth.user)))
}

#[utoipa::path(
    post,
    path = "/api/v1/tokens",
    tag = "v1",
    description = "Signs in: exchanges a username and password for an access token.",
    request_body = tessera_api::Credentials,
    responses(
        (status = 200, description = "A signed access token", body = tessera_api::TokenResponse),
        (status = 401, description = "Wrong username or password (identical for both)", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 400, description = "Malformed JSON, missing fields, or a field that breaks the policy (`field` says which)", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json`", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database cannot be reached", body = tessera_api::Problem, content_type = "application/problem+json")
    )
)]
/// `POST /api/v1/tokens` with `{username,password}` → an access token.
pub(crate) async fn issue_token(
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
    body: web::Json<Credentials>,
) -> Result<HttpResponse, ApiError> {
    let Credentials { username, password } = body.into_inner();
    let accounts = state.accounts.clone();
    let user = state
        .hashing
        .run(move || accounts.authenticate(&username, &password))
        .await?
        .map_err(|e| sign_in_failed(&metrics, e, Challenge::Bearer))?;
    metrics.sign_in(SignIn::Succeeded);
    let access_token = state.tokens.issue(&user)?;
    metrics.token(TokenEvent::Issued);
    let mut response = HttpResponse::Ok().json(TokenResponse {
        access_token,
        token_type: "Bearer".to_owned(),
        expires_in: state.tokens.ttl().num_seconds(),
    });
    no_store(&mut response);
    Ok(response)
}

#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "v1",
    description = "The signed-in user.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user", body = tessera_api::UserView),
        (status = 400, description = "A malformed `Authorization` header", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No token, or a malformed, forged or expired one", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database cannot be reached", body = tessera_api::Problem, content_type = "application/problem+json")
    )
)]
/// `GET /api/v1/me`.
pub(crate) async fn me(auth: AuthUser) -> HttpResponse {
    HttpResponse::Ok().json(view(&auth.user))
}

/// `GET /api/v1/openapi.json`: this API's OpenAPI 3.1 document.
async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(crate::openapi::document())
}
