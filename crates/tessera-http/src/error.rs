//! The HTTP layer's one error type, and the one place where errors become responses.
//!
//! Handlers and extractors return [`ApiError`]; domain errors convert into it. Every error
//! leaves as an RFC 9457 problem body with a stable `code`. Internal causes are logged
//! here and never sent to the client.

use actix_web::error::{JsonPayloadError, PayloadError};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use tessera_api::{OAuthError, PROBLEM_CONTENT_TYPE, Problem, codes};

/// Which `WWW-Authenticate` challenge a 401 carries: the tutorial's routes speak HTTP
/// Basic (its clients expect it), the versioned API speaks Bearer (RFC 6750), which does
/// not make browsers open a password dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge {
    /// `Basic realm="tessera", charset="UTF-8"`
    Basic,
    /// `Bearer realm="tessera"`, with an RFC 6750 `error=` when a token was presented.
    Bearer,
}

/// An error answered to the client.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    detail: String,
    field: Option<&'static str>,
    challenge: Option<Challenge>,
    allow: Option<&'static str>,
    retry_after: Option<i64>,
    /// Close the connection after answering: the rest of the request cannot be trusted.
    close: bool,
    /// Answer in RFC 6749 §5.2's shape (`error`, `error_description`): the OAuth endpoints.
    oauth: bool,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            detail: detail.into(),
            field: None,
            challenge: None,
            allow: None,
            retry_after: None,
            close: false,
            oauth: false,
        }
    }

    /// 400: the body is not the JSON the route expects.
    pub fn invalid_body(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, codes::INVALID_BODY, detail)
    }

    /// 400: one field breaks its rules; the detail is shown next to that field.
    pub fn invalid_field(field: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            field: Some(field),
            ..ApiError::new(StatusCode::BAD_REQUEST, codes::INVALID_FIELD, detail)
        }
    }

    /// 401: wrong username or password, identical whichever was wrong.
    pub fn invalid_credentials(challenge: Challenge) -> ApiError {
        ApiError {
            challenge: Some(challenge),
            ..ApiError::new(
                StatusCode::UNAUTHORIZED,
                codes::INVALID_CREDENTIALS,
                "invalid username or password",
            )
        }
    }

    /// 401: the route needs credentials and none came.
    pub fn missing_credentials(challenge: Challenge) -> ApiError {
        ApiError {
            challenge: Some(challenge),
            ..ApiError::new(
                StatusCode::UNAUTHORIZED,
                codes::MISSING_CREDENTIALS,
                "this resource needs a token: send Authorization: Bearer <token>",
            )
        }
    }

    /// 401: the token is malformed, forged, expired, or its user is gone.
    pub fn invalid_token(challenge: Challenge, detail: impl Into<String>) -> ApiError {
        ApiError {
            challenge: Some(challenge),
            ..ApiError::new(StatusCode::UNAUTHORIZED, codes::INVALID_TOKEN, detail)
        }
    }

    /// The `Authorization` header cannot be parsed: 400 on Bearer routes (RFC 6750
    /// `invalid_request`), 401 on the tutorial's Basic routes so its clients re-prompt.
    pub fn invalid_authorization(challenge: Challenge, detail: impl Into<String>) -> ApiError {
        let status = match challenge {
            Challenge::Basic => StatusCode::UNAUTHORIZED,
            Challenge::Bearer => StatusCode::BAD_REQUEST,
        };
        ApiError {
            challenge: Some(challenge),
            ..ApiError::new(status, codes::INVALID_AUTHORIZATION, detail)
        }
    }

    /// 400 on every route: several `Authorization` headers. Taking one would let a proxy
    /// and this server read different credentials from one request.
    pub fn several_authorizations(challenge: Challenge) -> ApiError {
        ApiError {
            // Basic clients would re-prompt for a password on a challenge; Bearer's names
            // the RFC 6750 error.
            challenge: (challenge == Challenge::Bearer).then_some(challenge),
            ..ApiError::new(
                StatusCode::BAD_REQUEST,
                codes::INVALID_AUTHORIZATION,
                "send one Authorization header, not several",
            )
        }
    }

    /// 401: a refresh token that is unknown, used already, expired, or of an ended session.
    pub fn invalid_refresh_token() -> ApiError {
        ApiError {
            challenge: Some(Challenge::Bearer),
            ..ApiError::new(
                StatusCode::UNAUTHORIZED,
                codes::INVALID_REFRESH_TOKEN,
                "the refresh token is not valid; sign in again",
            )
        }
    }

    /// 429: too many attempts; try again after `retry_after` (sent as `Retry-After`).
    pub fn too_many_attempts(retry_after: chrono::Duration) -> ApiError {
        let seconds = (retry_after.num_milliseconds() + 999) / 1000;
        ApiError {
            retry_after: Some(seconds.max(1)),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                codes::TOO_MANY_ATTEMPTS,
                "too many attempts; try again later",
            )
        }
    }

    /// 400 `invalid_request` (RFC 6749 §5.2): a parameter missing, repeated or malformed.
    pub fn invalid_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, codes::INVALID_REQUEST, detail).in_oauth_shape()
    }

    /// 401 `invalid_client`, with the Basic challenge RFC 6749 §5.2 asks for.
    pub fn invalid_client() -> ApiError {
        ApiError {
            challenge: Some(Challenge::Basic),
            ..ApiError::new(
                StatusCode::UNAUTHORIZED,
                codes::INVALID_CLIENT,
                "client authentication failed",
            )
        }
        .in_oauth_shape()
    }

    /// 400 `unsupported_grant_type`.
    pub fn unsupported_grant_type() -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::UNSUPPORTED_GRANT_TYPE,
            "the only grant type is client_credentials",
        )
        .in_oauth_shape()
    }

    /// Answers this error in the OAuth endpoints' shape (RFC 6749 §5.2) instead of a
    /// problem body; its `error` is the OAuth code nearest to this error's.
    pub fn in_oauth_shape(self) -> ApiError {
        ApiError {
            oauth: true,
            ..self
        }
    }

    /// The `error` of the OAuth shape: the OAuth codes as they are, the others mapped.
    fn oauth_code(&self) -> &'static str {
        match self.code {
            codes::INVALID_REQUEST
            | codes::INVALID_CLIENT
            | codes::UNSUPPORTED_GRANT_TYPE
            | codes::INVALID_SCOPE
            | codes::UNSUPPORTED_TOKEN_TYPE
            | codes::TOO_MANY_ATTEMPTS => self.code,
            codes::SERVICE_UNAVAILABLE => "temporarily_unavailable",
            codes::INTERNAL => "server_error",
            _ => codes::INVALID_REQUEST,
        }
    }

    /// 403: a cookie-authenticated request that another site made the browser send.
    pub fn cross_site_request() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            codes::CROSS_SITE_REQUEST,
            "this request came from another site (Origin or Sec-Fetch-Site); a session \
             cookie is honoured only on requests from Tessera's own pages or a listed origin",
        )
    }

    /// 403: forward auth for a host Tessera does not guard (never a redirect to it).
    pub fn host_not_allowed() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            codes::REDIRECT_NOT_ALLOWED,
            "this host is not one of the forward-auth domains",
        )
    }

    /// 400: a return URL (`rd`) that is not http(s) on a host forward auth guards.
    pub fn redirect_not_allowed() -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::REDIRECT_NOT_ALLOWED,
            "rd must be an http(s) URL on one of the forward-auth domains",
        )
    }

    /// 403: signed in, but a forward-auth rule keeps this user out of the host.
    pub fn access_denied() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            codes::ACCESS_DENIED,
            "this account may not enter this host",
        )
    }

    /// 404.
    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, codes::NOT_FOUND, "no such resource")
    }

    /// 405, with the `Allow` header RFC 9110 requires.
    pub fn method_not_allowed(allow: &'static str) -> ApiError {
        ApiError {
            allow: Some(allow),
            ..ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                codes::METHOD_NOT_ALLOWED,
                format!("this resource allows only {allow}"),
            )
        }
    }

    /// 409: the username is registered already.
    pub fn username_taken() -> ApiError {
        ApiError {
            field: Some("username"),
            ..ApiError::new(
                StatusCode::CONFLICT,
                codes::USERNAME_TAKEN,
                "this username is already taken",
            )
        }
    }

    /// 413.
    pub fn payload_too_large(limit: usize) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            codes::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than {limit} bytes"),
        )
    }

    /// 415.
    pub fn unsupported_media_type() -> ApiError {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            codes::UNSUPPORTED_MEDIA_TYPE,
            "send the body as Content-Type: application/json",
        )
    }

    /// 408: the body did not arrive within `timeout`; the connection closes.
    pub fn request_timeout(timeout: std::time::Duration) -> ApiError {
        ApiError {
            close: true,
            ..ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                codes::REQUEST_TIMEOUT,
                format!(
                    "the request body did not arrive within {} seconds",
                    timeout.as_secs_f64()
                ),
            )
        }
    }

    /// 431: the request line and headers exceed `limit` bytes; the connection closes.
    pub fn headers_too_large(limit: usize) -> ApiError {
        ApiError {
            close: true,
            ..ApiError::new(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                codes::HEADERS_TOO_LARGE,
                format!(
                    "the request line and headers are larger than {} KiB",
                    limit / 1024
                ),
            )
        }
    }

    /// 403 (origin, method or headers not allowed) or 400 (a malformed preflight): the
    /// CORS policy refuses the request.
    pub fn cors_refused(status: StatusCode, detail: impl Into<String>) -> ApiError {
        ApiError::new(status, codes::CORS_REFUSED, detail)
    }

    /// A JSON body that could not be read or parsed, in plain words: never the client's
    /// input echoed back (it may hold a password) nor Rust's `Debug` text. `limit` is the
    /// configured size bound.
    pub fn from_json_error(error: JsonPayloadError, limit: usize) -> ApiError {
        match error {
            JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
                ApiError::payload_too_large(limit)
            }
            JsonPayloadError::ContentType => ApiError::unsupported_media_type(),
            JsonPayloadError::Deserialize(e) => ApiError::invalid_body(describe_json_error(&e)),
            JsonPayloadError::Payload(e) => ApiError::from_payload_error(&e, limit),
            _ => ApiError::invalid_body("the body could not be read"),
        }
    }

    /// A body whose bytes could not be read: its deadline passed ([`BodyTimedOut`]), it was
    /// too large, cut short, or not in its `Content-Encoding`.
    pub(crate) fn from_payload_error(error: &PayloadError, limit: usize) -> ApiError {
        if let PayloadError::Io(e) = error {
            if let Some(BodyTimedOut(timeout)) = e.get_ref().and_then(|e| e.downcast_ref()) {
                return ApiError::request_timeout(*timeout);
            }
        }
        match error {
            PayloadError::Overflow => ApiError::payload_too_large(limit),
            // actix reports a decoder's failure as an incomplete body with the cause.
            PayloadError::Incomplete(None) => {
                ApiError::invalid_body("the body ended before its declared length")
            }
            PayloadError::Incomplete(Some(_))
            | PayloadError::EncodingCorrupted
            | PayloadError::Io(_) => ApiError::invalid_body(
                "the body is not in the Content-Encoding it names (gzip or deflate)",
            ),
            _ => ApiError::invalid_body("the body could not be read"),
        }
    }

    /// 415: a `Content-Encoding` other than one gzip or deflate (or identity); decoding
    /// it as identity would read a different body than the client sent.
    pub fn unsupported_content_encoding() -> ApiError {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            codes::UNSUPPORTED_MEDIA_TYPE,
            "unsupported Content-Encoding: send the body as identity, gzip or deflate",
        )
    }

    /// 503: the database cannot be reached; the cause goes to the log.
    pub fn unavailable(cause: &str) -> ApiError {
        tracing::warn!(%cause, "store unavailable");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            codes::SERVICE_UNAVAILABLE,
            "the service is temporarily unavailable; try again shortly",
        )
    }

    /// 500: a bug or unexpected state; the cause goes to the log, not the client.
    pub fn internal(cause: &str) -> ApiError {
        tracing::error!(%cause, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            codes::INTERNAL,
            "internal server error",
        )
    }

    /// The problem's stable code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    fn www_authenticate(&self) -> Option<String> {
        let challenge = self.challenge?;
        Some(match challenge {
            Challenge::Basic => r#"Basic realm="tessera", charset="UTF-8""#.to_owned(),
            Challenge::Bearer => match self.code {
                codes::INVALID_TOKEN => format!(
                    r#"Bearer realm="tessera", error="invalid_token", error_description="{}""#,
                    self.detail.replace('"', "'")
                ),
                codes::INVALID_AUTHORIZATION => {
                    r#"Bearer realm="tessera", error="invalid_request""#.to_owned()
                }
                _ => r#"Bearer realm="tessera""#.to_owned(),
            },
        })
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        if let Some(value) = self.www_authenticate() {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.insert_header((header::WWW_AUTHENTICATE, value));
            }
        }
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        if let Some(allow) = self.allow {
            response.insert_header((header::ALLOW, allow));
        }
        if self.close {
            response.force_close();
        }
        if self.oauth {
            return response.json(OAuthError {
                error: self.oauth_code().to_owned(),
                error_description: self.detail.clone(),
            });
        }
        let problem = Problem {
            type_uri: format!("/problems/{}", self.code),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.to_owned(),
            field: self.field.map(str::to_owned),
        };
        response.content_type(PROBLEM_CONTENT_TYPE);
        response.json(problem)
    }
}

