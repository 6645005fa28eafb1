//! Sessions that end: refresh rotation and reuse detection, logout, password change,
//! account deletion, listing and ending sessions — on one process and across two.

use std::time::Duration;

use serde_json::{Value, json};
use tessera_store::Backend;
use tessera_store::testing::TestDatabase;

use crate::helpers::{PASSWORD, TestApp, eventually, problem, spawn};
use crate::process::Tessera;

const NEW_PASSWORD: &str = "a completely new passphrase";

async fn sign_in(app: &TestApp, username: &str, password: &str) -> Value {
    let response = app
        .post_json(
            "/api/v1/tokens",
            json!({"username": username, "password": password}),
        )
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn registered(app: &TestApp, username: &str) -> Value {
    let created = app
        .post_json(
            "/api/v1/users",
            json!({"username": username, "password": PASSWORD}),
        )
        .await;
    assert_eq!(created.status(), 201);
    sign_in(app, username, PASSWORD).await
}

fn access(pair: &Value) -> &str {
    pair["access_token"].as_str().unwrap()
}

async fn me_status(app: &TestApp, pair: &Value) -> u16 {
    app.get_bearer("/api/v1/me", access(pair))
        .await
        .status()
        .as_u16()
}

async fn refresh(app: &TestApp, refresh_token: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/tokens/refresh",
        json!({"refresh_token": refresh_token}),
    )
    .await
}

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let request = app.client.request(method, app.url(path)).bearer_auth(token);
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    request.send().await.unwrap()
}

async fn refresh_rotates_and_a_reused_token_ends_the_session(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let first = registered(&app, "rita").await;
    let old_refresh = first["refresh_token"].as_str().unwrap().to_owned();

    let rotated = refresh(&app, &old_refresh).await;
    assert_eq!(rotated.status(), 200);
    let second: Value = rotated.json().await.unwrap();
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_eq!(me_status(&app, &second).await, 200);

    // The first refresh token again: a copy is loose, so the whole session ends.
    let body = problem(refresh(&app, &old_refresh).await, 401).await;
    assert_eq!(body["code"], "invalid_refresh_token");
    assert_eq!(
        me_status(&app, &second).await,
        401,
        "the session's access token stops working"
    );
    assert_eq!(me_status(&app, &first).await, 401);
    problem(
        refresh(&app, second["refresh_token"].as_str().unwrap()).await,
        401,
    )
    .await;
    problem(refresh(&app, "no-such-session.secret").await, 401).await;
    problem(refresh(&app, "garbage").await, 401).await;
}

async fn logout_ends_the_session_at_once(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let pair = registered(&app, "leo").await;
    let other = sign_in(&app, "leo", PASSWORD).await;
    assert_eq!(me_status(&app, &pair).await, 200);
    let logout = send(
        &app,
        reqwest::Method::POST,
        "/api/v1/logout",
        access(&pair),
        None,
    )
    .await;
    assert_eq!(logout.status(), 204);
    let refused = app.get_bearer("/api/v1/me", access(&pair)).await;
    assert!(
        crate::helpers::header(&refused, "www-authenticate").contains(r#"error="invalid_token""#)
    );
    assert_eq!(problem(refused, 401).await["code"], "invalid_token");
    problem(
        refresh(&app, pair["refresh_token"].as_str().unwrap()).await,
        401,
    )
    .await;
    assert_eq!(me_status(&app, &other).await, 200, "other sessions go on");
}

async fn password_change_ends_every_other_session(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let this = registered(&app, "paula").await;
    let other = sign_in(&app, "paula", PASSWORD).await;
    let tutorial: String = app
        .tutorial_login("paula", PASSWORD)
        .await
        .json()
        .await
        .unwrap();

    let wrong = send(
        &app,
        reqwest::Method::PUT,
        "/api/v1/me/password",
        access(&this),
        Some(json!({"current_password": "not it at all", "new_password": NEW_PASSWORD})),
    )
    .await;
    assert_eq!(problem(wrong, 400).await["field"], "current_password");
    let weak = send(
        &app,
        reqwest::Method::PUT,
        "/api/v1/me/password",
        access(&this),
        Some(json!({"current_password": PASSWORD, "new_password": "short"})),
    )
    .await;
    assert_eq!(problem(weak, 400).await["field"], "new_password");
    assert_eq!(
        me_status(&app, &other).await,
        200,
        "failed attempts end nothing"
    );

    let changed = send(
        &app,
        reqwest::Method::PUT,
        "/api/v1/me/password",
        access(&this),
        Some(json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD})),
    )
    .await;
    assert_eq!(changed.status(), 204);
    assert_eq!(
        me_status(&app, &this).await,
        200,
        "the session that changed it stays"
    );
    assert_eq!(me_status(&app, &other).await, 401);
    assert_eq!(
        app.get_bearer("/", &tutorial).await.status(),
        401,
        "tutorial tokens end too"
    );
    problem(
        refresh(&app, other["refresh_token"].as_str().unwrap()).await,
        401,
    )
    .await;
    assert_eq!(app.tutorial_login("paula", PASSWORD).await.status(), 401);
    assert_eq!(
        app.tutorial_login("paula", NEW_PASSWORD).await.status(),
        200
    );
}

