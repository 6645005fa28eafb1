//! The versioned API, `/api/v1`.

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use chrono::{SecondsFormat, Utc};
use tessera_api::{
    AccountDeletion, Credentials, PasswordChange, RefreshRequest, SessionDelivery, SessionView,
    SignInRequest, TokenResponse, UserView,
};
use tessera_domain::{Error, Session, SessionKind, SignedIn, User};

use crate::auth::AuthUser;
use crate::blocking::blocking;
use crate::browser_session::{REFRESH_COOKIE, SESSION_COOKIE, cookie};
use crate::error::ApiError;
use crate::metrics::{Metrics, TokenEvent};
use crate::problems::{BadAuthorization, JsonBody, Throttled, TokenRequired, Unavailable};
use crate::routes::tutorial::no_store;
use crate::routes::{forward_auth, resource};
use crate::state::AppState;

pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config.service(
        web::scope("/api/v1")
            .service(resource("/users", "POST").route(web::post().to(register)))
            .service(resource("/users/{id}", "GET").route(web::get().to(user_by_id)))
            .service(resource("/tokens", "POST").route(web::post().to(issue_token)))
            .service(resource("/tokens/refresh", "POST").route(web::post().to(refresh)))
            .service(resource("/logout", "POST").route(web::post().to(logout)))
            // Any method: proxies ask with the method of the request they guard.
            .service(resource("/forward-auth", "GET").route(web::route().to(forward_auth::check)))
            .service(
                resource("/forward-auth/redirect", "GET")
                    .route(web::get().to(forward_auth::redirect)),
            )
            .service(
                resource("/me", "GET, DELETE")
                    .route(web::get().to(me))
                    .route(web::delete().to(delete_account)),
            )
            .service(resource("/me/password", "PUT").route(web::put().to(change_password)))
            .service(resource("/sessions", "GET").route(web::get().to(list_sessions)))
            .service(resource("/sessions/{id}", "DELETE").route(web::delete().to(end_session)))
            .service(resource("/web-settings", "GET").route(web::get().to(web_settings))),
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
    description = "Creates an account. Usernames are unique regardless of letter case and width.",
    request_body = tessera_api::Credentials,
    responses(
        (status = 201, description = "The new user", body = tessera_api::UserView, headers(("Location" = String, description = "The user's URL"))),
        (status = 409, description = "The username is taken", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 400, description = "Malformed JSON, missing fields, or a field that breaks the policy (`field` says which)", body = tessera_api::Problem, content_type = "application/problem+json"),
        Throttled, JsonBody, Unavailable
    )
)]
/// `POST /api/v1/users` → 201 with the user and its `Location`.
pub(crate) async fn register(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Json<Credentials>,
) -> Result<HttpResponse, ApiError> {
    let user = state.register(&request, body.into_inner()).await?;
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
        (status = 404, description = "Not the caller's id", body = tessera_api::Problem, content_type = "application/problem+json"),
        BadAuthorization, TokenRequired, Unavailable
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
    description = "Signs in: exchanges a username and password for an access token. With `\"session\": \"cookie\"` (browsers) the refresh token is set only as an HttpOnly cookie, with a session cookie for forward auth, and the request must come from Tessera's own pages or a listed origin.",
    request_body = tessera_api::SignInRequest,
    responses(
        (status = 200, description = "A signed access token", body = tessera_api::TokenResponse),
        (status = 403, description = "A cookie sign-in from another site", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong username or password (identical for both)", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 400, description = "Malformed JSON, missing fields, or a password over the length bound (`field` says which)", body = tessera_api::Problem, content_type = "application/problem+json"),
        Throttled, JsonBody, Unavailable
    )
)]
/// `POST /api/v1/tokens` with `{username,password[,session]}` → an access token.
pub(crate) async fn issue_token(
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
    request: HttpRequest,
    body: web::Json<SignInRequest>,
) -> Result<HttpResponse, ApiError> {
    let SignInRequest {
        credentials: Credentials { username, password },
        session,
    } = body.into_inner();
    if session == SessionDelivery::Cookie {
        // Before any hashing: another site must not sign a browser in (login CSRF).
        state.cookies.require_same_origin(&request)?;
    }
    let signed_in = state
        .hashing_use_case(&request, move |auth, client| {
            auth.sign_in(&username, &password, SessionKind::Refreshable, client)
        })
        .await;
    metrics.sign_in_outcome(&signed_in);
    token_response(&state, &metrics, &request, signed_in?, session)
}

