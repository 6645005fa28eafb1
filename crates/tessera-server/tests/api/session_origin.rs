//! The client each session records at sign-in — its `User-Agent` and address — as the
//! sessions list shows it, and what a hostile `User-Agent` becomes.

use reqwest::header::{HeaderMap, HeaderValue, USER_AGENT};
use serde_json::{Value, json};
use tessera_store::Backend;

use crate::helpers::{PASSWORD, TestApp, spawn_with};

/// The bound of `tessera_api::policy::USER_AGENT_MAX_CHARS`, as the API documents it.
const USER_AGENT_MAX_CHARS: usize = 256;

/// A server behind a trusted proxy on 127.0.0.1, so that tests choose the client address
/// with `X-Forwarded-For`, with `username` registered.
async fn app_with_user(backend: Backend, username: &str) -> Option<TestApp> {
    let app = spawn_with(backend, |config| {
        config.trusted_proxies = "127.0.0.1".parse().unwrap();
    })
    .await?;
    assert_eq!(app.register(username).await.status(), 200);
    Some(app)
}

/// `User-Agent` as these raw bytes (none for `None`), and `X-Forwarded-For` when given.
fn client_headers(user_agent: Option<&[u8]>, forwarded_for: Option<&str>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(user_agent) = user_agent {
        headers.insert(USER_AGENT, HeaderValue::from_bytes(user_agent).unwrap());
    }
    if let Some(forwarded_for) = forwarded_for {
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_str(forwarded_for).unwrap(),
        );
    }
    headers
}

/// Signs in by `POST /api/v1/tokens`; the access token.
async fn sign_in(app: &TestApp, username: &str, headers: HeaderMap) -> String {
    let response = app
        .client
        .post(app.url("/api/v1/tokens"))
        .headers(headers)
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let pair: Value = response.json().await.unwrap();
    pair["access_token"].as_str().unwrap().to_owned()
}

/// The session of `token` as `GET /api/v1/sessions` lists it (the one marked current).
async fn own_session(app: &TestApp, token: &str) -> Value {
    let response = app.get_bearer("/api/v1/sessions", token).await;
    assert_eq!(response.status(), 200);
    let sessions: Vec<Value> = response.json().await.unwrap();
    sessions
        .into_iter()
        .find(|session| session["current"] == true)
        .expect("the token's own session is listed")
}

/// The API's `user_agent` and `address` of a listed session: absent members are `None`.
fn origin(session: &Value) -> (Option<&str>, Option<&str>) {
    let member = |name: &str| {
        session.get(name).map(|value| {
            value
                .as_str()
                .unwrap_or_else(|| panic!("{name} is a string when present: {session}"))
        })
    };
    (member("user_agent"), member("address"))
}

async fn each_session_shows_the_client_it_was_signed_in_from(backend: Backend) {
    let Some(app) = app_with_user(backend, "uma").await else {
        return;
    };
    let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0";
    let laptop = sign_in(
        &app,
        "uma",
        client_headers(Some(firefox.as_bytes()), Some("203.0.113.9")),
    )
    .await;
    // UTF-8 beyond ASCII is kept: the header is read as UTF-8, not as visible ASCII only.
    let phone_agent = "Tessera-Phone/2.1 (Zoë's 電話)";
    let phone = sign_in(
        &app,
        "uma",
        client_headers(Some(phone_agent.as_bytes()), Some("2001:db8::7")),
    )
    .await;
    let bare = sign_in(&app, "uma", client_headers(None, None)).await;
    // The tutorial's `GET /api/login` starts a session too, and records its client the same.
    let tutorial = app
        .client
        .get(app.url("/api/login"))
        .headers(client_headers(Some(b"python-requests/2.32.3"), None))
        .basic_auth("uma", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(tutorial.status(), 200);
    let tutorial: String = tutorial.json().await.unwrap();

    let expected = [
        (&laptop, Some(firefox), Some("203.0.113.9")),
        (&phone, Some(phone_agent), Some("2001:db8::7")),
        (&bare, None, Some("127.0.0.1")),
        (&tutorial, Some("python-requests/2.32.3"), Some("127.0.0.1")),
    ];
    for (token, user_agent, address) in expected {
        let session = own_session(&app, token).await;
        assert_eq!(origin(&session), (user_agent, address), "{session}");
    }
    let all: Vec<Value> = app
        .get_bearer("/api/v1/sessions", &laptop)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all.len(), 4, "{all:?}");

    // A refresh from elsewhere keeps what the sign-in recorded.
    let signed_in: Value = app
        .client
        .post(app.url("/api/v1/tokens"))
        .headers(client_headers(Some(b"Original/1.0"), Some("198.51.100.1")))
        .json(&json!({"username": "uma", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let refreshed = app
        .client
        .post(app.url("/api/v1/tokens/refresh"))
        .headers(client_headers(Some(b"Elsewhere/9.9"), Some("192.0.2.55")))
        .json(&json!({"refresh_token": signed_in["refresh_token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), 200);
    let refreshed: Value = refreshed.json().await.unwrap();
    let session = own_session(&app, refreshed["access_token"].as_str().unwrap()).await;
    assert_eq!(
        origin(&session),
        (Some("Original/1.0"), Some("198.51.100.1")),
        "{session}"
    );
}

async fn hostile_user_agents_are_bounded_and_cleaned(backend: Backend) {
    let Some(app) = app_with_user(backend, "hal").await else {
        return;
    };
    let huge = "A".repeat(10_000);
    let wide = "é".repeat(USER_AGENT_MAX_CHARS + 50);
    let cases: [(&[u8], Option<String>); 6] = [
        (huge.as_bytes(), Some("A".repeat(USER_AGENT_MAX_CHARS))),
        // Cut on a character boundary, counted in characters.
        (wide.as_bytes(), Some("é".repeat(USER_AGENT_MAX_CHARS))),
        // The control characters a header can carry: tab, and C1 controls (CSI, NEL) and
        // bidirectional overrides in UTF-8; and white space at the ends.
        (
            "\t Mozilla/5.0\u{85} (X11;\u{9b}31m Linux)\u{202e}gnp.exe \t".as_bytes(),
            Some("Mozilla/5.0 (X11;31m Linux)gnp.exe".to_owned()),
        ),
        // Not UTF-8: no user agent at all, and the sign-in still works.
        (b"Mozilla/5.0 \xff\xfe\xc3", None),
        // Nothing left once cleaned.
        ("\t\u{85}\u{202e} ".as_bytes(), None),
        (b"", None),
    ];
    for (user_agent, expected) in cases {
        let token = sign_in(
            &app,
            "hal",
            client_headers(Some(user_agent), Some("203.0.113.66")),
        )
        .await;
        let session = own_session(&app, &token).await;
        assert_eq!(
            origin(&session),
            (expected.as_deref(), Some("203.0.113.66")),
            "{:?}",
            String::from_utf8_lossy(user_agent)
        );
    }
}

backend_tests!(
    each_session_shows_the_client_it_was_signed_in_from,
    hostile_user_agents_are_bounded_and_cleaned,
);