async fn account_deletion_ends_every_session(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let pair = registered(&app, "dora").await;
    let other = sign_in(&app, "dora", PASSWORD).await;
    let wrong = send(
        &app,
        reqwest::Method::DELETE,
        "/api/v1/me",
        access(&pair),
        Some(json!({"password": "wrong one!"})),
    )
    .await;
    assert_eq!(problem(wrong, 400).await["field"], "password");
    let deleted = send(
        &app,
        reqwest::Method::DELETE,
        "/api/v1/me",
        access(&pair),
        Some(json!({"password": PASSWORD})),
    )
    .await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(me_status(&app, &pair).await, 401);
    assert_eq!(me_status(&app, &other).await, 401);
    problem(
        refresh(&app, other["refresh_token"].as_str().unwrap()).await,
        401,
    )
    .await;
    assert_eq!(app.tutorial_login("dora", PASSWORD).await.status(), 401);
    let again = app
        .post_json(
            "/api/v1/users",
            json!({"username": "dora", "password": PASSWORD}),
        )
        .await;
    assert_eq!(again.status(), 201, "the name is free again");
}

async fn sessions_are_listed_and_ended_one_by_one(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let this = registered(&app, "sam").await;
    let other = sign_in(&app, "sam", PASSWORD).await;
    let stranger = registered(&app, "tom").await;

    let listed: Vec<Value> = send(
        &app,
        reqwest::Method::GET,
        "/api/v1/sessions",
        access(&this),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed.iter().filter(|s| s["current"] == true).count(), 1);
    let other_id = listed.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let foreign: Vec<Value> = send(
        &app,
        reqwest::Method::GET,
        "/api/v1/sessions",
        access(&stranger),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    let foreign_path = format!("/api/v1/sessions/{}", foreign[0]["id"].as_str().unwrap());
    problem(
        send(
            &app,
            reqwest::Method::DELETE,
            &foreign_path,
            access(&this),
            None,
        )
        .await,
        404,
    )
    .await;
    assert_eq!(
        me_status(&app, &stranger).await,
        200,
        "another user's session is untouchable"
    );
    problem(
        send(
            &app,
            reqwest::Method::DELETE,
            "/api/v1/sessions/nope",
            access(&this),
            None,
        )
        .await,
        404,
    )
    .await;

    let path = format!("/api/v1/sessions/{other_id}");
    assert_eq!(
        send(&app, reqwest::Method::DELETE, &path, access(&this), None)
            .await
            .status(),
        204
    );
    assert_eq!(me_status(&app, &other).await, 401);
    assert_eq!(me_status(&app, &this).await, 200);
    problem(
        send(&app, reqwest::Method::DELETE, &path, access(&this), None).await,
        404,
    )
    .await;
    let listed: Vec<Value> = send(
        &app,
        reqwest::Method::GET,
        "/api/v1/sessions",
        access(&this),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(listed.len(), 1);
}

backend_tests!(
    sign_ins_past_the_cap_end_the_least_recently_used_session,
    refresh_rotates_and_a_reused_token_ends_the_session,
    logout_ends_the_session_at_once,
    password_change_ends_every_other_session,
    account_deletion_ends_every_session,
    sessions_are_listed_and_ended_one_by_one,
);

/// Ending a session on one process ends it on another sharing the database within the
/// sync interval (1 s here; documented bound: the interval plus one query).
async fn revocation_reaches_other_processes(backend: Backend) {
    let Some(database) = TestDatabase::create(backend) else {
        return;
    };
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = Tessera::start_with(
        database.url(),
        dir_a.path(),
        &[
            ("TESSERA_REVOCATION_SYNC_INTERVAL", "1"),
            ("TESSERA_REFRESH_REUSE_INTERVAL", "0"),
        ],
    );
    let b = Tessera::start_with(
        database.url(),
        dir_b.path(),
        &[
            ("TESSERA_REVOCATION_SYNC_INTERVAL", "1"),
            ("TESSERA_REFRESH_REUSE_INTERVAL", "0"),
        ],
    );
    let client = reqwest::Client::new();
    let credentials = json!({"username": "multi", "password": PASSWORD});
    assert_eq!(
        client
            .post(a.url("/api/v1/users"))
            .json(&credentials)
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    let sign_in = async || -> Value {
        client
            .post(a.url("/api/v1/tokens"))
            .json(&credentials)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    };
    let status_on = async |server: &Tessera, pair: &Value| {
        client
            .get(server.url("/api/v1/me"))
            .bearer_auth(access(pair))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };

    // Logout on B; A refuses the token soon after.
    let pair = sign_in().await;
    assert_eq!(status_on(&a, &pair).await, 200);
    let logout = client
        .post(b.url("/api/v1/logout"))
        .bearer_auth(access(&pair))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);
    assert_eq!(
        status_on(&b, &pair).await,
        401,
        "at once on the process that ended it"
    );
    assert!(
        eventually(Duration::from_secs(10), async || status_on(&a, &pair).await
            == 401)
        .await
    );

    // Refresh-token reuse on B ends the session on A.
    let pair = sign_in().await;
    let old = pair["refresh_token"].as_str().unwrap().to_owned();
    let body = json!({"refresh_token": old});
    let rotated: Value = client
        .post(b.url("/api/v1/tokens/refresh"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reused = client
        .post(b.url("/api/v1/tokens/refresh"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(reused.status(), 401);
    assert!(
        eventually(Duration::from_secs(10), async || status_on(&a, &rotated)
            .await
            == 401)
        .await
    );

    // Password change on B ends A's other sessions; account deletion on B ends the rest.
    let kept = sign_in().await;
    let ended = sign_in().await;
    let change = json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD});
    let changed = client
        .put(b.url("/api/v1/me/password"))
        .bearer_auth(access(&kept))
        .json(&change)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 204);
    assert!(
        eventually(Duration::from_secs(10), async || status_on(&a, &ended)
            .await
            == 401)
        .await
    );
    assert_eq!(status_on(&a, &kept).await, 200);
    let deletion = json!({"password": NEW_PASSWORD});
    let deleted = client
        .delete(b.url("/api/v1/me"))
        .bearer_auth(access(&kept))
        .json(&deletion)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert!(
        eventually(Duration::from_secs(10), async || status_on(&a, &kept).await
            == 401)
        .await
    );
}

server_backend_tests!(revocation_reaches_other_processes);

async fn sign_ins_past_the_cap_end_the_least_recently_used_session(backend: Backend) {
    let Some(app) = crate::helpers::spawn_with(backend, |config| {
        config.max_sessions_per_user = 3;
    })
    .await
    else {
        return;
    };
    let first = registered(&app, "carla").await;
    let second = sign_in(&app, "carla", PASSWORD).await;
    let third = sign_in(&app, "carla", PASSWORD).await;
    // The first is used again, so the second becomes the least recently used.
    let renewed = refresh(&app, first["refresh_token"].as_str().unwrap()).await;
    assert_eq!(renewed.status(), 200);
    let first: Value = renewed.json().await.unwrap();

    let fourth = sign_in(&app, "carla", PASSWORD).await;
    assert_eq!(
        me_status(&app, &second).await,
        401,
        "the oldest in use ends"
    );
    problem(
        refresh(&app, second["refresh_token"].as_str().unwrap()).await,
        401,
    )
    .await;
    for kept in [&first, &third, &fourth] {
        assert_eq!(me_status(&app, kept).await, 200);
    }
    let listed: Value = app
        .get_bearer("/api/v1/sessions", access(&fourth))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().map(Vec::len), Some(3), "{listed}");
}
