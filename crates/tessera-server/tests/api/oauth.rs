//! Service clients and the standard token endpoints: `tessera clients`, the
//! client-credentials grant, introspection and revocation, and what a hostile caller tries
//! at each.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use tessera_store::Backend;

use crate::helpers::{
    PASSWORD, SECRET, TTL, TestApp, eventually, header, json_of, python, spawn, spawn_with,
};
use crate::process::Tessera;

/// Runs `tessera clients …` against a database, as an operator would.
fn clients_cli(database_url: &str, data_dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("clients")
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("TESSERA_DATA_DIR", data_dir)
        .env("TESSERA_SECRET_KEY", SECRET)
        .env("TESSERA_LOG", "warn")
        .output()
        .expect("the tessera binary runs")
}

/// `tessera clients …` against the app's database.
fn clients_command(app: &TestApp, args: &[&str]) -> std::process::Output {
    clients_cli(
        app.config.database_url.as_deref().unwrap(),
        &app.config.data_dir,
        args,
    )
}

/// The (id, secret) that `tessera clients add … --json` printed.
fn added_client(output: &std::process::Output) -> (String, String) {
    assert!(output.status.success(), "{output:?}");
    let printed: Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    let id = printed["client_id"].as_str().unwrap().to_owned();
    let secret = printed["client_secret"].as_str().unwrap().to_owned();
    (id, secret)
}

/// A client made with `tessera clients add NAME --json` and `extra` flags: (id, secret).
fn add_client(app: &TestApp, name: &str, extra: &[&str]) -> (String, String) {
    let mut args = vec!["add", name, "--json"];
    args.extend_from_slice(extra);
    added_client(&clients_command(app, &args))
}

/// `POST path` with a form, the client authenticating by HTTP Basic.
fn form_post(
    app: &TestApp,
    path: &str,
    client: (&str, &str),
    form: &[(&str, &str)],
) -> reqwest::RequestBuilder {
    app.client
        .post(app.url(path))
        .basic_auth(client.0, Some(client.1))
        .form(form)
}

/// A user's sign-in through the API: (access token, refresh token).
async fn signed_in(app: &TestApp, username: &str) -> (String, String) {
    assert_eq!(app.register(username).await.status(), 200);
    let pair = json_of(app.client.post(app.url("/api/v1/tokens")).json(&json!({
        "username": username, "password": PASSWORD
    })))
    .await;
    (
        pair["access_token"].as_str().unwrap().to_owned(),
        pair["refresh_token"].as_str().unwrap().to_owned(),
    )
}

async fn introspect(app: &TestApp, client: (&str, &str), token: &str) -> Value {
    let response = form_post(app, "/oauth/introspect", client, &[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "cache-control"), "no-store");
    response.json().await.unwrap()
}

/// An OAuth error answer (RFC 6749 §5.2), after checking its shape and status.
async fn oauth_error(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status().as_u16(), status, "{}", response.url());
    assert_eq!(header(&response, "content-type"), "application/json");
    let body: Value = response.json().await.unwrap();
    assert!(body["error_description"].is_string(), "{body}");
    body["error"].as_str().unwrap().to_owned()
}

