//! Browser sessions by cookie, the reuse interval, and forward auth, on every backend:
//! what a browser, a proxy and a hostile caller each send, and what comes back.

use std::collections::HashMap;

use reqwest::header::SET_COOKIE;
use serde_json::{Value, json};
use tessera_server::config::{Config, ForwardAuthRule};
use tessera_store::Backend;

use crate::helpers::{ALLOWED_ORIGIN, PASSWORD, TestApp, header, problem, spawn_with};

const ISSUER: &str = "https://auth.tessera.test";

/// Tessera's own origin as a browser on its page would send it.
fn own_origin(app: &TestApp) -> String {
    app.base.clone()
}

/// The `Set-Cookie` headers of a response, by cookie name: the whole header each.
fn set_cookies(response: &reqwest::Response) -> HashMap<String, String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .map(|cookie| (cookie.split('=').next().unwrap().to_owned(), cookie))
        .collect()
}

/// A cookie's value in a `Set-Cookie` header.
fn value(set_cookie: &str) -> &str {
    set_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
}

async fn cookie_sign_in(app: &TestApp, username: &str, origin: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/tokens"))
        .header("origin", origin)
        .json(&json!({"username": username, "password": PASSWORD, "session": "cookie"}))
        .send()
        .await
        .unwrap()
}

/// Signs `username` in by cookie from Tessera's own page: (refresh cookie, session cookie).
async fn browser_session(app: &TestApp, username: &str) -> (String, String) {
    let response = cookie_sign_in(app, username, &own_origin(app)).await;
    assert_eq!(response.status(), 200);
    let cookies = set_cookies(&response);
    (
        value(&cookies["tessera_refresh"]).to_owned(),
        value(&cookies["tessera_session"]).to_owned(),
    )
}

async fn cookie_refresh(
    app: &TestApp,
    refresh: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    headers
        .iter()
        .fold(
            app.client.post(app.url("/api/v1/tokens/refresh")),
            |request, (name, value)| request.header(*name, *value),
        )
        .header("cookie", format!("tessera_refresh={refresh}"))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
}

async fn me_status(app: &TestApp, access_token: &str) -> u16 {
    app.get_bearer("/api/v1/me", access_token)
        .await
        .status()
        .as_u16()
}

async fn cookie_sign_in_keeps_the_refresh_token_in_http_only_cookies(backend: Backend) {
    let Some(app) = spawn_with(backend, |c| c.cookie_domain = Some("tessera.test".into())).await
    else {
        return;
    };
    app.register("carla").await;
    let response = cookie_sign_in(&app, "carla", &own_origin(&app)).await;
    assert_eq!(response.status(), 200);
    let cookies = set_cookies(&response);
    let body: Value = response.json().await.unwrap();
    assert!(
        body.get("refresh_token").is_none(),
        "not in the body: {body}"
    );
    let refresh = &cookies["tessera_refresh"];
    for attribute in [
        "HttpOnly",
        "SameSite=Lax",
        "Path=/api/v1/tokens/refresh",
        "Max-Age=",
    ] {
        assert!(refresh.contains(attribute), "{attribute} in {refresh}");
    }
    assert!(
        !refresh.contains("Domain"),
        "the refresh cookie stays host-only: {refresh}"
    );
    assert!(
        !refresh.contains("Secure"),
        "plain http on loopback: {refresh}"
    );
    let session = &cookies["tessera_session"];
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Domain=tessera.test"] {
        assert!(session.contains(attribute), "{attribute} in {session}");
    }
    assert_eq!(
        me_status(&app, body["access_token"].as_str().unwrap()).await,
        200
    );

    // Served under a real name (behind a proxy), both cookies are Secure.
    let named = app
        .client
        .post(app.url("/api/v1/tokens"))
        .header("host", "auth.tessera.test")
        .json(&json!({"username": "carla", "password": PASSWORD, "session": "cookie"}))
        .send()
        .await
        .unwrap();
    assert_eq!(named.status(), 200);
    assert!(set_cookies(&named).values().all(|c| c.contains("Secure")));

    // The cookie renews the session and is set again; the body still holds no refresh token.
    let refresh = value(refresh).to_owned();
    let renewed = cookie_refresh(&app, &refresh, &[("origin", &own_origin(&app))]).await;
    assert_eq!(renewed.status(), 200);
    let next = value(&set_cookies(&renewed)["tessera_refresh"]).to_owned();
    assert_ne!(next, refresh, "rotated");
    let body: Value = renewed.json().await.unwrap();
    assert!(body.get("refresh_token").is_none());
    assert_eq!(
        me_status(&app, body["access_token"].as_str().unwrap()).await,
        200
    );

    // No cookie and no token: refused, as a bad refresh token is.
    let none = app
        .client
        .post(app.url("/api/v1/tokens/refresh"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(none, 401).await["code"], "invalid_refresh_token");
}

