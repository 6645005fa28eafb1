//! Talking to the Tessera API: the one request function and its error type.
//!
//! Every call goes through [`request`], so every call sends the token the same way and
//! every failure arrives as an [`ApiError`] that keeps what the server said. What a 401
//! means for the session is decided one level up, in [`crate::client::Client`].

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tessera_api::{
    Credentials, PROBLEM_CONTENT_TYPE, Problem, RedirectTarget, RefreshRequest, SignInRequest,
    TokenResponse, UserView, WebSettings,
};

/// Where the API lives, fixed when the app is built: `TESSERA_API_BASE=https://auth.example`
/// makes a bundle for another origin (the server must then allow it in its CORS settings);
/// unset, the app calls the origin that served it.
pub const API_BASE: &str = match option_env!("TESSERA_API_BASE") {
    Some(base) => base,
    None => "",
};

/// The URL of an API path such as `/api/v1/me`.
pub fn url(path: &str) -> String {
    format!("{}{path}", API_BASE.trim_end_matches('/'))
}

/// HTTP methods the app uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Read.
    Get,
    /// Create, or act.
    Post,
    /// Replace.
    Put,
    /// Remove.
    Delete,
}

/// Why a call failed.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The server answered with an error status: its problem body, or one made up from the
    /// status when the body was not a problem (a proxy's error page, say). Boxed: it is
    /// much larger than the other variants, and errors travel through every result.
    Status(Box<Refusal>),
    /// No answer: the network or the server is down, or the browser refused the request
    /// (CORS, content security policy).
    Network(String),
    /// A success status with a body the app cannot read: the server and the app disagree
    /// about the API, which the user cannot fix.
    Unexpected(String),
}

/// An answer with an error status.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// What the server said.
    pub problem: Problem,
    /// `Retry-After` in seconds, when the server sent it (429: how long a lockout lasts).
    pub retry_after_s: Option<u32>,
}

impl ApiError {
    /// The error for `problem`, without a `Retry-After`.
    pub fn refused(problem: Problem) -> ApiError {
        ApiError::Status(Box::new(Refusal {
            problem,
            retry_after_s: None,
        }))
    }

    fn problem(&self) -> Option<&Problem> {
        match self {
            ApiError::Status(refusal) => Some(&refusal.problem),
            _ => None,
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        self.problem().map(|problem| problem.status)
    }

    /// How many seconds the server asked the app to wait before trying again.
    pub fn retry_after_s(&self) -> Option<u32> {
        match self {
            ApiError::Status(refusal) => refusal.retry_after_s,
            _ => None,
        }
    }

    /// The server's stable problem code (`tessera_api::codes`), when it sent one.
    pub fn code(&self) -> Option<&str> {
        self.problem()
            .map(|problem| problem.code.as_str())
            .filter(|code| !code.is_empty())
    }

    /// The request field the problem concerns (`username`, `password`), if any.
    pub fn field(&self) -> Option<&str> {
        self.problem().and_then(|problem| problem.field.as_deref())
    }

    /// A message for the user: the server's own `detail` when it sent one.
    pub fn message(&self) -> String {
        if let (Some(429), Some(seconds)) = (self.status(), self.retry_after_s()) {
            return format!("too many attempts; try again in {}", wait_phrase(seconds));
        }
        match self {
            ApiError::Status(refusal) => refusal.problem.detail.clone(),
            ApiError::Network(_) => {
                "the server cannot be reached; check your connection and try again".into()
            }
            ApiError::Unexpected(_) => "the server sent an answer this page does not understand; reload the page and try again".into(),
        }
    }

    /// The error for a non-2xx answer with `body`: the server's problem if the body is one.
    pub fn from_response(status: u16, status_text: &str, body: &str) -> ApiError {
        match serde_json::from_str::<Problem>(body) {
            Ok(problem) => ApiError::refused(problem),
            Err(_) => {
                let title = if status_text.is_empty() {
                    format!("HTTP {status}")
                } else {
                    status_text.to_owned()
                };
                ApiError::refused(Problem {
                    type_uri: "about:blank".into(),
                    detail: format!("the server answered {status} {status_text}")
                        .trim_end()
                        .to_owned(),
                    title,
                    status,
                    code: String::new(),
                    field: None,
                })
            }
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Status(refusal) if refusal.problem.code.is_empty() => {
                write!(f, "{}: {}", refusal.problem.status, refusal.problem.detail)
            }
            ApiError::Status(refusal) => {
                let problem = &refusal.problem;
                write!(f, "{} {}: {}", problem.status, problem.code, problem.detail)
            }
            ApiError::Network(cause) => write!(f, "network error: {cause}"),
            ApiError::Unexpected(cause) => write!(f, "unexpected answer: {cause}"),
        }
    }
}

impl std::error::Error for ApiError {}

/// The one request function: sends `body` (as JSON) to `path` with `token` as a Bearer
/// credential when given, and reads a JSON answer (an empty one, as with 204, reads as
/// `null`, which `()` accepts); any non-2xx status becomes an [`ApiError::Status`] carrying
/// the server's problem. With `timeout_ms`, a request still unanswered by then is abandoned
/// as a network error.
pub async fn request<B, T>(
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&B>,
    timeout_ms: Option<u32>,
) -> Result<T, ApiError>
where
    B: Serialize + ?Sized,
    T: DeserializeOwned,
{
    let json = body.map(to_json).transpose()?;
    let text = send(method, path, token, json, timeout_ms).await?;
    from_json(&text)
}

/// `body` as JSON.
pub fn to_json<B: Serialize + ?Sized>(body: &B) -> Result<String, ApiError> {
    serde_json::to_string(body).map_err(|e| ApiError::Unexpected(e.to_string()))
}

/// A successful answer's body; empty (204) reads as `null`.
pub fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    let text = if text.is_empty() { "null" } else { text };
    serde_json::from_str(text).map_err(|e| ApiError::Unexpected(e.to_string()))
}

