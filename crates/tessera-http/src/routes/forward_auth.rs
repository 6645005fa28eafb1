//! Forward auth for reverse proxies (nginx `auth_request`, Caddy `forward_auth`, Traefik
//! `ForwardAuth`): "may this request pass?", answered from the session cookie or a Bearer
//! token, and the check of the sign-in page's return URL. The rules are the domain's
//! (`Auth::forward`, `Auth::may_return_to`); here is only how proxies speak.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use tessera_api::RedirectTarget;
use tessera_domain::{Credential, ForwardDecision};
use url::Url;

use crate::auth::request_credentials;
use crate::authorization::Credentials;
use crate::blocking::blocking;
use crate::browser_session::{SESSION_COOKIE, cookie};
use crate::error::{ApiError, Challenge};
use crate::routes::tutorial::no_store;
use crate::state::AppState;

/// Where the proxy says the request was going, and how it said so.
struct Target {
    url: Url,
    /// Said with `X-Original-URL`: nginx, whose `auth_request` passes on only 2xx, 401
    /// and 403, so the sign-in redirect travels as a 401 with `Location`.
    nginx: bool,
}

/// The value of header `name`, if sent; several (a client's beside the proxy's), or one
/// that is not visible ASCII, are refused: which host is meant would be a guess.
fn single_header<'a>(request: &'a HttpRequest, name: &str) -> Result<Option<&'a str>, ApiError> {
    let mut values = request.headers().get_all(name);
    match (values.next(), values.next()) {
        (None, _) => Ok(None),
        (Some(value), None) => value
            .to_str()
            .map(Some)
            .map_err(|_| ApiError::host_not_allowed()),
        (Some(_), Some(_)) => Err(ApiError::host_not_allowed()),
    }
}

/// The original URL from `X-Original-URL`, or `X-Forwarded-Proto`, `-Host` and `-Uri`;
/// `Err` when the proxy sent one that is not an http(s) URL with a host.
fn target(request: &HttpRequest) -> Result<Option<Target>, ApiError> {
    let (url, nginx) = if let Some(url) = single_header(request, "x-original-url")? {
        (url.to_owned(), true)
    } else if let Some(host) = single_header(request, "x-forwarded-host")? {
        let proto = single_header(request, "x-forwarded-proto")?.unwrap_or("https");
        let uri = single_header(request, "x-forwarded-uri")?.unwrap_or("/");
        if !uri.starts_with('/') || host.contains(['/', '\\', '@', ',']) {
            return Err(ApiError::host_not_allowed());
        }
        (format!("{proto}://{host}{uri}"), false)
    } else {
        return Ok(None);
    };
    let url = web_url(&url).ok_or_else(ApiError::host_not_allowed)?;
    // A proxy that sets X-Forwarded-Host but passes a client's X-Original-URL on would let
    // the client choose which host's rules apply: when both are there, they must agree.
    if let (true, Some(forwarded)) = (nginx, single_header(request, "x-forwarded-host")?) {
        let forwarded = forwarded
            .rsplit_once(':')
            .map_or(forwarded, |(host, _)| host);
        if !url
            .host_str()
            .is_some_and(|host| host.eq_ignore_ascii_case(forwarded))
        {
            return Err(ApiError::host_not_allowed());
        }
    }
    Ok(Some(Target { url, nginx }))
}

/// `text` as an http(s) URL with a host and no user name or password.
fn web_url(text: &str) -> Option<Url> {
    let url = Url::parse(text).ok()?;
    let plain = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some()
        && url.username().is_empty()
        && url.password().is_none();
    plain.then_some(url)
}