async fn the_session_cookie_signs_out_and_the_cookies_are_cleared(backend: Backend) {
    let Some(app) = spawn_with(backend, |_| {}).await else {
        return;
    };
    app.register("olga").await;
    let (refresh, session) = browser_session(&app, "olga").await;
    let forged = format!("{}.{}", session.split_once('.').unwrap().0, "A".repeat(43));
    let logout = |cookie: String| {
        app.client
            .post(app.url("/api/v1/logout"))
            .header("cookie", format!("tessera_session={cookie}"))
            .header("origin", own_origin(&app))
            .send()
    };
    // A forged cookie naming the session ends nothing.
    assert_eq!(logout(forged).await.unwrap().status(), 204);
    assert_eq!(cookie_refresh(&app, &refresh, &[]).await.status(), 200);
    let (refresh, session) = browser_session(&app, "olga").await;
    let out = logout(session).await.unwrap();
    assert_eq!(out.status(), 204);
    let cleared = set_cookies(&out);
    assert!(
        cleared["tessera_refresh"].contains("Max-Age=0"),
        "{cleared:?}"
    );
    assert!(
        cleared["tessera_session"].contains("Max-Age=0"),
        "{cleared:?}"
    );
    let refused = cookie_refresh(&app, &refresh, &[]).await;
    assert_eq!(problem(refused, 401).await["code"], "invalid_refresh_token");
    // Neither a token nor a cookie: nothing to sign out.
    let nothing = app
        .client
        .post(app.url("/api/v1/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(nothing, 401).await["code"], "missing_credentials");
}

async fn other_sites_cannot_use_the_cookies(backend: Backend) {
    let Some(app) = spawn_with(backend, |_| {}).await else {
        return;
    };
    app.register("csrf").await;
    // Login CSRF: another site signing the browser in to an account of its choosing.
    let refused = cookie_sign_in(&app, "csrf", "https://evil.example").await;
    assert_eq!(problem(refused, 403).await["code"], "cross_site_request");
    let (refresh, session) = browser_session(&app, "csrf").await;
    for headers in [
        vec![("origin", "https://evil.example")],
        vec![("origin", "null")],
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
    ] {
        let response = cookie_refresh(&app, &refresh, &headers).await;
        assert_eq!(
            problem(response, 403).await["code"],
            "cross_site_request",
            "{headers:?}"
        );
        let logout = headers
            .iter()
            .fold(app.client.post(app.url("/api/v1/logout")), |r, (n, v)| {
                r.header(*n, *v)
            })
            .header("cookie", format!("tessera_session={session}"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            problem(logout, 403).await["code"],
            "cross_site_request",
            "{headers:?}"
        );
    }
    // The refused requests changed nothing: the same refresh token still works, once.
    // A listed CORS origin may, with credentials.
    let listed = cookie_refresh(&app, &refresh, &[("origin", ALLOWED_ORIGIN)]).await;
    assert_eq!(listed.status(), 200);
    assert_eq!(header(&listed, "access-control-allow-credentials"), "true");
    assert_eq!(
        header(&listed, "access-control-allow-origin"),
        ALLOWED_ORIGIN
    );
}

async fn any_origin_cors_never_allows_credentials(backend: Backend) {
    let Some(app) = spawn_with(backend, |c| c.cors_origins = "*".into()).await else {
        return;
    };
    app.register("star").await;
    let response = cookie_sign_in(&app, "star", "https://anywhere.example").await;
    assert_eq!(problem(response, 403).await["code"], "cross_site_request");
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/tokens/refresh"))
        .header("origin", "https://anywhere.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&preflight, "access-control-allow-origin"), "*");
    assert!(
        preflight
            .headers()
            .get("access-control-allow-credentials")
            .is_none()
    );
}

async fn a_token_presented_again_within_the_reuse_interval_gets_the_current_pair(backend: Backend) {
    let Some(app) = spawn_with(backend, |c| c.refresh_reuse_interval = 10).await else {
        return;
    };
    app.register("tabs").await;
    let (first, _) = browser_session(&app, "tabs").await;
    // Two tabs present the same cookie at once: both keep the session, with one token.
    let (a, b) = tokio::join!(
        cookie_refresh(&app, &first, &[]),
        cookie_refresh(&app, &first, &[])
    );
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
    let (a, b) = (set_cookies(&a), set_cookies(&b));
    let current = value(&a["tessera_refresh"]).to_owned();
    assert_eq!(
        current,
        value(&b["tessera_refresh"]),
        "the same current token"
    );
    // The current one rotates as usual, and the first still leads to the newest.
    let rotated = cookie_refresh(&app, &current, &[]).await;
    assert_eq!(rotated.status(), 200);
    let newest = value(&set_cookies(&rotated)["tessera_refresh"]).to_owned();
    let again = cookie_refresh(&app, &first, &[]).await;
    assert_eq!(again.status(), 200);
    assert_eq!(value(&set_cookies(&again)["tessera_refresh"]), newest);
    let body: Value = again.json().await.unwrap();
    assert_eq!(
        me_status(&app, body["access_token"].as_str().unwrap()).await,
        200
    );
    // A token the session never had is still only refused, and ends nothing.
    let (id, _) = first.split_once('.').unwrap();
    let guessed = cookie_refresh(&app, &format!("{id}.{}", "A".repeat(43)), &[]).await;
    assert_eq!(guessed.status(), 401);
    assert_eq!(cookie_refresh(&app, &newest, &[]).await.status(), 200);
}

fn forward_auth_config(config: &mut Config) {
    config.issuer = Some(ISSUER.into());
    config.forward_auth_domains = "app1.tessera.test, *.apps.test".into();
    config.forward_auth_token = true;
    config.forward_auth_rules = vec![ForwardAuthRule {
        host: "secret.apps.test".into(),
        users: vec!["Alice".into()],
    }];
}

async fn forward(app: &TestApp, headers: &[(&str, &str)]) -> reqwest::Response {
    headers
        .iter()
        .fold(
            app.client.get(app.url("/api/v1/forward-auth")),
            |r, (n, v)| r.header(*n, *v),
        )
        .send()
        .await
        .unwrap()
}

const CADDY_APP1: [(&str, &str); 3] = [
    ("x-forwarded-proto", "https"),
    ("x-forwarded-host", "app1.tessera.test"),
    ("x-forwarded-uri", "/private?x=1&y=2"),
];

async fn forward_auth_answers_proxies_by_cookie_or_token(backend: Backend) {
    let Some(app) = spawn_with(backend, forward_auth_config).await else {
        return;
    };
    app.register("alice").await;
    let rd = "https%3A%2F%2Fapp1.tessera.test%2Fprivate%3Fx%3D1%26y%3D2";

    // Signed out: Caddy and Traefik get the redirect; nginx a 401 carrying it.
    let signed_out = forward(&app, &CADDY_APP1).await;
    assert_eq!(signed_out.status(), 302);
    assert_eq!(
        header(&signed_out, "location"),
        format!("{ISSUER}/login?rd={rd}")
    );
    let nginx = forward(
        &app,
        &[(
            "x-original-url",
            "https://app1.tessera.test/private?x=1&y=2",
        )],
    )
    .await;
    assert_eq!(
        header(&nginx, "location"),
        format!("{ISSUER}/login?rd={rd}")
    );
    assert_eq!(problem(nginx, 401).await["code"], "missing_credentials");
    let unknown_target = forward(&app, &[]).await;
    assert_eq!(
        problem(unknown_target, 401).await["code"],
        "missing_credentials"
    );

    // Signed in by the session cookie.
    let (_, session) = browser_session(&app, "alice").await;
    let cookie = format!("tessera_session={session}");
    let mut with_cookie = CADDY_APP1.to_vec();
    with_cookie.push(("cookie", &cookie));
    let admitted = forward(&app, &with_cookie).await;
    assert_eq!(admitted.status(), 200);
    assert_eq!(header(&admitted, "remote-user"), "alice");
    let upstream_token = header(&admitted, "remote-token");
    assert_eq!(
        me_status(&app, &upstream_token).await,
        200,
        "the upstream's token works"
    );
    let (_, claims) = tessera_token::decode_unverified(&upstream_token).unwrap();
    let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert!(lifetime <= 60, "short-lived: {claims}");

    // By a Bearer token.
    let bearer = format!("Bearer {}", app.token_for("bob").await);
    let by_token = forward(&app, &[("authorization", &bearer), CADDY_APP1[1]]).await;
    assert_eq!(by_token.status(), 200);
    assert_eq!(header(&by_token, "remote-user"), "bob");
    assert!(!header(&by_token, "remote-user-id").is_empty());

    // A rule keeps bob out of one host and lets alice (by name, any case) in.
    let secret_host = ("x-forwarded-host", "secret.apps.test");
    let kept_out = forward(&app, &[("authorization", &bearer), secret_host]).await;
    assert_eq!(problem(kept_out, 403).await["code"], "access_denied");
    let let_in = forward(&app, &[("cookie", &cookie), secret_host]).await;
    assert_eq!(let_in.status(), 200);

    // Signed out again: the cookie no longer passes.
    let out = app
        .client
        .post(app.url("/api/v1/logout"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    assert_eq!(forward(&app, &with_cookie).await.status(), 302);
}

async fn forward_auth_never_redirects_off_its_domains_nor_believes_forgeries(backend: Backend) {
    let Some(app) = spawn_with(backend, forward_auth_config).await else {
        return;
    };
    app.register("alice").await;
    let (_, session) = browser_session(&app, "alice").await;
    let cookie = format!("tessera_session={session}");
    for target in [
        vec![("x-forwarded-host", "evil.example")],
        vec![("x-forwarded-host", "app1.tessera.test.evil.example")],
        vec![("x-original-url", "https://evil.example/")],
        // A client's X-Original-URL through a proxy that sets X-Forwarded-Host (Caddy
        // without the documented header_up): the rules of one host for a request to another.
        vec![
            ("x-original-url", "https://app1.tessera.test/"),
            ("x-forwarded-host", "secret.apps.test"),
        ],
        vec![("x-original-url", "https://app1.tessera.test@evil.example/")],
        vec![("x-original-url", "javascript:alert(1)")],
        vec![
            ("x-forwarded-host", "app1.tessera.test"),
            ("x-forwarded-uri", "@evil.example/"),
        ],
        vec![
            ("x-original-url", "https://app1.tessera.test/"),
            ("x-original-url", "https://evil.example/"),
        ],
    ] {
        let signed_out = forward(&app, &target).await;
        assert!(signed_out.headers().get("location").is_none(), "{target:?}");
        assert_eq!(
            problem(signed_out, 403).await["code"],
            "redirect_not_allowed",
            "{target:?}"
        );
        let mut signed_in = target.clone();
        signed_in.push(("cookie", &cookie));
        assert_eq!(forward(&app, &signed_in).await.status(), 403, "{target:?}");
    }
    // A cookie is the session's only with its MAC: another session's id, a bare id, junk.
    let (id, mac) = session.split_once('.').unwrap();
    for forged in [
        format!("{id}.{}", "A".repeat(mac.len())),
        id.to_owned(),
        format!("x{id}.{mac}"),
        "%00".to_owned(),
    ] {
        let forged = format!("tessera_session={forged}");
        let response = forward(&app, &[CADDY_APP1[1], ("cookie", &forged)]).await;
        assert_eq!(response.status(), 302, "{forged}");
    }
    // Two session cookies (one planted by a sibling subdomain): neither counts.
    let two = format!("tessera_session={id}.{}; {cookie}", "A".repeat(mac.len()));
    assert_eq!(
        forward(&app, &[CADDY_APP1[1], ("cookie", &two)])
            .await
            .status(),
        302
    );
    // A client's own Remote-User means nothing to Tessera.
    let spoofed = forward(&app, &[CADDY_APP1[1], ("remote-user", "alice")]).await;
    assert_eq!(spoofed.status(), 302);
    // Any method: proxies ask with the guarded request's.
    let post = app
        .client
        .post(app.url("/api/v1/forward-auth"))
        .header("x-forwarded-host", "app1.tessera.test")
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 200);
}

async fn the_sign_in_page_may_return_only_to_guarded_hosts(backend: Backend) {
    let Some(app) = spawn_with(backend, forward_auth_config).await else {
        return;
    };
    let check = async |query: &str| {
        app.client
            .get(app.url(&format!("/api/v1/forward-auth/redirect{query}")))
            .send()
            .await
            .unwrap()
    };
    let allowed = check("?rd=https%3A%2F%2Fapp1.tessera.test%3A8443%2Fa%3Fb%3Dc").await;
    assert_eq!(allowed.status(), 200);
    let body: Value = allowed.json().await.unwrap();
    assert_eq!(body["url"], "https://app1.tessera.test:8443/a?b=c");
    assert_eq!(check("?rd=http://x.apps.test/").await.status(), 200);
    for refused in [
        "",
        "?rd=",
        "?rd=https://evil.example/",
        "?rd=//app1.tessera.test/",
        "?rd=/relative",
        "?rd=javascript:alert(1)//app1.tessera.test",
        "?rd=https://app1.tessera.test@evil.example/",
        "?rd=https://apps.test/",
        "?rd=https://app1.tessera.test/&rd=https://evil.example/",
        "?rd=%FF",
    ] {
        let response = check(refused).await;
        assert_eq!(
            problem(response, 400).await["code"],
            "redirect_not_allowed",
            "{refused}"
        );
    }
}

backend_tests!(
    cookie_sign_in_keeps_the_refresh_token_in_http_only_cookies,
    the_session_cookie_signs_out_and_the_cookies_are_cleared,
    other_sites_cannot_use_the_cookies,
    any_origin_cors_never_allows_credentials,
    a_token_presented_again_within_the_reuse_interval_gets_the_current_pair,
    forward_auth_answers_proxies_by_cookie_or_token,
    forward_auth_never_redirects_off_its_domains_nor_believes_forgeries,
    the_sign_in_page_may_return_only_to_guarded_hosts,
);
