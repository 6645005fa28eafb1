//! The standard token endpoints for service clients: the client-credentials grant
//! (RFC 6749 §4.4), introspection (RFC 7662) and revocation (RFC 7009). Bodies are
//! `application/x-www-form-urlencoded`; errors take RFC 6749 §5.2's shape, which OAuth
//! client libraries read. Each handler reads the form, makes one `Auth` call, and maps it.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use tessera_api::{Introspection, TokenResponse};
use tessera_domain::{ActiveToken, Auth, Client, ClientCredentials, Error};

use crate::auth::request_credentials;
use crate::authorization::Credentials;
use crate::blocking::blocking;
use crate::error::{ApiError, Challenge};
use crate::problems::OAuthFailures;
use crate::routes::resource;
use crate::routes::tutorial::no_store;
use crate::state::{AppState, RequestClient};

/// Largest form accepted: a token, a client id and secret, with room to spare.
const MAX_FORM_BYTES: usize = 16 * 1024;

pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        .service(resource("/oauth/token", "POST").route(web::post().to(token)))
        .service(resource("/oauth/introspect", "POST").route(web::post().to(introspect)))
        .service(resource("/oauth/revoke", "POST").route(web::post().to(revoke)));
}

/// A form's parameters. RFC 6749 §3.2: a parameter sent without a value is as if omitted,
/// and none may be sent twice.
struct Form(HashMap<String, String>);

impl Form {
    async fn read(request: &HttpRequest, payload: web::Payload) -> Result<Form, ApiError> {
        let form_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .is_some_and(|essence| {
                essence
                    .trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if !form_type {
            return Err(ApiError::invalid_request(
                "send the body as Content-Type: application/x-www-form-urlencoded",
            ));
        }
        let body = match payload.to_bytes_limited(MAX_FORM_BYTES).await {
            Ok(Ok(body)) => body,
            Ok(Err(error)) => {
                return Err(match error.as_error::<actix_web::error::PayloadError>() {
                    Some(error) => ApiError::from_payload_error(error, MAX_FORM_BYTES),
                    None => ApiError::invalid_request("the body could not be read"),
                }
                .in_oauth_shape());
            }
            Err(_) => return Err(ApiError::payload_too_large(MAX_FORM_BYTES).in_oauth_shape()),
        };
        let mut parameters = HashMap::new();
        for (name, value) in url::form_urlencoded::parse(&body) {
            if value.is_empty() {
                continue;
            }
            if parameters
                .insert(name.clone().into_owned(), value.into_owned())
                .is_some()
            {
                return Err(ApiError::invalid_request(format!(
                    "the parameter {:?} is sent more than once",
                    name.chars().take(40).collect::<String>()
                )));
            }
        }
        Ok(Form(parameters))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    fn required(&self, name: &'static str) -> Result<&str, ApiError> {
        self.get(name)
            .ok_or_else(|| ApiError::invalid_request(format!("the parameter {name} is missing")))
    }
}

/// `POST /oauth/token`'s form, for the OpenAPI document; the handler reads forms itself
/// ([`Form`]), to refuse repeated parameters.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct TokenForm {
    /// `client_credentials`.
    grant_type: String,
    /// Space-separated scopes, each registered for the client.
    scope: Option<String>,
    /// With `client_secret`, instead of HTTP Basic (`client_secret_post`).
    client_id: Option<String>,
    /// With `client_id`.
    client_secret: Option<String>,
}

/// The form of `POST /oauth/introspect` and `POST /oauth/revoke`, for the OpenAPI document.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct TokenParameterForm {
    /// The access or refresh token.
    token: String,
    /// `access_token` or `refresh_token`; not needed, the token's form says which.
    token_type_hint: Option<String>,
    /// With `client_secret`, instead of HTTP Basic (`client_secret_post`).
    client_id: Option<String>,
    /// With `client_id`.
    client_secret: Option<String>,
}

/// The client's id and secret: HTTP Basic (`client_secret_basic`, each part form-encoded
/// first, RFC 6749 §2.3.1) or the form's `client_id` and `client_secret`
/// (`client_secret_post`); using both in one request is refused (§2.3).
struct PresentedClient {
    id: String,
    secret: String,
}

impl PresentedClient {
    fn of(request: &HttpRequest, form: &Form) -> Result<PresentedClient, ApiError> {
        let header =
            request_credentials(request, Challenge::Basic).map_err(ApiError::in_oauth_shape)?;
        let posted = (form.get("client_id"), form.get("client_secret"));
        match (header, posted) {
            (Some(Credentials::Basic { user_id, password }), (None, None)) => Ok(PresentedClient {
                id: form_decoded(&user_id),
                secret: form_decoded(&password),
            }),
            (Some(Credentials::Basic { .. }), _) => Err(ApiError::invalid_request(
                "authenticate the client one way: HTTP Basic or client_id and client_secret",
            )),
            (Some(Credentials::Bearer(_)), _) => Err(ApiError::invalid_client()),
            (None, (Some(id), Some(secret))) => Ok(PresentedClient {
                id: id.to_owned(),
                secret: secret.to_owned(),
            }),
            (None, _) => Err(ApiError::invalid_client()),
        }
    }

    fn credentials(&self) -> ClientCredentials<'_> {
        ClientCredentials {
            id: &self.id,
            secret: &self.secret,
        }
    }
}