/// [`request`] without the types: the body as JSON text in, the answer's text out. Not
/// generic, so the bundle holds it once. Cookies go with every call: the session's
/// HttpOnly cookies for sign-in, renewal and sign-out (an app built for another origin
/// needs the server to allow credentials in its CORS settings).
pub async fn send(
    method: Method,
    path: &str,
    token: Option<&str>,
    json: Option<String>,
    timeout_ms: Option<u32>,
) -> Result<String, ApiError> {
    use reqwasm::http::{Method as HttpMethod, Request, RequestCredentials};

    let url = url(path);
    let method = match method {
        Method::Get => HttpMethod::GET,
        Method::Post => HttpMethod::POST,
        Method::Put => HttpMethod::PUT,
        Method::Delete => HttpMethod::DELETE,
    };
    let mut builder = Request::new(&url)
        .method(method)
        .credentials(RequestCredentials::Include)
        .header(
            "Accept",
            &format!("application/json, {PROBLEM_CONTENT_TYPE}"),
        );
    if let Some(token) = token {
        builder = builder.header("Authorization", &format!("Bearer {token}"));
    }
    if let Some(json) = json {
        builder = builder
            .header("Content-Type", "application/json")
            .body(json);
    }
    // Aborting needs the controller alive until the answer; the timer is cancelled on drop.
    let controller = timeout_ms.and_then(|_| web_sys::AbortController::new().ok());
    let _deadline = match (&controller, timeout_ms) {
        (Some(controller), Some(ms)) => {
            builder = builder.abort_signal(Some(&controller.signal()));
            let controller = controller.clone();
            Some(gloo_timers::callback::Timeout::new(ms, move || {
                controller.abort()
            }))
        }
        _ => None,
    };
    let response = builder
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    let text = response
        .text()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    if !response.ok() {
        let mut error = ApiError::from_response(response.status(), &response.status_text(), &text);
        if let ApiError::Status(refusal) = &mut error {
            refusal.retry_after_s = response
                .headers()
                .get("Retry-After")
                .and_then(|value| parse_retry_after(&value));
        }
        return Err(error);
    }
    Ok(text)
}

/// A wait of `seconds` as a person says it: "40 seconds", "5 minutes" (rounded up, so
/// trying again when told never meets the lock), "1 hour 5 minutes".
pub fn wait_phrase(seconds: u32) -> String {
    fn count(n: u32, unit: &str) -> String {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    }
    if seconds < 60 {
        return count(seconds.max(1), "second");
    }
    let minutes = seconds.div_ceil(60);
    match (minutes / 60, minutes % 60) {
        (0, minutes) => count(minutes, "minute"),
        (hours, 0) => count(hours, "hour"),
        (hours, minutes) => format!("{} {}", count(hours, "hour"), count(minutes, "minute")),
    }
}

/// `Retry-After` as seconds; the server sends only the delay form (RFC 9110 §10.2.3), so
/// an HTTP date, which a proxy might send, is ignored.
fn parse_retry_after(value: &str) -> Option<u32> {
    value.trim().parse().ok()
}

/// How long the app waits for an answer that decides over the session (a renewal, a
/// sign-out) before treating the server as unreachable.
pub const SESSION_CALL_TIMEOUT_MS: u32 = 10_000;

/// `POST /api/v1/users`: creates an account.
pub async fn register(credentials: &Credentials) -> Result<UserView, ApiError> {
    request(Method::Post, "/api/v1/users", None, Some(credentials), None).await
}

/// `POST /api/v1/tokens`: signs in; with `session: cookie` the refresh token arrives only
/// as an HttpOnly cookie.
pub async fn issue_token(sign_in: &SignInRequest) -> Result<TokenResponse, ApiError> {
    request(Method::Post, "/api/v1/tokens", None, Some(sign_in), None).await
}

