//! The versioned API, `/api/v1`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::SecondsFormat;
use tessera_api::{Credentials, TokenResponse, UserView};
use tessera_domain::User;

use crate::auth::AuthUser;
use crate::error::{ApiError, Challenge};
use crate::routes::{resource, tutorial::no_store};
use crate::state::AppState;

pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config.service(
        web::scope("/api/v1")
            .service(resource("/users", "POST").route(web::post().to(register)))
            .service(resource("/users/{id}", "GET").route(web::get().to(user_by_id)))
            .service(resource("/tokens", "POST").route(web::post().to(issue_token)))
            .service(resource("/me", "GET").route(web::get().to(me))),
    );
}

fn view(user: &User) -> UserView {
    UserView {
        id: user.id.0,
        username: user.username.clone(),
        created_at: user.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
    }
}

/// `POST /api/v1/users` → 201 with the user and its `Location`.
async fn register(
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
async fn user_by_id(auth: AuthUser, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    if id.parse::<i64>().ok() != Some(auth.user.id.0) {
        return Err(ApiError::not_found());
    }
    Ok(HttpResponse::Ok().json(view(&auth.user)))
}

/// `POST /api/v1/tokens` with `{username,password}` → an access token.
async fn issue_token(
    state: web::Data<AppState>,
    body: web::Json<Credentials>,
) -> Result<HttpResponse, ApiError> {
    let Credentials { username, password } = body.into_inner();
    let accounts = state.accounts.clone();
    let user = state
        .hashing
        .run(move || accounts.authenticate(&username, &password))
        .await?
        .map_err(|e| match e {
            tessera_domain::Error::InvalidCredentials => {
                ApiError::invalid_credentials(Challenge::Bearer)
            }
            other => ApiError::from(other),
        })?;
    let access_token = state.tokens.issue(&user)?;
    let mut response = HttpResponse::Ok().json(TokenResponse {
        access_token,
        token_type: "Bearer".to_owned(),
        expires_in: state.tokens.ttl().num_seconds(),
    });
    no_store(&mut response);
    Ok(response)
}

/// `GET /api/v1/me`.
async fn me(auth: AuthUser) -> HttpResponse {
    HttpResponse::Ok().json(view(&auth.user))
}