/// A Basic credential part as RFC 6749 §2.3.1 encodes it (`+` for space, `%XX`).
fn form_decoded(part: &str) -> String {
    let spaced = part.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// The answer of every successful call: JSON, never cached (RFC 6749 §5.1).
fn answer(body: impl serde::Serialize) -> HttpResponse {
    let mut response = HttpResponse::Ok().json(body);
    no_store(&mut response);
    response
}

/// One service client's call, as every handler takes it: the form, the client's
/// credentials, who sent it (address and `User-Agent`), and the use cases to run it with.
pub(crate) struct ClientCall {
    form: Form,
    client: PresentedClient,
    sender: RequestClient,
    auth: Auth,
}

impl FromRequest for ClientCall {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<ClientCall, ApiError>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let request = request.clone();
        let payload = web::Payload::from_request(&request, payload);
        Box::pin(async move {
            let state = request
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| ApiError::internal("the app state is missing"))?;
            let payload = payload
                .await
                .map_err(|e| ApiError::internal(&e.to_string()))?;
            let form = Form::read(&request, payload).await?;
            let client = PresentedClient::of(&request, &form)?;
            Ok(ClientCall {
                form,
                client,
                sender: state.request_client(&request),
                auth: state.auth.clone(),
            })
        })
    }
}

impl ClientCall {
    /// Runs `use_case` with the client's credentials off the async workers; its errors take
    /// RFC 6749 §5.2's shape.
    async fn run<T, F>(self, use_case: F) -> Result<T, ApiError>
    where
        F: FnOnce(&Auth, ClientCredentials<'_>, Client<'_>) -> Result<T, Error> + Send + 'static,
        T: Send + 'static,
    {
        let ClientCall {
            client,
            sender,
            auth,
            ..
        } = self;
        blocking(move || use_case(&auth, client.credentials(), sender.as_client()))
            .await
            .map_err(ApiError::in_oauth_shape)
    }
}

#[utoipa::path(
    post,
    path = "/oauth/token",
    tag = "oauth",
    description = "The client-credentials grant (RFC 6749 §4.4) for service clients made with \
                   `tessera clients add`: a form with `grant_type=client_credentials` and \
                   optionally `scope`; the client authenticates by HTTP Basic or with \
                   `client_id` and `client_secret` in the form. Failed authentications are \
                   throttled per client id and address.",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "An access token for the client", body = tessera_api::TokenResponse),
        (status = 400, description = "`invalid_request`, `unsupported_grant_type` or `invalid_scope`", body = tessera_api::OAuthError),
        OAuthFailures
    )
)]
/// `POST /oauth/token`.
pub(crate) async fn token(call: ClientCall) -> Result<HttpResponse, ApiError> {
    match call.form.required("grant_type")? {
        "client_credentials" => {}
        _ => return Err(ApiError::unsupported_grant_type()),
    }
    let scope = call.form.get("scope").map(str::to_owned);
    let grant = call
        .run(move |auth, credentials, sender| {
            auth.client_token(credentials, scope.as_deref(), sender)
        })
        .await?;
    Ok(answer(TokenResponse {
        access_token: grant.access_token,
        token_type: "Bearer".to_owned(),
        expires_in: grant.expires_in.num_seconds(),
        refresh_token: None,
        scope: grant.scope,
    }))
}

#[utoipa::path(
    post,
    path = "/oauth/introspect",
    tag = "oauth",
    description = "Token introspection (RFC 7662) for service clients: a form with `token`. \
                   A live access token — a user's or a service client's — is described; \
                   anything else (expired, forged, revoked, a refresh token) is \
                   `{\"active\": false}`. Revocation counts exactly as for the API's own \
                   token check: at once on the process that revoked, within \
                   `revocation_sync_interval` elsewhere.",
    request_body(content = TokenParameterForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "What the token is", body = tessera_api::Introspection),
        (status = 400, description = "`invalid_request`", body = tessera_api::OAuthError),
        OAuthFailures
    )
)]
/// `POST /oauth/introspect`.
pub(crate) async fn introspect(call: ClientCall) -> Result<HttpResponse, ApiError> {
    let token = call.form.required("token")?.to_owned();
    let active = call
        .run(move |auth, credentials, sender| auth.introspect(credentials, &token, sender))
        .await?;
    Ok(answer(
        active.map_or_else(Introspection::default, described),
    ))
}

fn described(token: ActiveToken) -> Introspection {
    Introspection {
        active: true,
        sub: Some(token.subject),
        username: token.username,
        client_id: token.client_id,
        scope: token.scope,
        iss: token.issuer,
        aud: token
            .audience
            .and_then(|audience| serde_json::to_value(audience).ok()),
        exp: Some(token.expires_at),
        iat: Some(token.issued_at),
        sid: token.session,
        token_type: Some("access_token".to_owned()),
    }
}

#[utoipa::path(
    post,
    path = "/oauth/revoke",
    tag = "oauth",
    description = "Token revocation (RFC 7009) for service clients: a form with `token` (and \
                   an optional `token_type_hint`, which is not needed). A refresh token or a \
                   live access token ends its session; an unknown or invalid token changes \
                   nothing and is answered 200 all the same. A service client's own access \
                   token has no session: `unsupported_token_type`.",
    request_body(content = TokenParameterForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked, or nothing to revoke"),
        (status = 400, description = "`invalid_request` or `unsupported_token_type`", body = tessera_api::OAuthError),
        OAuthFailures
    )
)]
/// `POST /oauth/revoke`.
pub(crate) async fn revoke(call: ClientCall) -> Result<HttpResponse, ApiError> {
    let token = call.form.required("token")?.to_owned();
    call.run(move |auth, credentials, sender| auth.revoke(credentials, &token, sender))
        .await?;
    let mut response = HttpResponse::Ok().finish();
    no_store(&mut response);
    Ok(response)
}
