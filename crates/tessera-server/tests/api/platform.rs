//! What every route shares: health, CORS, headers, JSON 404/405, the web app's serving.

use std::sync::Arc;
use std::time::Duration;

use tessera_store::Backend;

use crate::helpers::{ALLOWED_ORIGIN, header, problem, spawn};

async fn health_and_readiness_answer(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    for path in ["/healthz", "/readyz"] {
        let response = app.get_with(path, &[]).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            response.json::<serde_json::Value>().await.unwrap()["status"],
            "ok"
        );
    }
}

async fn unknown_routes_and_methods_are_json(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    assert_eq!(
        problem(app.get_with("/api/nope", &[]).await, 404).await["code"],
        "not_found"
    );
    let wrong_method = app
        .client
        .delete(app.url("/api/users"))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&wrong_method, "allow"), "POST");
    assert_eq!(
        problem(wrong_method, 405).await["code"],
        "method_not_allowed"
    );
    let post_login = app.client.post(app.url("/api/login")).send().await.unwrap();
    assert_eq!(header(&post_login, "allow"), "GET");
    problem(post_login, 405).await;
    let put_me = app.client.put(app.url("/api/v1/me")).send().await.unwrap();
    problem(put_me, 405).await;
}

async fn cors_preflight_needs_no_credentials(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/login"))
        .header("origin", ALLOWED_ORIGIN)
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(
        header(&preflight, "access-control-allow-origin"),
        ALLOWED_ORIGIN
    );
    assert!(
        header(&preflight, "access-control-allow-headers")
            .to_lowercase()
            .contains("authorization")
    );
}

async fn cors_headers_are_on_401s_too(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let denied = app
        .get_with(
            "/",
            &[("origin", ALLOWED_ORIGIN), ("accept", "application/json")],
        )
        .await;
    assert_eq!(denied.status(), 401);
    assert_eq!(
        header(&denied, "access-control-allow-origin"),
        ALLOWED_ORIGIN
    );
    assert!(
        header(&denied, "access-control-expose-headers")
            .to_lowercase()
            .contains("www-authenticate")
    );
    let stranger = app
        .get_with("/healthz", &[("origin", "http://evil.example")])
        .await;
    assert_eq!(header(&stranger, "access-control-allow-origin"), "");
}

async fn any_origin_is_a_wildcard(backend: Backend) {
    let Some(app) = crate::helpers::spawn_with(backend, |c| c.cors_origins = "*".into()).await
    else {
        return;
    };
    let response = app
        .get_with("/healthz", &[("origin", "http://anywhere.example")])
        .await;
    assert_eq!(header(&response, "access-control-allow-origin"), "*");
}

async fn security_headers_are_everywhere(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    for path in ["/healthz", "/api/nope", "/"] {
        let response = app.get_with(path, &[("accept", "application/json")]).await;
        assert_eq!(
            header(&response, "x-content-type-options"),
            "nosniff",
            "{path}"
        );
        assert_eq!(
            header(&response, "referrer-policy"),
            "no-referrer",
            "{path}"
        );
    }
}

async fn the_web_app_is_served_to_browsers(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let html = [("accept", "text/html,application/xhtml+xml")];
    for path in ["/", "/login", "/deep/client/route"] {
        let page = app.get_with(path, &html).await;
        assert_eq!(page.status(), 200, "{path}");
        assert_eq!(header(&page, "cache-control"), "no-cache");
        assert!(header(&page, "content-security-policy").contains("'wasm-unsafe-eval'"));
        assert!(
            page.text()
                .await
                .unwrap()
                .contains("<title>Tessera</title>")
        );
    }
    let asset = app.get_with("/assets/app-0123abcd.js", &[]).await;
    assert_eq!(asset.status(), 200);
    assert!(header(&asset, "cache-control").contains("immutable"));
    problem(app.get_with("/assets/missing-1234.js", &[]).await, 404).await;
    problem(app.get_with("/api/v1/nope", &html).await, 404).await;
    problem(app.get_with("/../Cargo.toml", &[]).await, 404).await;
}