/// The whole path: a client from the CLI, its token, introspection of a user's
/// token before and after logout, revocation of a refresh token, a wrong secret.
async fn a_client_gets_a_token_and_follows_a_users_session(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let (id, secret) = add_client(&app, "svc", &[]);
    assert!(id.starts_with("svc_"), "{id}");
    let client = (id.as_str(), secret.as_str());

    let response = form_post(
        &app,
        "/oauth/token",
        client,
        &[("grant_type", "client_credentials")],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "cache-control"), "no-store");
    let grant: Value = response.json().await.unwrap();
    assert_eq!(grant["token_type"], "Bearer");
    assert_eq!(grant["expires_in"], TTL);
    assert!(grant.get("refresh_token").is_none(), "{grant}");
    let own = introspect(&app, client, grant["access_token"].as_str().unwrap()).await;
    assert_eq!(own["active"], true);
    assert_eq!(own["client_id"], id.as_str());
    assert_eq!(own["sub"], id.as_str());

    let (access, refresh) = signed_in(&app, "ann").await;
    let live = introspect(&app, client, &access).await;
    assert_eq!(live["active"], true, "{live}");
    assert_eq!(live["username"], "ann");
    assert_eq!(live["token_type"], "access_token");
    assert!(live["sid"].is_string() && live["exp"].is_i64() && live["iat"].is_i64());
    let logout = app
        .client
        .post(app.url("/api/v1/logout"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);
    assert_eq!(
        introspect(&app, client, &access).await,
        json!({"active": false})
    );

    let (_, refresh_again) = signed_in_again(&app, "ann").await;
    assert_eq!(
        introspect(&app, client, &refresh).await,
        json!({"active": false}),
        "a refresh token is never active"
    );
    let revoked = form_post(&app, "/oauth/revoke", client, &[("token", &refresh_again)])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let refreshed = app
        .post_json(
            "/api/v1/tokens/refresh",
            json!({ "refresh_token": refresh_again }),
        )
        .await;
    assert_eq!(
        refreshed.status(),
        401,
        "the revoked session cannot refresh"
    );

    let wrong = form_post(
        &app,
        "/oauth/token",
        (&id, "not-the-secret"),
        &[("grant_type", "client_credentials")],
    )
    .send()
    .await
    .unwrap();
    assert!(
        header(&wrong, "www-authenticate").starts_with("Basic"),
        "RFC 6749 §5.2: a 401 names the scheme"
    );
    assert_eq!(oauth_error(wrong, 401).await, "invalid_client");
}

/// Another sign-in of an existing user: (access token, refresh token).
async fn signed_in_again(app: &TestApp, username: &str) -> (String, String) {
    let pair = json_of(app.client.post(app.url("/api/v1/tokens")).json(&json!({
        "username": username, "password": PASSWORD
    })))
    .await;
    (
        pair["access_token"].as_str().unwrap().to_owned(),
        pair["refresh_token"].as_str().unwrap().to_owned(),
    )
}

/// client_secret_post, scopes and audiences, and every malformed request answered in
/// RFC 6749 §5.2's shape.
async fn requests_are_checked_as_rfc_6749_says(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let (id, secret) = add_client(
        &app,
        "reports",
        &[
            "--audience",
            "billing-api",
            "--scope",
            "invoices:read",
            "--scope",
            "invoices:write",
        ],
    );
    let client = (id.as_str(), secret.as_str());
    let posted = json_of(app.client.post(app.url("/oauth/token")).form(&[
        ("grant_type", "client_credentials"),
        ("client_id", &id),
        ("client_secret", &secret),
        ("scope", "invoices:read"),
    ]))
    .await;
    assert_eq!(posted["scope"], "invoices:read", "{posted}");
    let described = introspect(&app, client, posted["access_token"].as_str().unwrap()).await;
    assert_eq!(described["scope"], "invoices:read");
    assert_eq!(described["aud"], "billing-api");

    let cases: Vec<(reqwest::RequestBuilder, u16, &str)> = vec![
        (
            form_post(
                &app,
                "/oauth/token",
                client,
                &[("grant_type", "client_credentials"), ("scope", "admin")],
            ),
            400,
            "invalid_scope",
        ),
        (
            form_post(&app, "/oauth/token", client, &[("grant_type", "password")]),
            400,
            "unsupported_grant_type",
        ),
        (
            form_post(&app, "/oauth/token", client, &[]),
            400,
            "invalid_request",
        ),
        (
            form_post(
                &app,
                "/oauth/token",
                client,
                &[
                    ("grant_type", "client_credentials"),
                    ("grant_type", "client_credentials"),
                ],
            ),
            400,
            "invalid_request",
        ),
        (
            // Two ways to authenticate in one request (RFC 6749 §2.3).
            form_post(
                &app,
                "/oauth/token",
                client,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", &id),
                    ("client_secret", &secret),
                ],
            ),
            400,
            "invalid_request",
        ),
        (
            app.client
                .post(app.url("/oauth/token"))
                .basic_auth(&id, Some(&secret))
                .json(&json!({"grant_type": "client_credentials"})),
            400,
            "invalid_request",
        ),
        (
            app.client
                .post(app.url("/oauth/token"))
                .form(&[("grant_type", "client_credentials")]),
            401,
            "invalid_client",
        ),
        (
            form_post(&app, "/oauth/introspect", client, &[]),
            400,
            "invalid_request",
        ),
        (
            app.client
                .post(app.url("/oauth/token"))
                .basic_auth(&id, Some(&secret))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(vec![b'a'; 20_000]),
            413,
            "invalid_request",
        ),
    ];
    for (request, status, error) in cases {
        let response = request.send().await.unwrap();
        assert_eq!(oauth_error(response, status).await, error);
    }
}