#[utoipa::path(
    method(get, head, post, put, delete, patch, options, trace),
    path = "/api/v1/forward-auth",
    tag = "forward-auth",
    description = "For reverse proxies (any method): may the request pass? Reads the session cookie or a Bearer token, and where the request was going from `X-Original-URL` (nginx) or `X-Forwarded-Proto`/`-Host`/`-Uri` (Caddy, Traefik). 200 with `Remote-User`, `Remote-User-Id` (and `Remote-Token` when configured); not signed in: 302 to the sign-in page (a 401 with `Location` for nginx), or 401 when the target is unknown; 403 for a host outside the forward-auth domains or a user a rule keeps out.",
    params(
        ("X-Original-URL" = Option<String>, Header, description = "The original URL (nginx)"),
        ("X-Forwarded-Host" = Option<String>, Header, description = "The original host (Caddy, Traefik)"),
        ("X-Forwarded-Proto" = Option<String>, Header, description = "The original scheme"),
        ("X-Forwarded-Uri" = Option<String>, Header, description = "The original path and query"),
    ),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Signed in and allowed", headers(
            ("Remote-User" = String, description = "The username (UTF-8)"),
            ("Remote-User-Id" = String, description = "The user id"),
            ("Remote-Token" = String, description = "A 60-second access token for the upstream, when configured"),
        )),
        (status = 302, description = "Not signed in: to the sign-in page, which returns to the original URL", headers(("Location" = String, description = "The sign-in page with `rd`"))),
        (status = 401, description = "Not signed in (with `Location` when nginx said where to)", body = tessera_api::Problem, content_type = "application/problem+json"),
        (status = 403, description = "A host outside the forward-auth domains, or a user a rule keeps out", body = tessera_api::Problem, content_type = "application/problem+json"),
        crate::problems::Unavailable
    )
)]
/// `* /api/v1/forward-auth`.
pub(crate) async fn check(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let target = target(&request)?;
    // A Basic header belongs to the app behind the proxy, not to Tessera.
    let bearer = match request_credentials(&request, Challenge::Bearer) {
        Ok(Some(Credentials::Bearer(token))) => Some(token),
        _ => None,
    };
    let session_cookie = cookie(&request, SESSION_COOKIE);
    let host = target
        .as_ref()
        .and_then(|target| target.url.host_str())
        .map(str::to_owned);
    let auth = state.auth.clone();
    let decision = blocking(move || {
        let credential = match (&bearer, &session_cookie) {
            (Some(token), _) => Credential::Bearer(token),
            (None, Some(cookie)) => Credential::SessionCookie(cookie),
            (None, None) => Credential::None,
        };
        auth.forward(credential, host.as_deref())
    })
    .await?;
    let mut response = match decision {
        ForwardDecision::Admit {
            user,
            upstream_token,
        } => {
            let mut response = HttpResponse::Ok();
            // Usernames hold no control characters; non-ASCII ones travel as UTF-8 bytes.
            if let Ok(name) = header::HeaderValue::from_bytes(user.username.as_bytes()) {
                response.insert_header(("Remote-User", name));
            }
            response.insert_header(("Remote-User-Id", user.id.to_string()));
            if let Some(token) = upstream_token {
                response.insert_header(("Remote-Token", token));
            }
            response.finish()
        }
        ForwardDecision::SignIn => sign_in(&state, target.as_ref()),
        ForwardDecision::Unauthenticated => {
            ApiError::missing_credentials(Challenge::Bearer).error_response()
        }
        ForwardDecision::HostNotAllowed => ApiError::host_not_allowed().error_response(),
        ForwardDecision::Forbidden => ApiError::access_denied().error_response(),
    };
    no_store(&mut response);
    Ok(response)
}