async fn assets_are_sent_precompressed_as_accept_encoding_asks(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let js = "/assets/app-0123abcd.js";
    let plain = app.get_with(js, &[]).await;
    let js_type = header(&plain, "content-type");
    assert!(js_type.contains("javascript"), "{js_type}");
    assert_eq!(header(&plain, "content-encoding"), "");
    assert_eq!(plain.text().await.unwrap(), "console.log(1)");
    for (accept, encoding, body) in [
        // Chromium's: every q is 1, and brotli is the smallest.
        ("gzip, deflate, br, zstd", "br", "the brotli form"),
        ("gzip", "gzip", "the gzip form"),
        ("br;q=0, gzip;q=0.5", "gzip", "the gzip form"),
        ("gzip;q=0.2, br;q=0.8", "br", "the brotli form"),
        ("identity", "", "console.log(1)"),
        ("br;q=0, gzip;q=0", "", "console.log(1)"),
        ("zstd", "", "console.log(1)"),
        ("*", "", "console.log(1)"),
        // Unreadable: as if none were sent.
        ("br;q=banana", "", "console.log(1)"),
    ] {
        let answer = app.get_with(js, &[("accept-encoding", accept)]).await;
        assert_eq!(answer.status(), 200, "{accept}");
        assert_eq!(header(&answer, "content-encoding"), encoding, "{accept}");
        assert_eq!(
            header(&answer, "content-type"),
            js_type,
            "{accept}: the original's type"
        );
        assert!(
            header(&answer, "vary").starts_with("accept-encoding"),
            "{accept}: {}",
            header(&answer, "vary")
        );
        assert!(
            header(&answer, "cache-control").contains("immutable"),
            "{accept}"
        );
        assert_eq!(answer.text().await.unwrap(), body, "{accept}");
    }
    // An asset stored in one form only is sent as it is.
    let icon = app
        .get_with(
            "/assets/icon-4567cdef.svg",
            &[("accept-encoding", "br, gzip")],
        )
        .await;
    assert_eq!(header(&icon, "content-encoding"), "");
    assert_eq!(icon.text().await.unwrap(), "<svg/>");
}

backend_tests!(
    assets_are_sent_precompressed_as_accept_encoding_asks,
    health_and_readiness_answer,
    unknown_routes_and_methods_are_json,
    cors_preflight_needs_no_credentials,
    cors_headers_are_on_401s_too,
    any_origin_is_a_wildcard,
    security_headers_are_everywhere,
    the_web_app_is_served_to_browsers,
);

/// A server whose database is unreachable: readiness and database-backed routes answer
/// 503 problems promptly, and the process keeps serving.
#[actix_web::test]
async fn an_unreachable_database_is_a_503_not_a_hang() {
    let url = if cfg!(feature = "postgres") {
        "postgres://postgres@127.0.0.1:9/none"
    } else {
        "sqlite:///proc/no-such-dir/tessera.db"
    };
    let options = tessera_store::PoolOptions {
        max_connections: 2,
        acquire_timeout: Duration::from_millis(500),
    };
    let database = tessera_store::Database::open(url, &options).unwrap();
    let sessions = tessera_domain::Sessions::new(
        Arc::new(database.clone()),
        tessera_domain::SessionPolicy::default(),
        tessera_domain::RevokedSessions::new(chrono::Duration::minutes(10)),
        tessera_domain::SessionKeys::derive(&tessera_token::Secret::new(vec![7; 32])).unwrap(),
    );
    let limits = tessera_domain::Limits::new(
        tessera_domain::Throttle::new(Arc::new(database.clone())),
        10,
        20,
    );
    let clients = tessera_domain::Clients::new(Arc::new(database.clone()));
    let accounts =
        tessera_domain::Accounts::new(Arc::new(database), tessera_domain::PasswordHasher::new(4));
    let keys = tessera_token::KeySet::new(tessera_token::Key::new(
        "k",
        tessera_token::Secret::new(vec![7; 32]),
    ));
    let auth = tessera_domain::Auth::new(
        accounts,
        sessions,
        limits,
        tessera_domain::TokenIssuer::new(keys, chrono::Duration::minutes(10)),
        tessera_domain::UserCache::new(Duration::from_secs(2)),
        clients,
    );
    let state = tessera_http::AppState {
        auth,
        hashing: tessera_http::HashingPool::new(2),
        trusted_proxies: tessera_http::TrustedProxies::default(),
        cookies: tessera_http::CookieSettings::default(),
        web_settings: tessera_api::WebSettings {
            forgot_password_note: String::new(),
        },
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server =
        tessera_http::serve(listener, state, tessera_http::HttpSettings::default()).unwrap();
    actix_web::rt::spawn(server);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(problem(ready, 503).await["code"], "service_unavailable");
    let login = client
        .get(format!("{base}/api/login"))
        .basic_auth("ann", Some("pw"))
        .send()
        .await
        .unwrap();
    problem(login, 503).await;
    let alive = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(alive.status(), 200, "the process itself stays up");
}
