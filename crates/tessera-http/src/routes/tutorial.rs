//! The Flask tutorial's routes, with its success shapes byte for byte: Flask's `jsonify`
//! writes compact JSON followed by a newline.

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use serde::Serialize;
use tessera_api::{Credentials, TutorialUser, codes};
use tessera_domain::SessionKind;

use crate::auth::{self, TutorialAuthUser};
use crate::error::{ApiError, Challenge};
use crate::metrics::{Metrics, TokenEvent};
use crate::routes::resource;
use crate::state::AppState;

pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        .service(resource("/api/users", "POST").route(web::post().to(register)))
        .service(resource("/api/register", "POST").route(web::post().to(register)))
        .service(resource("/api/login", "GET").route(web::get().to(login)))
        .service(resource("/", "GET").route(web::get().to(hello)));
}

fn flask_json(value: &impl Serialize) -> Result<HttpResponse, ApiError> {
    let mut body = serde_json::to_string(value).map_err(|e| ApiError::internal(&e.to_string()))?;
    body.push('\n');
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}

/// `POST /api/users` and `POST /api/register`: `{"username","password"}` → `{"username"}`.
async fn register(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Json<Credentials>,
) -> Result<HttpResponse, ApiError> {
    let user = state.register(&request, body.into_inner()).await?;
    flask_json(&TutorialUser {
        username: user.username,
    })
}

/// `GET /api/login` with Basic `user:password` → the token as a JSON string.
async fn login(
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let challenge = Challenge::Basic;
    let (username, password) = match auth::request_credentials(&request, challenge)? {
        Some(crate::authorization::Credentials::Basic { user_id, password }) => (user_id, password),
        Some(crate::authorization::Credentials::Bearer(_)) => {
            return Err(ApiError::invalid_authorization(
                challenge,
                "sign in with HTTP Basic username:password",
            ));
        }
        None => return Err(ApiError::missing_credentials(challenge)),
    };
    let signed_in = state
        .hashing_use_case(&request, move |auth, client| {
            auth.sign_in(&username, &password, SessionKind::AccessOnly, client)
        })
        .await;
    metrics.sign_in_outcome(&signed_in);
    let signed_in = signed_in.map_err(|error| match error.code() {
        codes::INVALID_CREDENTIALS => ApiError::invalid_credentials(challenge),
        _ => error,
    })?;
    metrics.token(TokenEvent::Issued);
    let mut response = flask_json(&signed_in.access_token)?;
    no_store(&mut response);
    Ok(response)
}

/// `GET /` with a token → `"Hello, <username>"`. A browser navigation without
/// credentials gets the web app instead.
async fn hello(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    if request.headers().get(header::AUTHORIZATION).is_none() {
        if let Some(index) = crate::spa::index_for_navigation(&request) {
            return Ok(index);
        }
    }
    let auth = TutorialAuthUser::from_request(&request, &mut actix_web::dev::Payload::None).await?;
    flask_json(&format!("Hello, {}", auth.0.user.username))
}

/// Token responses must not be cached (RFC 6749 section 5.1).
pub(crate) fn no_store(response: &mut HttpResponse) {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
        .headers_mut()
        .insert(header::PRAGMA, header::HeaderValue::from_static("no-cache"));
}