/// The token pair of a sign-in or refresh: the refresh token in the body, or only in its
/// cookie.
fn token_response(
    state: &AppState,
    metrics: &Metrics,
    request: &HttpRequest,
    signed_in: SignedIn,
    delivery: SessionDelivery,
) -> Result<HttpResponse, ApiError> {
    metrics.token(TokenEvent::Issued);
    let refresh_token = signed_in.refresh_token.map(|r| r.expose().to_owned());
    let mut response = HttpResponse::Ok().json(TokenResponse {
        access_token: signed_in.access_token,
        token_type: "Bearer".to_owned(),
        expires_in: state.auth.token_ttl().num_seconds(),
        refresh_token: refresh_token
            .clone()
            .filter(|_| delivery == SessionDelivery::Body),
        scope: None,
    });
    if let (SessionDelivery::Cookie, Some(refresh_token)) = (delivery, refresh_token) {
        let session = &signed_in.session;
        state.cookies.set(
            &mut response,
            request,
            &refresh_token,
            &state.auth.session_cookie(&session.id),
            session.expires_at - Utc::now(),
        );
    }
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
        BadAuthorization, TokenRequired, Unavailable
    )
)]
/// `GET /api/v1/me`.
pub(crate) async fn me(auth: AuthUser) -> HttpResponse {
    HttpResponse::Ok().json(view(&auth.user))
}

#[utoipa::path(
    post,
    path = "/api/v1/tokens/refresh",
    tag = "v1",
    description = "Exchanges a refresh token for a new access token and refresh token (rotation). A refresh token works once: presenting a spent one ends its whole session, except within the reuse interval (10 s by default) after its rotation, when it gets the session's current pair. Without `refresh_token` in the body, the refresh cookie of a browser session is used (and set again), from Tessera's own pages or a listed origin only.",
    request_body = tessera_api::RefreshRequest,
    responses(
        (status = 200, description = "A new token pair", body = tessera_api::TokenResponse),
        (status = 403, description = "A cookie refresh from another site", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Unknown, spent, expired or ended refresh token", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 400, description = "Malformed JSON or missing fields", body = tessera_api::Problem, content_type = "application/problem+json"),
        JsonBody, Unavailable
    )
)]
/// `POST /api/v1/tokens/refresh`.
pub(crate) async fn refresh(
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
    request: HttpRequest,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let (refresh_token, delivery) = match body.into_inner().refresh_token {
        Some(token) => (token, SessionDelivery::Body),
        None => {
            state.cookies.require_same_origin(&request)?;
            let token =
                cookie(&request, REFRESH_COOKIE).ok_or_else(ApiError::invalid_refresh_token)?;
            (token, SessionDelivery::Cookie)
        }
    };
    let auth = state.auth.clone();
    let signed_in = blocking(move || auth.refresh(&refresh_token)).await?;
    metrics.token(TokenEvent::Refreshed);
    token_response(&state, &metrics, &request, signed_in, delivery)
}

#[utoipa::path(
    post,
    path = "/api/v1/logout",
    tag = "v1",
    description = "Ends the session of the presented token: its access and refresh tokens stop working at once. With a Flask tutorial token, every such token of the user ends. Without `Authorization`, a browser session's cookie names the session (from Tessera's own pages or a listed origin only). The session cookies are cleared either way.",
    security(("bearer" = []), ()),
    responses(
        (status = 204, description = "Signed out"),
        (status = 403, description = "A cookie sign-out from another site", body = tessera_api::Problem, content_type = "application/problem+json"),
        BadAuthorization, TokenRequired, Unavailable
    )
)]
/// `POST /api/v1/logout`.
pub(crate) async fn logout(
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let use_cases = state.auth.clone();
    let ended = if request.headers().contains_key(header::AUTHORIZATION) {
        let auth = AuthUser::extract(&request).await?;
        blocking(move || use_cases.sign_out(&auth).map(|()| true)).await?
    } else {
        let session = cookie(&request, SESSION_COOKIE)
            .ok_or_else(|| ApiError::missing_credentials(crate::error::Challenge::Bearer))?;
        state.cookies.require_same_origin(&request)?;
        blocking(move || use_cases.sign_out_by_cookie(&session)).await?
    };
    if ended {
        metrics.token(TokenEvent::Revoked);
    }
    let mut response = HttpResponse::NoContent().finish();
    state.cookies.clear(&mut response, &request);
    Ok(response)
}

