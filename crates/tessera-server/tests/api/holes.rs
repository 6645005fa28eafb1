//! The holes an outside review found where a rule held on one entry point and not on the
//! next; each case failed before the rule moved into the domain's use cases. The list, with
//! these names, is in docs/security.md.

use std::time::Duration;

use serde_json::{Value, json};
use tessera_store::Backend;

use crate::helpers::{PASSWORD, TestApp, eventually, problem, spawn};

const NEW_PASSWORD: &str = "a completely new passphrase";

async fn signed_in(app: &TestApp, username: &str) -> Value {
    assert_eq!(app.register(username).await.status(), 200);
    let response = app
        .post_json(
            "/api/v1/tokens",
            json!({"username": username, "password": PASSWORD}),
        )
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn refresh(app: &TestApp, refresh_token: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/tokens/refresh",
        json!({"refresh_token": refresh_token}),
    )
    .await
}

async fn status(app: &TestApp, path: &str, token: &str) -> u16 {
    app.get_bearer(path, token).await.status().as_u16()
}

/// `tessera users set-password` ends every session of the user: the refresh chain at once,
/// access tokens (the API's and the tutorial's) within the revocation sync bound.
async fn an_operators_password_reset_ends_every_session(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let pair = signed_in(&app, "reset").await;
    let access = pair["access_token"].as_str().unwrap();
    let tutorial = app
        .tutorial_login("reset", PASSWORD)
        .await
        .json::<String>()
        .await
        .unwrap();
    assert_eq!(status(&app, "/api/v1/me", access).await, 200);

    let auth = tessera_server::startup::auth(&app.config).unwrap();
    let said = tessera_server::commands::set_password(&auth, "reset", NEW_PASSWORD).unwrap();
    assert!(said.contains("ended 2 session(s)"), "{said}");

    let refused = refresh(&app, pair["refresh_token"].as_str().unwrap()).await;
    assert_eq!(problem(refused, 401).await["code"], "invalid_refresh_token");
    let ended = async || {
        status(&app, "/api/v1/me", access).await == 401 && status(&app, "/", &tutorial).await == 401
    };
    assert!(eventually(Duration::from_secs(10), ended).await);
    assert_eq!(
        app.tutorial_login("reset", NEW_PASSWORD).await.status(),
        200
    );
}

/// Candidate passwords over 1,024 characters / 4,096 bytes are refused before any hashing,
/// on the versioned sign-in and the tutorial's alike, whether or not the user exists.
async fn over_long_sign_in_passwords_are_refused_before_hashing(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    assert_eq!(app.register("longpw").await.status(), 200);
    // Over both bounds, within the 16 KiB body limit.
    let long = "x".repeat(5000);
    for username in ["longpw", "nobody"] {
        let response = app
            .post_json(
                "/api/v1/tokens",
                json!({"username": username, "password": long}),
            )
            .await;
        let body = problem(response, 400).await;
        assert_eq!(body["field"], "password", "{body}");
        let basic = app.tutorial_login(username, &"x".repeat(5000)).await;
        assert_eq!(problem(basic, 400).await["field"], "password");
    }
}

/// A session id is in every access token; a made-up secret with it is refused and ends
/// nothing. Only a secret the session really rotated out counts as reuse.
async fn a_guessed_refresh_secret_does_not_end_the_session(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let pair = signed_in(&app, "victim").await;
    let refresh_token = pair["refresh_token"].as_str().unwrap();
    let sid = refresh_token.split_once('.').unwrap().0;
    for guess in [
        format!("{sid}.x"),
        format!("{sid}."),
        format!("{sid}.{sid}"),
    ] {
        let refused = refresh(&app, &guess).await;
        assert_eq!(problem(refused, 401).await["code"], "invalid_refresh_token");
    }
    let access = pair["access_token"].as_str().unwrap();
    assert_eq!(status(&app, "/api/v1/me", access).await, 200, "still live");
    let rotated = refresh(&app, refresh_token).await;
    assert_eq!(rotated.status(), 200, "the real token still works");
}

/// Names that look alike are one account (RFC 8265-style key: NFKC, width, case, spaces).
async fn look_alike_names_are_one_user(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    for (first, look_alike) in [
        ("admin", "ａｄｍｉｎ"),
        ("Ⅸ", "IX"),
        ("x¹", "x1"),
        ("a  b", "a b"),
    ] {
        assert_eq!(app.register(first).await.status(), 200, "{first}");
        let taken = app
            .post_json(
                "/api/v1/users",
                json!({"username": look_alike, "password": PASSWORD}),
            )
            .await;
        assert_eq!(
            problem(taken, 409).await["code"],
            "username_taken",
            "{look_alike}"
        );
    }
}

/// ASVS 6.2.11: the username is no password, at registration or later.
async fn a_password_equal_to_the_username_is_refused(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let refused = app
        .post_json(
            "/api/v1/users",
            json!({"username": "Zebra-Crossing", "password": "zebra-crossing"}),
        )
        .await;
    assert_eq!(problem(refused, 400).await["field"], "password");
    let pair = signed_in(&app, "walrus-shoes").await;
    let change = app
        .client
        .put(app.url("/api/v1/me/password"))
        .bearer_auth(pair["access_token"].as_str().unwrap())
        .json(&json!({"current_password": PASSWORD, "new_password": "WALRUS-SHOES"}))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(change, 400).await["field"], "new_password");
    let auth = tessera_server::startup::auth(&app.config).unwrap();
    let error = tessera_server::commands::set_password(&auth, "walrus-shoes", "walrus-shoes")
        .unwrap_err()
        .to_string();
    assert!(error.contains("username"), "{error}");
}

backend_tests!(
    an_operators_password_reset_ends_every_session,
    over_long_sign_in_passwords_are_refused_before_hashing,
    a_guessed_refresh_secret_does_not_end_the_session,
    look_alike_names_are_one_user,
    a_password_equal_to_the_username_is_refused,
);