/// `POST /api/v1/tokens/refresh` with `{}`: the refresh cookie, which the browser sends,
/// buys a new access token (and a new cookie).
pub async fn refresh() -> Result<TokenResponse, ApiError> {
    let body = RefreshRequest {
        refresh_token: None,
    };
    let path = "/api/v1/tokens/refresh";
    request(
        Method::Post,
        path,
        None,
        Some(&body),
        Some(SESSION_CALL_TIMEOUT_MS),
    )
    .await
}

/// How long signing out waits for the server before forgetting the session anyway.
const LOGOUT_TIMEOUT_MS: u32 = 5_000;

/// `POST /api/v1/logout`: ends the session of `access_token`, or without one the session
/// of the session cookie; the server clears both cookies.
pub async fn logout(access_token: Option<&str>) -> Result<(), ApiError> {
    let path = "/api/v1/logout";
    request::<(), ()>(
        Method::Post,
        path,
        access_token,
        None,
        Some(LOGOUT_TIMEOUT_MS),
    )
    .await
}

/// `GET /api/v1/web-settings`: what the operator configured for the pages.
pub async fn web_settings() -> Result<WebSettings, ApiError> {
    request::<(), _>(Method::Get, "/api/v1/web-settings", None, None, None).await
}

/// `GET /api/v1/forward-auth/redirect`: whether the server lets the app send the user to
/// `rd`, an absolute URL given by whoever linked to the app.
pub async fn redirect_target(rd: &str) -> Result<RedirectTarget, ApiError> {
    let path = format!(
        "/api/v1/forward-auth/redirect?rd={}",
        String::from(js_sys::encode_uri_component(rd))
    );
    request::<(), _>(
        Method::Get,
        &path,
        None,
        None,
        Some(SESSION_CALL_TIMEOUT_MS),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_servers_problem() {
        let body = r#"{"type":"/problems/username_taken","title":"Conflict","status":409,
            "detail":"the username is already taken","code":"username_taken","field":"username"}"#;
        let error = ApiError::from_response(409, "Conflict", body);
        assert_eq!(error.status(), Some(409));
        assert_eq!(error.code(), Some(tessera_api::codes::USERNAME_TAKEN));
        assert_eq!(error.field(), Some("username"));
        assert_eq!(error.message(), "the username is already taken");
        assert_eq!(
            error.to_string(),
            "409 username_taken: the username is already taken"
        );
    }

    #[test]
    fn a_body_that_is_not_a_problem_still_gives_the_status() {
        let error = ApiError::from_response(502, "Bad Gateway", "<html>oops</html>");
        assert_eq!(error.status(), Some(502));
        assert_eq!(error.code(), None);
        assert_eq!(error.field(), None);
        assert_eq!(error.message(), "the server answered 502 Bad Gateway");
        let error = ApiError::from_response(500, "", "");
        assert_eq!(error.message(), "the server answered 500");
    }

    #[test]
    fn network_errors_have_no_status_but_a_message() {
        let error = ApiError::Network("TypeError: Failed to fetch".into());
        assert_eq!(error.status(), None);
        assert!(error.message().contains("cannot be reached"));
        assert!(error.to_string().contains("Failed to fetch"), "cause kept");
    }

    #[test]
    fn a_lockout_says_how_long_it_lasts() {
        let mut error = ApiError::from_response(
            429,
            "Too Many Requests",
            r#"{"type":"/problems/too_many_attempts","title":"Too Many Requests","status":429,
                "detail":"too many attempts","code":"too_many_attempts"}"#,
        );
        assert_eq!(error.message(), "too many attempts");
        if let ApiError::Status(refusal) = &mut error {
            refusal.retry_after_s = Some(290);
        }
        assert_eq!(error.retry_after_s(), Some(290));
        assert_eq!(error.message(), "too many attempts; try again in 5 minutes");
    }

    #[test]
    fn waits_are_said_in_the_largest_units_rounded_up() {
        assert_eq!(wait_phrase(0), "1 second");
        assert_eq!(wait_phrase(1), "1 second");
        assert_eq!(wait_phrase(45), "45 seconds");
        assert_eq!(wait_phrase(60), "1 minute");
        assert_eq!(wait_phrase(61), "2 minutes");
        assert_eq!(wait_phrase(3600), "1 hour");
        assert_eq!(wait_phrase(3900), "1 hour 5 minutes");
        assert_eq!(wait_phrase(7260), "2 hours 1 minute");
    }

    #[test]
    fn retry_after_is_read_as_seconds_only() {
        assert_eq!(parse_retry_after("300"), Some(300));
        assert_eq!(parse_retry_after(" 7 "), Some(7));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after(""), None);
    }

    #[test]
    fn urls_join_the_configured_base() {
        assert_eq!(url("/api/v1/me"), format!("{API_BASE}/api/v1/me"));
    }
}
