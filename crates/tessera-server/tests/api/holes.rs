//! The holes an outside review found where a rule held on one entry point and not on the
//! next; each case failed before the rule moved into the domain's use cases. The list, with
//! these names, is in docs/security.md.

use std::time::Duration;

use serde_json::{Value, json};
use tessera_store::Backend;

use tessera_domain::{UserRepository, Username};
use tessera_server::config::SecretString;

use crate::helpers::{PASSWORD, SECRET, TestApp, eventually, problem, spawn, spawn_with};
use crate::legacy::{FLASK_SECRET, database, flask_tokens};

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

/// The `tessera` binary run against the app's database and keys, as an operator would.
fn operator(app: &TestApp, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(args)
        .env_clear()
        .env("DATABASE_URL", app.config.database_url())
        .env("TESSERA_SECRET_KEY", SECRET)
        .env("TESSERA_BCRYPT_COST", "4")
        .env("TESSERA_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
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

    let reset = operator(
        &app,
        &["users", "set-password", "reset"],
        &format!("{NEW_PASSWORD}\n"),
    );
    assert!(
        reset.status.success(),
        "{}",
        String::from_utf8_lossy(&reset.stderr)
    );

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
    let reset = operator(
        &app,
        &["users", "set-password", "walrus-shoes"],
        "walrus-shoes\n",
    );
    assert!(!reset.status.success());
    let error = String::from_utf8_lossy(&reset.stderr);
    assert!(error.contains("username"), "{error}");
}

/// A Flask token has no session, so it ends by its user's `tokens_not_before`: signing out
/// with it ends it (and the user's other Flask tokens), and so does a password change.
async fn a_flask_token_ends_with_logout_and_with_a_password_change(backend: Backend) {
    let Some(app) = spawn_with(backend, |config| {
        config.legacy_secret_key = Some(SecretString::new(FLASK_SECRET));
    })
    .await
    else {
        return;
    };
    let mut ids = Vec::new();
    for name in ["ann", "bob"] {
        assert_eq!(app.register(name).await.status(), 200);
        let user = database(&app)
            .find_by_username(&Username::parse(name).unwrap())
            .unwrap()
            .unwrap();
        ids.push(user.id.0);
    }
    let (Some(ann), Some(bob)) = (flask_tokens(ids[0]), flask_tokens(ids[1])) else {
        return;
    };
    let (ann, ann_other, bob) = (&ann[0], &ann[1], &bob[0]);
    for token in [ann, ann_other, bob] {
        assert_eq!(app.get_bearer("/", token).await.status(), 200);
    }

    let logout = app
        .client
        .post(app.url("/api/v1/logout"))
        .bearer_auth(ann)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);
    for token in [ann, ann_other] {
        let body = problem(app.get_bearer("/", token).await, 401).await;
        assert_eq!(body["detail"], "the token was revoked");
    }
    assert_eq!(app.get_bearer("/", bob).await.status(), 200, "only ann's");

    let own = app
        .tutorial_login("bob", PASSWORD)
        .await
        .json::<String>()
        .await
        .unwrap();
    let change = app
        .client
        .put(app.url("/api/v1/me/password"))
        .bearer_auth(&own)
        .json(&json!({"current_password": PASSWORD, "new_password": "a completely new passphrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(change.status(), 204);
    problem(app.get_bearer("/", bob).await, 401).await;
}

backend_tests!(
    an_operators_password_reset_ends_every_session,
    over_long_sign_in_passwords_are_refused_before_hashing,
    a_guessed_refresh_secret_does_not_end_the_session,
    look_alike_names_are_one_user,
    a_password_equal_to_the_username_is_refused,
    a_flask_token_ends_with_logout_and_with_a_password_change,
);