/// The error a request body's stream ends with when its deadline passes; it travels inside
/// an `io::Error` through actix's extractors and becomes a 408 here.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the request body did not arrive in time")]
pub(crate) struct BodyTimedOut(pub(crate) std::time::Duration);

/// serde's message without echoing the client's input back (it may hold a password).
fn describe_json_error(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match error.classify() {
        Category::Syntax | Category::Eof => {
            format!(
                "the body is not valid JSON (line {}, column {})",
                error.line(),
                error.column()
            )
        }
        Category::Data => {
            let message = error.to_string();
            match message.split_once(" at line") {
                Some((what, _))
                    if what.starts_with("missing field") || what.starts_with("unknown field") =>
                {
                    format!("invalid body: {what}")
                }
                _ => {
                    "invalid body: expected {\"username\": string, \"password\": string}".to_owned()
                }
            }
        }
        Category::Io => "the body could not be read".to_owned(),
    }
}

impl From<tessera_domain::Error> for ApiError {
    fn from(error: tessera_domain::Error) -> ApiError {
        use tessera_domain::Error;
        match error {
            Error::InvalidUsername(e) => ApiError::invalid_field("username", e.to_string()),
            Error::InvalidPassword(e) => ApiError::invalid_field("password", e.to_string()),
            Error::UsernameTaken => ApiError::username_taken(),
            // Callers that can fail this way pick the challenge themselves; this default
            // keeps the conversion total.
            Error::InvalidCredentials => ApiError::invalid_credentials(Challenge::Bearer),
            Error::InvalidToken(refusal) => {
                ApiError::invalid_token(Challenge::Bearer, refusal.to_string())
            }
            // Routes that confirm a password name their own field; this is the default.
            Error::WrongPassword => ApiError::invalid_field("password", "the password is wrong"),
            Error::TooManyAttempts(retry_after) => ApiError::too_many_attempts(retry_after),
            Error::InvalidRefreshToken => ApiError::invalid_refresh_token(),
            Error::UserNotFound | Error::SessionNotFound => ApiError::not_found(),
            Error::Unavailable(cause) => ApiError::unavailable(&cause),
            Error::Internal(cause) => ApiError::internal(&cause),
            // No route rotates keys: only the CLI meets this.
            Error::RotationRefused(refusal) => ApiError::internal(&refusal.to_string()),
            Error::InvalidClient => ApiError::invalid_client(),
            Error::ClientNotFound => ApiError::not_found(),
            // No route adds clients: only the CLI meets this.
            Error::InvalidSetting(detail) => ApiError::invalid_body(detail),
            Error::InvalidScope(scope) => ApiError::new(
                StatusCode::BAD_REQUEST,
                codes::INVALID_SCOPE,
                format!("the client may not ask for scope {scope:?}"),
            )
            .in_oauth_shape(),
            Error::UnsupportedTokenType => ApiError::new(
                StatusCode::BAD_REQUEST,
                codes::UNSUPPORTED_TOKEN_TYPE,
                "a service client's access token has no session to end; it expires on its own",
            )
            .in_oauth_shape(),
        }
    }
}