/// Not signed in, going to an allowed host: to the sign-in page, which sends the user back.
fn sign_in(state: &AppState, target: Option<&Target>) -> HttpResponse {
    let unauthenticated = ApiError::missing_credentials(Challenge::Bearer).error_response();
    let (Some(target), Some(issuer)) = (target, state.auth.issuer()) else {
        return unauthenticated;
    };
    let rd: String = url::form_urlencoded::byte_serialize(target.url.as_str().as_bytes()).collect();
    let location = format!("{}/login?rd={rd}", issuer.trim_end_matches('/'));
    let mut response = if target.nginx {
        unauthenticated
    } else {
        HttpResponse::build(StatusCode::FOUND).finish()
    };
    if let Ok(location) = header::HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

#[utoipa::path(
    get,
    path = "/api/v1/forward-auth/redirect",
    tag = "forward-auth",
    description = "Checks a return URL for the sign-in page: an http(s) URL on one of the forward-auth domains is given back; anything else is refused, so the page is never an open redirect.",
    params(("rd" = String, Query, description = "The URL to return to")),
    responses(
        (status = 200, description = "The URL may be returned to", body = tessera_api::RedirectTarget),
        (status = 400, description = "Missing, repeated, not http(s), or on another host", body = tessera_api::Problem, content_type = "application/problem+json"),
    )
)]
/// `GET /api/v1/forward-auth/redirect?rd=…`.
pub(crate) async fn redirect(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let mut rd = url::form_urlencoded::parse(request.query_string().as_bytes())
        .filter(|(name, _)| name == "rd")
        .map(|(_, value)| value.into_owned());
    let (Some(rd), None) = (rd.next(), rd.next()) else {
        return Err(ApiError::redirect_not_allowed());
    };
    let url = web_url(&rd)
        .filter(|url| {
            url.host_str()
                .is_some_and(|host| state.auth.may_return_to(host))
        })
        .ok_or_else(ApiError::redirect_not_allowed)?;
    Ok(HttpResponse::Ok().json(RedirectTarget { url: url.into() }))
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn target_of(headers: &[(&str, &str)]) -> Result<Option<(String, bool)>, StatusCode> {
        let request = headers
            .iter()
            .fold(TestRequest::default(), |r, h| r.append_header(*h))
            .to_http_request();
        target(&request)
            .map(|t| t.map(|t| (t.url.to_string(), t.nginx)))
            .map_err(|e| e.status_code())
    }

    #[test]
    fn the_original_url_comes_from_either_convention() {
        assert_eq!(
            target_of(&[(
                "x-original-url",
                "https://app1.tessera.test:8443/private?a=1"
            )]),
            Ok(Some((
                "https://app1.tessera.test:8443/private?a=1".into(),
                true
            )))
        );
        assert_eq!(
            target_of(&[
                ("x-forwarded-proto", "https"),
                ("x-forwarded-host", "app1.tessera.test"),
                ("x-forwarded-uri", "/x?y=z"),
            ]),
            Ok(Some(("https://app1.tessera.test/x?y=z".into(), false)))
        );
        assert_eq!(target_of(&[]), Ok(None));
        assert_eq!(
            target_of(&[
                ("x-original-url", "https://app1.tessera.test:8443/"),
                ("x-forwarded-host", "APP1.tessera.test:8443"),
            ]),
            Ok(Some(("https://app1.tessera.test:8443/".into(), true))),
            "both, agreeing"
        );
    }

    #[test]
    fn a_target_that_is_not_a_plain_web_url_is_refused() {
        for headers in [
            vec![("x-original-url", "javascript:alert(1)")],
            vec![("x-original-url", "https://app1.tessera.test@evil.example/")],
            vec![("x-original-url", "not a url")],
            vec![
                ("x-forwarded-host", "evil.example/x"),
                ("x-forwarded-uri", "/"),
            ],
            vec![("x-forwarded-host", "a.test, evil.example")],
            vec![
                ("x-forwarded-host", "app1.tessera.test"),
                ("x-forwarded-uri", "@evil.example"),
            ],
            vec![
                ("x-forwarded-host", "app1.tessera.test"),
                ("x-forwarded-proto", "ftp"),
            ],
            vec![
                ("x-original-url", "https://app1.tessera.test/"),
                ("x-forwarded-host", "app2.tessera.test"),
            ],
        ] {
            assert_eq!(
                target_of(&headers),
                Err(StatusCode::FORBIDDEN),
                "{headers:?}"
            );
        }
        // Two values, one of them perhaps the client's: no guessing which host is meant.
        assert_eq!(
            target_of(&[
                ("x-original-url", "https://app1.tessera.test/"),
                ("x-original-url", "https://evil.example/"),
            ]),
            Err(StatusCode::FORBIDDEN)
        );
    }
}
