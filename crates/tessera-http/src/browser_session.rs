//! Browser sessions by cookie: the refresh token in an HttpOnly cookie that only the
//! refresh route receives, a session cookie for forward auth (and a cookie sign-out), and
//! the check that keeps other sites from making a browser use them (CSRF).
//!
//! Both cookies are `HttpOnly` (no script reads them), `SameSite=Lax` (no cross-site
//! subrequest or POST carries them) and `Secure` unless the request came to a loopback
//! host, where `make run` serves plain http. The refresh cookie is host-only; the session
//! cookie takes the configured domain, so apps on its subdomains share the sign-in.
//! Requests that a cookie authenticates must also come from Tessera's own pages or a
//! listed CORS origin ([`require_same_origin`]): see `docs/forward-auth.md` for the design
//! against OWASP's CSRF cheat sheet.

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

use crate::error::ApiError;

/// The refresh token's cookie.
pub const REFRESH_COOKIE: &str = "tessera_refresh";
/// The session cookie forward auth reads.
pub const SESSION_COOKIE: &str = "tessera_session";
/// The refresh cookie goes to this route only.
const REFRESH_PATH: &str = "/api/v1/tokens/refresh";

/// How browser sessions are set up, from configuration.
#[derive(Debug, Clone, Default)]
pub struct CookieSettings {
    /// The session cookie's `Domain`, to share the sign-in across subdomains.
    pub domain: Option<String>,
    /// Origins besides Tessera's own whose pages may use the cookies (the listed CORS
    /// origins; never `*`).
    pub trusted_origins: Vec<String>,
}

impl CookieSettings {
    /// Sets both cookies of a session on `response`: `refresh_token` and `session_cookie`,
    /// for `max_age` (until the session's absolute end).
    pub(crate) fn set(
        &self,
        response: &mut HttpResponse,
        request: &HttpRequest,
        refresh_token: &str,
        session_cookie: &str,
        max_age: chrono::Duration,
    ) {
        let max_age = time::Duration::seconds(max_age.num_seconds().max(0));
        for mut cookie in self.cookies(request, refresh_token, session_cookie) {
            cookie.set_max_age(max_age);
            add(response, &cookie);
        }
    }

    /// Ends both cookies on `response`.
    pub(crate) fn clear(&self, response: &mut HttpResponse, request: &HttpRequest) {
        for mut cookie in self.cookies(request, "", "") {
            cookie.make_removal();
            add(response, &cookie);
        }
    }

    fn cookies<'a>(
        &'a self,
        request: &HttpRequest,
        refresh_token: &'a str,
        session_cookie: &'a str,
    ) -> [Cookie<'a>; 2] {
        let secure = !is_loopback(request_host(request).unwrap_or_default());
        let refresh = Cookie::build(REFRESH_COOKIE, refresh_token).path(REFRESH_PATH);
        let mut session = Cookie::build(SESSION_COOKIE, session_cookie).path("/");
        if let Some(domain) = &self.domain {
            session = session.domain(domain.as_str());
        }
        [refresh, session].map(|cookie| {
            cookie
                .http_only(true)
                .same_site(SameSite::Lax)
                .secure(secure)
                .finish()
        })
    }

    /// Refuses a cookie-authenticated request made by another site: its `Origin` must be
    /// Tessera's own (the host it was sent to) or a trusted origin; without `Origin`, a
    /// `Sec-Fetch-Site` other than `same-origin` or `none` is refused. A request with
    /// neither header comes from no browser that would send the cookie cross-site.
    pub(crate) fn require_same_origin(&self, request: &HttpRequest) -> Result<(), ApiError> {
        let headers = request.headers();
        if let Some(origin) = headers.get(header::ORIGIN) {
            let origin = origin.to_str().unwrap_or_default();
            let own = request_host(request).is_some_and(|host| {
                authority(origin).is_some_and(|a| a.eq_ignore_ascii_case(host))
            });
            if own || self.trusted_origins.iter().any(|trusted| trusted == origin) {
                return Ok(());
            }
            return Err(ApiError::cross_site_request());
        }
        match headers.get("sec-fetch-site").map(|value| value.as_bytes()) {
            None | Some(b"same-origin" | b"none") => Ok(()),
            Some(_) => Err(ApiError::cross_site_request()),
        }
    }
}

fn add(response: &mut HttpResponse, cookie: &Cookie<'_>) {
    if let Ok(value) = header::HeaderValue::from_str(&cookie.encoded().to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// A cookie's value, when the request carries exactly one cookie of that name: two (one
/// planted by a sibling subdomain, say) are ambiguous, so neither counts.
pub(crate) fn cookie(request: &HttpRequest, name: &str) -> Option<String> {
    let cookies = request.cookies().ok()?;
    let mut named = cookies.iter().filter(|cookie| cookie.name() == name);
    let value = named.next()?.value().to_owned();
    named.next().is_none().then_some(value)
}

/// The `Host` header: where the browser sent the request.
fn request_host(request: &HttpRequest) -> Option<&str> {
    request.headers().get(header::HOST)?.to_str().ok()
}

/// `host[:port]` of an `http(s)://host[:port]` origin.
fn authority(origin: &str) -> Option<&str> {
    origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .filter(|rest| !rest.is_empty() && !rest.contains('/'))
}

/// Whether `host` (with or without a port) is the loopback interface.
fn is_loopback(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name.to_ascii_lowercase().ends_with(".localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn loopback_hosts_are_told_apart_from_others() {
        for host in [
            "127.0.0.1:8080",
            "localhost",
            "LOCALHOST:1",
            "[::1]:80",
            "a.localhost",
            "127.1.2.3",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "auth.tessera.test:8443",
            "10.0.0.1",
            "localhost.evil.example",
            "[::2]:80",
            "",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    fn check(headers: &[(&str, &str)]) -> Result<(), &'static str> {
        let settings = CookieSettings {
            domain: None,
            trusted_origins: vec!["https://app.example.com".into()],
        };
        let request = headers
            .iter()
            .fold(
                TestRequest::default().insert_header(("host", "auth.example.com")),
                |r, h| r.insert_header(*h),
            )
            .to_http_request();
        settings
            .require_same_origin(&request)
            .map_err(|_| "refused")
    }

    #[test]
    fn only_own_or_trusted_origins_may_use_the_cookies() {
        assert!(check(&[("origin", "https://auth.example.com")]).is_ok());
        assert!(check(&[("origin", "https://AUTH.example.com")]).is_ok());
        assert!(check(&[("origin", "https://app.example.com")]).is_ok());
        assert!(check(&[]).is_ok(), "no browser header: not a browser");
        assert!(check(&[("sec-fetch-site", "same-origin")]).is_ok());
        assert!(check(&[("sec-fetch-site", "none")]).is_ok());
        for refused in [
            vec![("origin", "https://evil.example")],
            vec![("origin", "null")],
            vec![("origin", "https://auth.example.com.evil.example")],
            vec![("origin", "https://auth.example.com/x")],
            vec![
                ("origin", "https://other.example.com"),
                ("sec-fetch-site", "same-site"),
            ],
            vec![("sec-fetch-site", "cross-site")],
            vec![("sec-fetch-site", "same-site")],
        ] {
            assert_eq!(check(&refused), Err("refused"), "{refused:?}");
        }
    }
}