/// Hostile: a service client's token is no user's; user routes refuse it, and revocation
/// cannot end it (it has no session). Deleting the client ends its secret and tokens.
async fn client_tokens_open_no_user_routes_and_end_with_their_client(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let (id, secret) = add_client(&app, "job", &[]);
    let client = (id.as_str(), secret.as_str());
    let grant = json_of(form_post(
        &app,
        "/oauth/token",
        client,
        &[("grant_type", "client_credentials")],
    ))
    .await;
    let token = grant["access_token"].as_str().unwrap();
    for path in ["/api/v1/me", "/api/v1/sessions", "/"] {
        let response = app.get_bearer(path, token).await;
        assert_eq!(response.status(), 401, "{path}");
    }
    let revoked = form_post(&app, "/oauth/revoke", client, &[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(oauth_error(revoked, 400).await, "unsupported_token_type");

    let (other_id, other_secret) = add_client(&app, "watcher", &[]);
    let watcher = (other_id.as_str(), other_secret.as_str());
    assert_eq!(introspect(&app, watcher, token).await["active"], true);
    let deleted = clients_command(&app, &["delete", &id]);
    assert!(deleted.status.success(), "{deleted:?}");
    // The CLI is another process: this one learns of it with the next sync.
    let ended = eventually(Duration::from_secs(10), async || {
        introspect(&app, watcher, token).await == json!({"active": false})
    })
    .await;
    assert!(
        ended,
        "a deleted client's token stops introspecting as active"
    );
    let refused = form_post(
        &app,
        "/oauth/token",
        client,
        &[("grant_type", "client_credentials")],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(oauth_error(refused, 401).await, "invalid_client");
}

/// Hostile: a session id (in every access token) with a made-up secret revokes nothing,
/// nor does an expired or forged access token; each is answered 200 as RFC 7009 asks.
async fn revocation_needs_the_token_itself(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let (id, secret) = add_client(&app, "svc", &[]);
    let client = (id.as_str(), secret.as_str());
    let (access, refresh) = signed_in(&app, "bob").await;
    let sid = refresh.split_once('.').unwrap().0;
    let mut forged = access.clone();
    forged.replace_range(forged.len() - 4.., "AAAA");
    for token in [format!("{sid}.made-up"), forged, "garbage".to_owned()] {
        let response = form_post(&app, "/oauth/revoke", client, &[("token", &token)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{token}");
    }
    assert_eq!(app.get_bearer("/api/v1/me", &access).await.status(), 200);
    let refreshed = app
        .post_json(
            "/api/v1/tokens/refresh",
            json!({ "refresh_token": refresh }),
        )
        .await;
    assert_eq!(refreshed.status(), 200, "the session lives on");
    // The access token itself does end it.
    let response = form_post(&app, "/oauth/revoke", client, &[("token", &access)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(app.get_bearer("/api/v1/me", &access).await.status(), 401);
}

/// Hostile: failing to authenticate as a client named like a user must not lock that
/// user's sign-ins, and a flood of wrong secrets meets 429 while the right secret still
/// works (it cannot be guessed; a lock must not shut the service out).
async fn failed_client_authentications_are_throttled_apart_from_users(backend: Backend) {
    let Some(app) = spawn_with(backend, |config| config.login_max_failures = 3).await else {
        return;
    };
    assert_eq!(app.register("ann").await.status(), 200);
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let response = form_post(
            &app,
            "/oauth/token",
            ("ann", "guess"),
            &[("grant_type", "client_credentials")],
        )
        .send()
        .await
        .unwrap();
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            assert!(!header(&response, "retry-after").is_empty());
            assert_eq!(oauth_error(response, 429).await, "too_many_attempts");
        }
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429]);
    let sign_in = app
        .post_json(
            "/api/v1/tokens",
            json!({"username": "ann", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        sign_in.status(),
        200,
        "user ann is not locked by client ann"
    );

    let (id, secret) = add_client(&app, "svc", &[]);
    for _ in 0..4 {
        let _ = form_post(
            &app,
            "/oauth/token",
            (&id, "wrong"),
            &[("grant_type", "client_credentials")],
        )
        .send()
        .await
        .unwrap();
    }
    let right = form_post(
        &app,
        "/oauth/token",
        (&id, &secret),
        &[("grant_type", "client_credentials")],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(right.status(), 200);
}

/// The metadata names the three endpoints, the grant and the client authentication methods.
async fn the_metadata_lists_the_oauth_endpoints(backend: Backend) {
    let issuer = "https://auth.example.test";
    let Some(app) = spawn_with(backend, |config| config.issuer = Some(issuer.into())).await else {
        return;
    };
    let metadata = json_of(
        app.client
            .get(app.url("/.well-known/oauth-authorization-server")),
    )
    .await;
    assert_eq!(metadata["token_endpoint"], format!("{issuer}/oauth/token"));
    assert_eq!(
        metadata["introspection_endpoint"],
        format!("{issuer}/oauth/introspect")
    );
    assert_eq!(
        metadata["revocation_endpoint"],
        format!("{issuer}/oauth/revoke")
    );
    assert_eq!(
        metadata["grant_types_supported"],
        json!(["client_credentials"])
    );
    assert_eq!(
        metadata["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post"])
    );
}

/// The other commands: a table and JSON lines without secrets, a new secret that replaces
/// the old one, unknown ids named as such, bad settings refused.
async fn the_clients_commands_manage_clients(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let (id, old_secret) = add_client(&app, "nightly export", &["--audience", "exports"]);
    let listed = clients_command(&app, &["list", "--json"]);
    let line: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(line["client_id"], id.as_str());
    assert_eq!(line["name"], "nightly export");
    assert_eq!(line["audiences"], json!(["exports"]));
    let table = String::from_utf8(clients_command(&app, &["list"]).stdout).unwrap();
    assert!(
        table.contains(&id) && table.contains("1 client(s)"),
        "{table}"
    );
    assert!(!table.contains(&old_secret) && !line.to_string().contains(&old_secret));

    let rotated = clients_command(&app, &["rotate-secret", &id, "--json"]);
    let new_secret = serde_json::from_slice::<Value>(&rotated.stdout).unwrap()["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(new_secret, old_secret);
    let grant = |secret: String| {
        form_post(
            &app,
            "/oauth/token",
            (&id, &secret),
            &[("grant_type", "client_credentials")],
        )
        .send()
    };
    assert_eq!(grant(new_secret).await.unwrap().status(), 200);
    // The CLI is another process: this one learns of the new secret with the next sync.
    let old_refused = eventually(Duration::from_secs(10), async || {
        grant(old_secret.clone()).await.unwrap().status() == 401
    })
    .await;
    assert!(old_refused, "the old secret stops");

    for args in [
        vec!["delete", "svc_nosuchclient"],
        vec!["rotate-secret", "svc_nosuchclient"],
    ] {
        let output = clients_command(&app, &args);
        assert!(!output.status.success());
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("no such client"),
            "{output:?}"
        );
    }
    for args in [
        vec!["add", "x", "--scope", "has space"],
        vec!["add", "x", "--audience", ""],
        vec!["add", "   "],
    ] {
        let output = clients_command(&app, &args);
        assert!(!output.status.success(), "{args:?}");
    }
}

backend_tests!(
    a_client_gets_a_token_and_follows_a_users_session,
    requests_are_checked_as_rfc_6749_says,
    client_tokens_open_no_user_routes_and_end_with_their_client,
    revocation_needs_the_token_itself,
    failed_client_authentications_are_throttled_apart_from_users,
    the_metadata_lists_the_oauth_endpoints,
    the_clients_commands_manage_clients,
);

/// The peers of the issue, on PostgreSQL with two processes: Authlib's OAuth 2.0 client gets
/// a token from process A and calls a route that PyJWT protects with the JWKS; requests
/// introspects on process B a user's token that signs out on A (inactive within the sync
/// bound), and revokes on B a refresh token, which then fails on A.
#[cfg(feature = "postgres")]
#[actix_web::test]
async fn python_clients_across_two_processes_on_postgres() {
    let Some(database) = tessera_store::testing::TestDatabase::create(Backend::Postgres) else {
        return;
    };
    let Some(python) = python() else {
        return;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/oauth_client.py");
    let peer = |args: &[&str]| -> Value {
        let output = Command::new(&python)
            .arg(&script)
            .args(args)
            .output()
            .expect("python runs");
        assert!(output.status.success(), "{output:?}");
        serde_json::from_slice(&output.stdout).expect("one JSON object")
    };
    let issuer = "http://tessera.test";
    let env = [
        ("TESSERA_SIGNING_ALG", "EdDSA"),
        ("TESSERA_ISSUER", issuer),
        ("TESSERA_REVOCATION_SYNC_INTERVAL", "1"),
    ];
    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();
    let a = Tessera::start_with(database.url(), dir_a.path(), &env);
    let b = Tessera::start_with(database.url(), dir_b.path(), &env);
    let (id, secret) = added_client(&clients_cli(
        database.url(),
        dir_a.path(),
        &["add", "orders-job", "--audience", "orders-api", "--json"],
    ));

    let granted = peer(&["grant", &a.base, &id, &secret, issuer, "orders-api"]);
    assert_eq!(granted["token_type"], "Bearer");
    assert_eq!(granted["with_token"], 200, "{granted}");
    assert_eq!(granted["caller"], id.as_str());
    assert_eq!(granted["without_token"], 401);
    let own = peer(&[
        "introspect",
        &b.base,
        &id,
        &secret,
        granted["access_token"].as_str().unwrap(),
    ]);
    assert_eq!(own["client_id"], id.as_str());

    let client = reqwest::Client::new();
    assert_eq!(
        client
            .post(a.url("/api/users"))
            .json(&json!({"username": "ann", "password": PASSWORD}))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let sign_in = || async {
        json_of(client.post(a.url("/api/v1/tokens")).json(&json!({
            "username": "ann", "password": PASSWORD
        })))
        .await
    };
    let first = sign_in().await;
    let access = first["access_token"].as_str().unwrap();
    let live = peer(&["introspect", &b.base, &id, &secret, access]);
    assert_eq!(live["active"], true, "{live}");
    assert_eq!(live["username"], "ann");
    let logout = client
        .post(a.url("/api/v1/logout"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);
    let inactive_on_b = eventually(Duration::from_secs(10), async || {
        peer(&["introspect", &b.base, &id, &secret, access]) == json!({"active": false})
    })
    .await;
    assert!(
        inactive_on_b,
        "B learns of A's logout within the sync bound"
    );

    let second = sign_in().await;
    let refresh = second["refresh_token"].as_str().unwrap();
    assert_eq!(
        peer(&["revoke", &b.base, &id, &secret, refresh])["status"],
        200
    );
    let refreshed = client
        .post(a.url("/api/v1/tokens/refresh"))
        .json(&json!({ "refresh_token": refresh }))
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), 401, "revoked on B, refused on A");
}
