//! Correctness under concurrency, faults and several processes, on the real servers.

use std::time::Duration;

use tessera_domain::{PasswordHasher, UserRepository};
use tessera_store::testing::TestDatabase;
use tessera_store::{Backend, Database, PoolOptions};

use crate::helpers::{PASSWORD, problem, spawn, spawn_with};
use crate::process::{Proxy, Tessera};

async fn fifty_concurrent_registrations_make_one_user(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let attempts = (0..50).map(|i| {
        let name = if i % 2 == 0 { "Racer" } else { "racer" };
        app.post_json(
            "/api/v1/users",
            serde_json::json!({"username": name, "password": PASSWORD}),
        )
    });
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|&&s| s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|&&s| s == 409).count(),
        49,
        "{statuses:?}"
    );
    let auth = tessera_server::startup::auth(&app.config).unwrap();
    assert_eq!(auth.list_users().unwrap().len(), 1);
}

/// `url` rewritten to reach its server through a new proxy.
fn via_proxy(url: &str) -> (Proxy, String) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (userinfo, rest) = rest.split_once('@').unwrap();
    let (address, database) = rest.split_once('/').unwrap();
    let proxy = Proxy::new(address);
    let proxied = format!("{scheme}://{userinfo}@127.0.0.1:{}/{database}", proxy.port);
    (proxy, proxied)
}

/// The database goes away: requests that need it answer 503 problems within the
/// configured timeout; `/healthz` stays up; when it returns, service resumes by itself.
async fn a_lost_database_is_503_until_it_returns(backend: Backend) {
    let Some(direct) = TestDatabase::create(backend) else {
        return;
    };
    let (proxy, proxied) = via_proxy(direct.url());
    let Some(app) = spawn_with(backend, |config| {
        config.database_url = Some(proxied.clone());
        config.database_timeout = 2;
    })
    .await
    else {
        return;
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let register = |name: &str| {
        client
            .post(app.url("/api/v1/users"))
            .json(&serde_json::json!({"username": name, "password": PASSWORD}))
            .send()
    };
    assert_eq!(register("before").await.unwrap().status(), 201);

    proxy.stop();
    let ready = client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("an answer, not a hang");
    assert_eq!(problem(ready, 503).await["code"], "service_unavailable");
    problem(
        register("during").await.expect("an answer, not a hang"),
        503,
    )
    .await;
    let login = client
        .get(app.url("/api/login"))
        .basic_auth("before", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    problem(login, 503).await;
    assert_eq!(
        client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    proxy.start();
    assert_eq!(
        client
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(register("after").await.unwrap().status(), 201);
    let login = client
        .get(app.url("/api/login"))
        .basic_auth("before", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
}

/// SIGKILL in the middle of a burst of registrations: every acknowledged user is there and
/// complete afterwards, and no row is half-written.
async fn sigkill_loses_no_acknowledged_user(backend: Backend) {
    let Some(database) = TestDatabase::create(backend) else {
        return;
    };
    let data_dir = tempfile::tempdir().unwrap();
    let mut server = Tessera::start(database.url(), data_dir.path());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let (acknowledged_tx, mut acknowledged_rx) = tokio::sync::mpsc::unbounded_channel();
    let mut burst = Vec::new();
    for i in 0..200 {
        let (client, url, acknowledged) = (
            client.clone(),
            server.url("/api/users"),
            acknowledged_tx.clone(),
        );
        burst.push(actix_web::rt::spawn(async move {
            let name = format!("burst{i}");
            let body = serde_json::json!({"username": name, "password": PASSWORD});
            if let Ok(response) = client.post(url).json(&body).send().await {
                if response.status() == 200 {
                    let _ = acknowledged.send(name);
                }
            }
        }));
    }
    drop(acknowledged_tx);
    let mut names = Vec::new();
    while let Some(name) = acknowledged_rx.recv().await {
        names.push(name);
        if names.len() == 20 {
            server.kill();
        }
    }
    for task in burst {
        task.await.unwrap();
    }
    assert!(
        names.len() >= 20 && names.len() < 200,
        "the kill landed mid-burst: {}",
        names.len()
    );

    let store = Database::open(database.url(), &PoolOptions::default()).unwrap();
    let stored = store.list_users().unwrap();
    let hasher = PasswordHasher::new(4);
    for user in &stored {
        assert!(
            hasher.verify(PASSWORD, &user.password_hash).unwrap(),
            "complete row: {user:?}"
        );
    }
    for name in &names {
        assert!(
            stored.iter().any(|u| &u.username == name),
            "acknowledged {name} is stored"
        );
    }

    let restarted = Tessera::start(database.url(), data_dir.path());
    let login = client
        .get(restarted.url("/api/login"))
        .basic_auth(&names[0], Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
}

/// Two processes with the same key and database behave as one service.
async fn two_processes_share_users_and_tokens(backend: Backend) {
    let Some(database) = TestDatabase::create(backend) else {
        return;
    };
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = Tessera::start(database.url(), dir_a.path());
    let b = Tessera::start(database.url(), dir_b.path());
    let client = reqwest::Client::new();
    let credentials = serde_json::json!({"username": "shared", "password": PASSWORD});
    let created = client
        .post(a.url("/api/v1/users"))
        .json(&credentials)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let taken = client
        .post(b.url("/api/v1/users"))
        .json(&credentials)
        .send()
        .await
        .unwrap();
    assert_eq!(taken.status(), 409, "B sees the user A registered");
    let issued: serde_json::Value = client
        .post(b.url("/api/v1/tokens"))
        .json(&credentials)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = issued["access_token"].as_str().unwrap();
    let me = client
        .get(a.url("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200, "a token issued by B is accepted by A");
    let tutorial: String = client
        .get(a.url("/api/login"))
        .basic_auth("shared", Some(PASSWORD))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let hello: String = client
        .get(b.url("/"))
        .bearer_auth(&tutorial)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(hello, "Hello, shared");
}

backend_tests!(
    fifty_concurrent_registrations_make_one_user,
    sigkill_loses_no_acknowledged_user,
    two_processes_share_users_and_tokens,
);

server_backend_tests!(a_lost_database_is_503_until_it_returns);
