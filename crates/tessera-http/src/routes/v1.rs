//! The versioned API, `/api/v1`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::SecondsFormat;
use chrono::Utc;
use tessera_api::{
    AccountDeletion, Credentials, PasswordChange, RefreshRequest, SessionView, TokenResponse,
    UserView,
};
use tessera_domain::{RefreshToken, Session, SessionId, User};

use crate::auth::AuthUser;
use crate::error::{ApiError, Challenge};
use crate::metrics::{Metrics, TokenEvent};
use crate::routes::tutorial::no_store;
use crate::routes::{blocking, resource};
use crate::state::AppState;

pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config.service(
        web::scope("/api/v1")
            .service(resource("/users", "POST").route(web::post().to(register)))
            .service(resource("/users/{id}", "GET").route(web::get().to(user_by_id)))
            .service(resource("/tokens", "POST").route(web::post().to(issue_token)))
            .service(resource("/tokens/refresh", "POST").route(web::post().to(refresh)))
            .service(resource("/logout", "POST").route(web::post().to(logout)))
            .service(
                resource("/me", "GET, DELETE")
                    .route(web::get().to(me))
                    .route(web::delete().to(delete_account)),
            )
            .service(resource("/me/password", "PUT").route(web::put().to(change_password)))
            .service(resource("/sessions", "GET").route(web::get().to(list_sessions)))
            .service(resource("/sessions/{id}", "DELETE").route(web::delete().to(end_session)))
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
        (status = 429, description = "Too many attempts from this address or on this account; see Retry-After", body = tessera_api::Problem, content_type = "application/problem+json", headers(("Retry-After" = String, description = "Seconds to wait"))),
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
    request: HttpRequest,
    body: web::Json<Credentials>,
) -> Result<HttpResponse, ApiError> {
    let Credentials { username, password } = body.into_inner();
    let user = super::register(&state, &request, username, password).await?;
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
        (status = 429, description = "Too many attempts from this address or on this account; see Retry-After", body = tessera_api::Problem, content_type = "application/problem+json", headers(("Retry-After" = String, description = "Seconds to wait"))),
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
    request: HttpRequest,
    body: web::Json<Credentials>,
) -> Result<HttpResponse, ApiError> {
    let Credentials { username, password } = body.into_inner();
    let user = super::sign_in(
        &state,
        &metrics,
        &request,
        username,
        password,
        Challenge::Bearer,
    )
    .await?;
    let (sessions, user_id) = (state.sessions.clone(), user.id);
    let (session, refresh) = blocking(move || sessions.start(user_id, Utc::now())).await?;
    token_response(&state, &metrics, &user, &session.id, refresh)
}

