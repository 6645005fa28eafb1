//! Request and response bodies of the Tessera HTTP API.
//!
//! This crate depends on serde alone so that the web app (wasm32) and the server share one
//! definition of every body. Timestamps travel as RFC 3339 strings, ids as integers.

use serde::{Deserialize, Serialize};

pub mod policy;

/// Media type of every error body (RFC 9457).
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// `POST /api/v1/users`, `POST /api/v1/tokens` and the tutorial's `POST /api/users`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Credentials {
    /// The account name: 1–32 characters, no `:`, no control characters, no leading or
    /// trailing spaces; unique regardless of letter case.
    // utoipa takes only a literal for `max_length`; a test in tessera-http holds it to
    // `policy::USERNAME_MAX_CHARS`.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "miguel", min_length = 1, max_length = 32)
    )]
    pub username: String,
    /// The password in clear text; it only ever travels over the wire in a request body.
    /// New passwords: 8–1024 characters, not a common or trivially predictable one.
    #[cfg_attr(feature = "openapi", schema(example = "correct horse battery staple"))]
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A user as the versioned API shows it (`POST /api/v1/users`, `GET /api/v1/me`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserView {
    /// Stable numeric id; the `sub` claim of the user's tokens.
    pub id: i64,
    /// The account name as registered (case preserved).
    pub username: String,
    /// When the account was created, RFC 3339 in UTC.
    pub created_at: String,
}

/// `POST /api/v1/tokens` answer (RFC 6749 section 5.1 field names).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    /// The signed access token (a JWT).
    pub access_token: String,
    /// Always `"Bearer"`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Exchanged at `POST /api/v1/tokens/refresh` for a new pair; single use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(required = false, nullable = false))]
    pub refresh_token: Option<String>,
    /// The scope granted (`POST /oauth/token` when a scope was asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(required = false, nullable = false))]
    pub scope: Option<String>,
}

/// `POST /oauth/introspect` answer (RFC 7662 §2.2). An inactive token is `{"active": false}`
/// and nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Introspection {
    /// Whether the token is live: signature, expiry, issuer, session and user all hold.
    pub active: bool,
    /// The user id, or the service client's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(required = false, nullable = false))]
    pub sub: Option<String>,
    /// The user's name (users' tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(required = false, nullable = false))]
    pub username: Option<String>,
    /// The service client's id (clients' tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(required = false, nullable = false))]
    pub client_id: Option<String>,
    /// The scope (clients' tokens granted one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(required = false, nullable = false))]
    pub scope: Option<String>,
    /// The issuer, when the token names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(required = false, nullable = false))]
    pub iss: Option<String>,
    /// The audience: a string or an array of strings, as in the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(required = false, nullable = false, value_type = Object))]
    pub aud: Option<serde_json::Value>,
    /// Expiry, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(required = false, nullable = false))]
    pub exp: Option<i64>,
    /// Issued at, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(required = false, nullable = false))]
    pub iat: Option<i64>,
    /// The session (users' tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(required = false, nullable = false))]
    pub sid: Option<String>,
    /// `"access_token"` for an active token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(required = false, nullable = false))]
    pub token_type: Option<String>,
}

/// The error body of the OAuth endpoints (`/oauth/*`), in RFC 6749 §5.2's shape, which
/// OAuth client libraries read; every other route answers a [`Problem`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client`, `unsupported_grant_type`, `invalid_scope`,
    /// `unsupported_token_type`, `too_many_attempts`, `temporarily_unavailable` or
    /// `server_error`.
    pub error: String,
    /// What went wrong, in words.
    pub error_description: String,
}

/// `POST /api/v1/tokens/refresh`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshRequest {
    /// The refresh token of the last token response; omitted by a browser session, whose
    /// refresh token travels only in its HttpOnly cookie.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(required = false, nullable = false))]
    pub refresh_token: Option<String>,
}

/// How a sign-in hands over its refresh token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum SessionDelivery {
    /// In the response body (API clients).
    #[default]
    Body,
    /// Only as an HttpOnly cookie, with a session cookie for forward auth (browsers).
    Cookie,
}

/// `POST /api/v1/tokens`: the credentials, and how the session is handed over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignInRequest {
    /// The username and password.
    #[serde(flatten)]
    pub credentials: Credentials,
    /// `body` (the default) or `cookie`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = false))]
    pub session: SessionDelivery,
}

/// `GET /api/v1/forward-auth/redirect`: where the sign-in page may send the user back to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RedirectTarget {
    /// The URL, as validated against the allowed forward-auth domains.
    pub url: String,
}

impl std::fmt::Debug for RefreshRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshRequest(<redacted>)")
    }
}

/// `PUT /api/v1/me/password`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasswordChange {
    /// The password now.
    pub current_password: String,
    /// The new password (8–1024 characters, not a common one).
    pub new_password: String,
}

impl std::fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordChange(<redacted>)")
    }
}

/// `DELETE /api/v1/me`: the password again, so a stolen token cannot delete the account.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountDeletion {
    /// The account's password.
    pub password: String,
}

impl std::fmt::Debug for AccountDeletion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccountDeletion(<redacted>)")
    }
}