#[utoipa::path(
    put,
    path = "/api/v1/me/password",
    tag = "v1",
    description = "Changes the password. Every other session ends; this one stays.",
    request_body = tessera_api::PasswordChange,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Changed"),
        (status = 400, description = "Wrong current password, a new password that breaks the policy, or a malformed body", body = tessera_api::Problem, content_type = "application/problem+json"),
        Throttled, TokenRequired, JsonBody, Unavailable
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
    // The outcome comes back whole, so each password error names its own field.
    let outcome = state
        .hashing_use_case(&request, move |use_cases, client| {
            Ok(use_cases.change_password(&auth, &current_password, &new_password, client))
        })
        .await?;
    let ended = outcome.map_err(|error| match error {
        Error::WrongPassword => ApiError::invalid_field("current_password", error.to_string()),
        Error::InvalidPassword(e) => ApiError::invalid_field("new_password", e.to_string()),
        other => other.into(),
    })?;
    count_revoked(&metrics, ended);
    Ok(HttpResponse::NoContent().finish())
}

fn count_revoked(metrics: &Metrics, sessions: usize) {
    for _ in 0..sessions {
        metrics.token(TokenEvent::Revoked);
    }
}

#[utoipa::path(
    delete,
    path = "/api/v1/me",
    tag = "v1",
    description = "Deletes the account after checking its password; every session ends.",
    request_body = tessera_api::AccountDeletion,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Wrong password or a malformed body", body = tessera_api::Problem, content_type = "application/problem+json"),
        Throttled, TokenRequired, JsonBody, Unavailable
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
    let ended = state
        .hashing_use_case(&request, move |use_cases, client| {
            use_cases.delete_account(&auth, &password, client)
        })
        .await?;
    count_revoked(&metrics, ended);
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
        user_agent: session.origin.user_agent.clone(),
        address: session.origin.address.clone(),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/sessions",
    tag = "v1",
    description = "The signed-in user's live sessions, newest first, each with the client it was signed in from: its `User-Agent` (control characters dropped, at most 256 characters) and address, as sent at sign-in (a refresh keeps them).",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Live sessions", body = [tessera_api::SessionView]),
        BadAuthorization, TokenRequired, Unavailable
    )
)]
/// `GET /api/v1/sessions`.
pub(crate) async fn list_sessions(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let use_cases = state.auth.clone();
    let current = auth.session().map(|s| s.0.clone());
    let live = blocking(move || use_cases.sessions(&auth)).await?;
    let views: Vec<SessionView> = live
        .iter()
        .map(|s| session_view(s, current.as_deref()))
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
        (status = 404, description = "No such session of this user", body = tessera_api::Problem, content_type = "application/problem+json"),
        BadAuthorization, TokenRequired, Unavailable
    )
)]
/// `DELETE /api/v1/sessions/{id}`.
pub(crate) async fn end_session(
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
    auth: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let use_cases = state.auth.clone();
    blocking(move || use_cases.end_session(&auth, &id)).await?;
    metrics.token(TokenEvent::Revoked);
    Ok(HttpResponse::NoContent().finish())
}

/// How long browsers and proxies may keep the web settings: they change only with a
/// restart, and a minute is soon enough for an operator's new note to show.
const WEB_SETTINGS_CACHE_CONTROL: &str = "public, max-age=60";

#[utoipa::path(
    get,
    path = "/api/v1/web-settings",
    tag = "v1",
    description = "What the operator configured for the web app's pages, without authentication: the note shown under \"Forgot your password?\" on Sign in (`forgot_password_note`, plain text). Cacheable for 60 seconds.",
    responses(
        (status = 200, description = "The settings", body = tessera_api::WebSettings, headers(("Cache-Control" = String, description = "`public, max-age=60`")))
    )
)]
/// `GET /api/v1/web-settings`.
pub(crate) async fn web_settings(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, WEB_SETTINGS_CACHE_CONTROL))
        .json(&state.web_settings)
}