/// An access token for `user` in `session`, with the session's new refresh token.
fn token_response(
    state: &AppState,
    metrics: &Metrics,
    user: &User,
    session: &SessionId,
    refresh: RefreshToken,
) -> Result<HttpResponse, ApiError> {
    let access_token = state.tokens.issue(user, session)?;
    metrics.token(TokenEvent::Issued);
    let mut response = HttpResponse::Ok().json(TokenResponse {
        access_token,
        token_type: "Bearer".to_owned(),
        expires_in: state.tokens.ttl().num_seconds(),
        refresh_token: Some(refresh.expose().to_owned()),
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

#[utoipa::path(
    post,
    path = "/api/v1/tokens/refresh",
    tag = "v1",
    description = "Exchanges a refresh token for a new access token and refresh token (rotation). A refresh token works once: presenting a used one ends its whole session.",
    request_body = tessera_api::RefreshRequest,
    responses(
        (status = 200, description = "A new token pair", body = tessera_api::TokenResponse),
        (status = 401, description = "Unknown, used, expired or ended refresh token", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 400, description = "Malformed JSON or missing fields", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json`", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database cannot be reached", body = tessera_api::Problem, content_type = "application/problem+json")
    )
)]
/// `POST /api/v1/tokens/refresh`.
pub(crate) async fn refresh(
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let RefreshRequest { refresh_token } = body.into_inner();
    let (sessions, accounts) = (state.sessions.clone(), state.accounts.clone());
    let refreshed = blocking(move || {
        let Ok((session, refresh)) = sessions.refresh(&refresh_token, Utc::now())? else {
            return Ok(None);
        };
        match accounts.find(session.user_id) {
            Ok(user) => Ok(Some((user, session, refresh))),
            Err(tessera_domain::Error::UserNotFound) => Ok(None),
            Err(other) => Err(other),
        }
    })
    .await?;
    let Some((user, session, refresh)) = refreshed else {
        return Err(ApiError::invalid_refresh_token());
    };
    metrics.token(TokenEvent::Refreshed);
    token_response(&state, &metrics, &user, &session.id, refresh)
}

#[utoipa::path(
    post,
    path = "/api/v1/logout",
    tag = "v1",
    description = "Ends the session of the presented token: its access and refresh tokens stop working at once.",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 400, description = "A malformed `Authorization` header", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No token, or a malformed, forged, expired or revoked one", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database cannot be reached", body = tessera_api::Problem, content_type = "application/problem+json")
    )
)]
/// `POST /api/v1/logout`.
pub(crate) async fn logout(
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
    auth: AuthUser,
) -> Result<HttpResponse, ApiError> {
    if let Some(sid) = auth.claims.sid {
        let sessions = state.sessions.clone();
        blocking(move || sessions.end(&SessionId(sid), Utc::now())).await?;
        metrics.token(TokenEvent::Revoked);
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Checks the signed-in user's password again, within the sign-in limits, for changes a
/// stolen token alone must not be able to make. A wrong password is a 400 on `field`, not
/// a 401, which clients would take for an ended session.
async fn confirm_password(
    state: &AppState,
    metrics: &Metrics,
    request: &HttpRequest,
    auth: &AuthUser,
    password: String,
    field: &'static str,
) -> Result<(), ApiError> {
    let username = auth.user.username.clone();
    match super::sign_in(
        state,
        metrics,
        request,
        username,
        password,
        Challenge::Bearer,
    )
    .await
    {
        Ok(_) => Ok(()),
        Err(error) if error.code() == tessera_api::codes::INVALID_CREDENTIALS => {
            Err(ApiError::invalid_field(field, "the password is wrong"))
        }
        Err(other) => Err(other),
    }
}

#[utoipa::path(
    put,
    path = "/api/v1/me/password",
    tag = "v1",
    description = "Changes the password. Every other session ends; this one stays.",
    request_body = tessera_api::PasswordChange,
    security(("bearer" = [])),
    responses(
        (status = 429, description = "Too many attempts from this address or on this account; see Retry-After", body = tessera_api::Problem, content_type = "application/problem+json", headers(("Retry-After" = String, description = "Seconds to wait"))),
        (status = 204, description = "Changed"),
        (status = 400, description = "Wrong current password, a new password that breaks the policy, or a malformed body", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No token, or a malformed, forged, expired or revoked one", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json`", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database cannot be reached", body = tessera_api::Problem, content_type = "application/problem+json")
    )
)]
/// `PUT /api/v1/me/password`.
pub(crate) async fn change_password(
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
    request: HttpRequest,
    auth: AuthUser,
    body: web::Json<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    let PasswordChange {
        current_password,
        new_password,
    } = body.into_inner();
    confirm_password(
        &state,
        &metrics,
        &request,
        &auth,
        current_password,
        "current_password",
    )
    .await?;
    let (accounts, sessions, user_id) =
        (state.accounts.clone(), state.sessions.clone(), auth.user.id);
    let keep = auth.claims.sid.map(SessionId);
    let ended = state
        .hashing
        .run(move || {
            accounts
                .set_password(user_id, &new_password)
                .map_err(|e| match e {
                    tessera_domain::Error::InvalidPassword(e) => {
                        ApiError::invalid_field("new_password", e.to_string())
                    }
                    other => other.into(),
                })?;
            sessions
                .end_all(user_id, keep.as_ref(), Utc::now())
                .map_err(ApiError::from)
        })
        .await??;
    for _ in 0..ended {
        metrics.token(TokenEvent::Revoked);
    }
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    delete,
    path = "/api/v1/me",
    tag = "v1",
    description = "Deletes the account after checking its password; every session ends.",
    request_body = tessera_api::AccountDeletion,
    security(("bearer" = [])),
    responses(
        (status = 429, description = "Too many attempts from this address or on this account; see Retry-After", body = tessera_api::Problem, content_type = "application/problem+json", headers(("Retry-After" = String, description = "Seconds to wait"))),
        (status = 204, description = "Deleted"),
        (status = 400, description = "Wrong password or a malformed body", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No token, or a malformed, forged, expired or revoked one", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json`", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database cannot be reached", body = tessera_api::Problem, content_type = "application/problem+json")
    )
)]
/// `DELETE /api/v1/me`.
pub(crate) async fn delete_account(
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
    request: HttpRequest,
    auth: AuthUser,
    body: web::Json<AccountDeletion>,
) -> Result<HttpResponse, ApiError> {
    let password = body.into_inner().password;
    confirm_password(&state, &metrics, &request, &auth, password, "password").await?;
    let (accounts, sessions, user_id) =
        (state.accounts.clone(), state.sessions.clone(), auth.user.id);
    let ended = blocking(move || {
        let ended = sessions.end_all(user_id, None, Utc::now())?;
        accounts.delete(user_id)?;
        Ok(ended)
    })
    .await?;
    state.users.forget(user_id);
    for _ in 0..ended {
        metrics.token(TokenEvent::Revoked);
    }
    Ok(HttpResponse::NoContent().finish())
}

fn session_view(session: &Session, current: Option<&str>) -> SessionView {
    let time = |at: chrono::DateTime<Utc>| at.to_rfc3339_opts(SecondsFormat::Secs, true);
    SessionView {
        id: session.id.0.clone(),
        created_at: time(session.created_at),
        last_used_at: time(session.last_used_at),
        expires_at: time(session.expires_at),
        current: current == Some(session.id.0.as_str()),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/sessions",
    tag = "v1",
    description = "The signed-in user's live sessions, newest first.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Live sessions", body = [tessera_api::SessionView]),
        (status = 400, description = "A malformed `Authorization` header", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No token, or a malformed, forged, expired or revoked one", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database cannot be reached", body = tessera_api::Problem, content_type = "application/problem+json")
    )
)]
/// `GET /api/v1/sessions`.
pub(crate) async fn list_sessions(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let (sessions, user_id) = (state.sessions.clone(), auth.user.id);
    let live = blocking(move || sessions.list(user_id, Utc::now())).await?;
    let views: Vec<SessionView> = live
        .iter()
        .map(|s| session_view(s, auth.claims.sid.as_deref()))
        .collect();
    Ok(HttpResponse::Ok().json(views))
}

#[utoipa::path(
    delete,
    path = "/api/v1/sessions/{id}",
    tag = "v1",
    description = "Ends one of the signed-in user's sessions. Another user's session id is a 404.",
    params(("id" = String, Path, description = "Session id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Ended"),
        (status = 400, description = "A malformed `Authorization` header", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No token, or a malformed, forged, expired or revoked one", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session of this user", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database cannot be reached", body = tessera_api::Problem, content_type = "application/problem+json")
    )
)]
/// `DELETE /api/v1/sessions/{id}`.
pub(crate) async fn end_session(
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
    auth: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (sessions, user_id, id) = (
        state.sessions.clone(),
        auth.user.id,
        SessionId(id.into_inner()),
    );
    let ended = blocking(move || match sessions.find(&id)? {
        Some(session) if session.user_id == user_id && session.revoked_at.is_none() => {
            sessions.end(&id, Utc::now())
        }
        _ => Ok(false),
    })
    .await?;
    if !ended {
        return Err(ApiError::not_found());
    }
    metrics.token(TokenEvent::Revoked);
    Ok(HttpResponse::NoContent().finish())
}
