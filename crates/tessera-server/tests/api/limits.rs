//! Brute-force limits: failed sign-ins counted per account and per address, atomically,
//! answered with 429 and `Retry-After` past the limit; registration limited per address.

use serde_json::json;
use tessera_store::Backend;

use crate::helpers::{PASSWORD, TestApp, header, problem, spawn, spawn_with};

async fn wrong_sign_in(app: &TestApp, username: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/tokens",
        json!({"username": username, "password": "wrong password!"}),
    )
    .await
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|&&s| s == status).count()
}

async fn thirty_wrong_passwords_meet_429s_with_retry_after(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    assert_eq!(app.register("victim").await.status(), 200);
    let mut statuses = Vec::new();
    for _ in 0..30 {
        let response = wrong_sign_in(&app, "victim").await;
        if response.status() == 429 {
            let retry_after: i64 = header(&response, "retry-after").parse().unwrap();
            assert!((1..=15 * 60).contains(&retry_after), "{retry_after}");
            assert_eq!(problem(response, 429).await["code"], "too_many_attempts");
            statuses.push(429);
        } else {
            statuses.push(response.status().as_u16());
        }
    }
    assert_eq!(
        (count(&statuses, 401), count(&statuses, 429)),
        (10, 20),
        "{statuses:?}"
    );
    // While locked, even the right password waits: the lock is what stops guessing.
    assert_eq!(
        app.tutorial_login("VICTIM", PASSWORD).await.status(),
        429,
        "the account, in any case"
    );
}

async fn thirty_parallel_wrong_passwords_never_exceed_the_count(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    assert_eq!(app.register("target").await.status(), 200);
    let attempts = (0..30).map(|_| wrong_sign_in(&app, "target"));
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        count(&statuses, 401),
        10,
        "exactly the limit is checked: {statuses:?}"
    );
    assert_eq!(count(&statuses, 429), 20, "{statuses:?}");
}

async fn a_success_clears_the_account_count(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    assert_eq!(app.register("forgetful").await.status(), 200);
    for _ in 0..9 {
        assert_eq!(wrong_sign_in(&app, "forgetful").await.status(), 401);
    }
    assert_eq!(
        app.tutorial_login("forgetful", PASSWORD).await.status(),
        200
    );
    for _ in 0..9 {
        assert_eq!(
            wrong_sign_in(&app, "forgetful").await.status(),
            401,
            "counting started afresh"
        );
    }
}

async fn unknown_accounts_are_limited_like_real_ones(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let statuses: Vec<u16> =
        futures_util::future::join_all((0..12).map(|_| wrong_sign_in(&app, "ghost")))
            .await
            .iter()
            .map(|r| r.status().as_u16())
            .collect();
    assert_eq!(
        (count(&statuses, 401), count(&statuses, 429)),
        (10, 2),
        "no enumeration by lockout"
    );
}

async fn throttling_can_be_turned_off(backend: Backend) {
    let Some(app) = spawn_with(backend, |c| c.login_max_failures = 0).await else {
        return;
    };
    assert_eq!(app.register("bench").await.status(), 200);
    for _ in 0..15 {
        assert_eq!(wrong_sign_in(&app, "bench").await.status(), 401);
    }
}

async fn registration_is_limited_per_address(backend: Backend) {
    let Some(app) = spawn_with(backend, |c| c.register_max_per_hour = 3).await else {
        return;
    };
    for name in ["one", "two", "three"] {
        assert_eq!(app.register(name).await.status(), 200);
    }
    let refused = app
        .post_json(
            "/api/v1/users",
            json!({"username": "four", "password": PASSWORD}),
        )
        .await;
    assert!(!header(&refused, "retry-after").is_empty());
    assert_eq!(problem(refused, 429).await["code"], "too_many_attempts");
}

async fn successful_sign_ins_never_lock_an_address(backend: Backend) {
    let Some(app) = spawn_with(backend, |c| c.login_max_failures = 2).await else {
        return;
    };
    assert_eq!(app.register("regular").await.status(), 200);
    // The address limit is five times the account limit: 10 here. Twelve good sign-ins.
    for _ in 0..12 {
        assert_eq!(app.tutorial_login("regular", PASSWORD).await.status(), 200);
    }
}

backend_tests!(
    successful_sign_ins_never_lock_an_address,
    thirty_wrong_passwords_meet_429s_with_retry_after,
    thirty_parallel_wrong_passwords_never_exceed_the_count,
    a_success_clears_the_account_count,
    unknown_accounts_are_limited_like_real_ones,
    throttling_can_be_turned_off,
    registration_is_limited_per_address,
);
