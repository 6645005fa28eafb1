//! The versioned API.

use tessera_store::Backend;

use crate::helpers::{PASSWORD, TTL, TestApp, header, problem, spawn};

async fn create(app: &TestApp, username: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/users",
        serde_json::json!({"username": username, "password": PASSWORD}),
    )
    .await
}

async fn token(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/tokens",
        serde_json::json!({"username": username, "password": password}),
    )
    .await
}

async fn registration_is_201_with_location(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let response = create(&app, "Lena").await;
    assert_eq!(response.status(), 201);
    let location = header(&response, "location");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["username"], "Lena");
    assert_eq!(location, format!("/api/v1/users/{}", body["id"]));
    let created_at =
        chrono::DateTime::parse_from_rfc3339(body["created_at"].as_str().unwrap()).unwrap();
    assert!(
        (chrono::Utc::now() - created_at.to_utc())
            .num_seconds()
            .abs()
            < 60
    );
    let taken = problem(create(&app, "LENA").await, 409).await;
    assert_eq!(taken["code"], "username_taken");
    let access: serde_json::Value = token(&app, "lena", PASSWORD).await.json().await.unwrap();
    let own = app
        .get_bearer(&location, access["access_token"].as_str().unwrap())
        .await;
    assert_eq!(own.status(), 200);
    assert_eq!(own.json::<serde_json::Value>().await.unwrap(), body);
}

async fn other_users_records_are_404(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let first: serde_json::Value = create(&app, "mia").await.json().await.unwrap();
    assert_eq!(create(&app, "ned").await.status(), 201);
    let access: serde_json::Value = token(&app, "ned", PASSWORD).await.json().await.unwrap();
    let bearer = access["access_token"].as_str().unwrap();
    for path in [
        format!("/api/v1/users/{}", first["id"]),
        "/api/v1/users/99999".into(),
        "/api/v1/users/abc".into(),
    ] {
        assert_eq!(
            problem(app.get_bearer(&path, bearer).await, 404).await["code"],
            "not_found"
        );
    }
}

async fn tokens_are_issued_for_good_credentials_only(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    assert_eq!(create(&app, "olga").await.status(), 201);
    let response = token(&app, "olga", PASSWORD).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "cache-control"), "no-store");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], TTL);
    let me = app
        .get_bearer("/api/v1/me", body["access_token"].as_str().unwrap())
        .await;
    assert_eq!(
        me.json::<serde_json::Value>().await.unwrap()["username"],
        "olga"
    );

    let wrong = token(&app, "olga", "wrong password!").await;
    let unknown = token(&app, "nobody", PASSWORD).await;
    for response in [&wrong, &unknown] {
        assert_eq!(
            header(response, "www-authenticate"),
            r#"Bearer realm="tessera""#
        );
    }
    let (wrong, unknown) = (problem(wrong, 401).await, problem(unknown, 401).await);
    assert_eq!(wrong, unknown, "no user enumeration");
    assert_eq!(wrong["code"], "invalid_credentials");
    let missing = app
        .post_json("/api/v1/tokens", serde_json::json!({"username": "olga"}))
        .await;
    assert_eq!(problem(missing, 400).await["code"], "invalid_body");
}

async fn me_needs_a_valid_bearer_token(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let missing = app.get_with("/api/v1/me", &[]).await;
    assert_eq!(
        header(&missing, "www-authenticate"),
        r#"Bearer realm="tessera""#
    );
    assert_eq!(problem(missing, 401).await["code"], "missing_credentials");

    let invalid = app.get_bearer("/api/v1/me", "not.a.token").await;
    assert!(
        header(&invalid, "www-authenticate")
            .starts_with(r#"Bearer realm="tessera", error="invalid_token""#)
    );
    assert_eq!(problem(invalid, 401).await["code"], "invalid_token");

    let token = app.token_for("pete").await;
    let basic = app
        .client
        .get(app.url("/api/v1/me"))
        .basic_auth(&token, Some("x"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&basic, "www-authenticate"),
        r#"Bearer realm="tessera", error="invalid_request""#
    );
    assert_eq!(problem(basic, 400).await["code"], "invalid_authorization");

    let me = app.get_bearer("/api/v1/me", &token).await;
    assert_eq!(me.status(), 200);
    let body: serde_json::Value = me.json().await.unwrap();
    assert_eq!(body["username"], "pete");
    assert!(body["id"].is_i64() && body["created_at"].is_string());
    assert!(body.get("password_hash").is_none());
}

/// The served OpenAPI document is the one in `docs/` (what schemathesis and clients read).
async fn the_openapi_document_is_served(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let response = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let served = response.text().await.unwrap();
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/openapi.json"
    ))
    .unwrap();
    assert_eq!(served, committed);
}

backend_tests!(
    the_openapi_document_is_served,
    registration_is_201_with_location,
    other_users_records_are_404,
    tokens_are_issued_for_good_credentials_only,
    me_needs_a_valid_bearer_token,
);