/// A signed-in session, as `GET /api/v1/sessions` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionView {
    /// The session id (`DELETE /api/v1/sessions/{id}` ends it).
    pub id: String,
    /// When the user signed in, RFC 3339.
    pub created_at: String,
    /// When the session was last refreshed, RFC 3339.
    pub last_used_at: String,
    /// When the session ends at the latest, RFC 3339.
    pub expires_at: String,
    /// Whether this is the session of the token making the request.
    pub current: bool,
    /// The `User-Agent` the session was started with (at most
    /// [`policy::USER_AGENT_MAX_CHARS`] characters, control characters dropped); absent
    /// when none was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The client address the server saw at sign-in (behind a trusted proxy, the
    /// forwarded one); absent when it was not known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// `GET /api/v1/web-settings`: what the operator configured for the web app's pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebSettings {
    /// Plain text shown under "Forgot your password?" on Sign in
    /// (`TESSERA_FORGOT_PASSWORD_NOTE`).
    pub forgot_password_note: String,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"<redacted>")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// The tutorial's `POST /api/users` answer: `{"username": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TutorialUser {
    /// The account name as registered.
    pub username: String,
}

/// An error body: RFC 9457 problem details with a stable machine-readable `code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// A URI reference naming the problem type: `/problems/<code>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short human-readable summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// Human-readable explanation of this occurrence, safe to show to a user.
    pub detail: String,
    /// Stable machine-readable code, e.g. `username_taken`; see [`codes`].
    pub code: String,
    /// Which request field the problem concerns, when it concerns one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(required = false, nullable = false))]
    pub field: Option<String>,
}

/// The stable values of [`Problem::code`].
pub mod codes {
    /// The body is not valid JSON or lacks a required field.
    pub const INVALID_BODY: &str = "invalid_body";
    /// A field failed validation (see `field`).
    pub const INVALID_FIELD: &str = "invalid_field";
    /// The username is already registered.
    pub const USERNAME_TAKEN: &str = "username_taken";
    /// Username or password wrong (deliberately not saying which).
    pub const INVALID_CREDENTIALS: &str = "invalid_credentials";
    /// No credentials were sent.
    pub const MISSING_CREDENTIALS: &str = "missing_credentials";
    /// The token is malformed, forged, expired or revoked.
    pub const INVALID_TOKEN: &str = "invalid_token";
    /// The refresh token is unknown, used already, expired or its session ended.
    pub const INVALID_REFRESH_TOKEN: &str = "invalid_refresh_token";
    /// The `Authorization` header could not be parsed.
    pub const INVALID_AUTHORIZATION: &str = "invalid_authorization";
    /// No such resource.
    pub const NOT_FOUND: &str = "not_found";
    /// The route exists but not with this method.
    pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
    /// The body is larger than the server accepts.
    pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
    /// The body has the wrong `Content-Type`.
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported_media_type";
    /// The body did not arrive within the server's deadline; the connection is closed.
    pub const REQUEST_TIMEOUT: &str = "request_timeout";
    /// The request line and headers together are larger than the server accepts.
    pub const HEADERS_TOO_LARGE: &str = "headers_too_large";
    /// A cross-origin request or preflight the CORS policy does not allow.
    pub const CORS_REFUSED: &str = "cors_refused";
    /// OAuth (RFC 6749 §5.2): the request lacks or repeats a parameter.
    pub const INVALID_REQUEST: &str = "invalid_request";
    /// OAuth: the client id and secret do not name a client.
    pub const INVALID_CLIENT: &str = "invalid_client";
    /// OAuth: a grant type other than `client_credentials`.
    pub const UNSUPPORTED_GRANT_TYPE: &str = "unsupported_grant_type";
    /// OAuth: a scope the client was not registered for.
    pub const INVALID_SCOPE: &str = "invalid_scope";
    /// OAuth (RFC 7009): a token revocation does not end.
    pub const UNSUPPORTED_TOKEN_TYPE: &str = "unsupported_token_type";
    /// A cookie-authenticated request from another site (`Origin` or `Sec-Fetch-Site`).
    pub const CROSS_SITE_REQUEST: &str = "cross_site_request";
    /// Forward auth: the signed-in user may not enter that host.
    pub const ACCESS_DENIED: &str = "access_denied";
    /// A return URL (`rd`) on a host outside the allowed forward-auth domains.
    pub const REDIRECT_NOT_ALLOWED: &str = "redirect_not_allowed";
    /// Too many attempts from this client or on this account; see `Retry-After`.
    pub const TOO_MANY_ATTEMPTS: &str = "too_many_attempts";
    /// The database cannot be reached right now.
    pub const SERVICE_UNAVAILABLE: &str = "service_unavailable";
    /// Something failed inside the server; details are in its log.
    pub const INTERNAL: &str = "internal_error";
}

/// `GET /healthz` and `GET /readyz` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// `"ok"` or `"unavailable"`.
    pub status: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_uses_rfc9457_field_names() {
        let problem = Problem {
            type_uri: "/problems/username_taken".into(),
            title: "Conflict".into(),
            status: 409,
            detail: "taken".into(),
            code: codes::USERNAME_TAKEN.into(),
            field: None,
        };
        let json = serde_json::to_value(&problem).unwrap();
        assert_eq!(json["type"], "/problems/username_taken");
        assert_eq!(json["status"], 409);
        assert!(json.get("field").is_none());
    }

    #[test]
    fn debug_never_shows_secrets() {
        let creds = Credentials {
            username: "ann".into(),
            password: "hunter22hunter22".into(),
        };
        assert!(!format!("{creds:?}").contains("hunter22"));
        let token = TokenResponse {
            access_token: "eyJsecret".into(),
            token_type: "Bearer".into(),
            expires_in: 600,
            refresh_token: Some("refresh-secret".into()),
            scope: None,
        };
        assert!(!format!("{token:?}").contains("eyJsecret"));
        assert!(!format!("{token:?}").contains("refresh-secret"));
    }
}
