//! `GET /api/v1/web-settings`: what the operator configured for the web app's pages, and
//! the checks the forgotten-password note passes at start.

use serde_json::{Value, json};
use tessera_store::Backend;
use tessera_store::testing::TestDatabase;

use crate::helpers::{TestApp, header, problem, spawn, spawn_with};
use crate::process::Tessera;
use crate::proxies::tessera_config;

const DEFAULT_NOTE: &str = "Tessera cannot email you a new password. Ask the administrator \
                            of this service to set a new one for you.";

/// Markup and quotes in a note are text, passed on exactly as configured.
const CONFIGURED_NOTE: &str = "Ask Ann (room 4.12, ext. 4711) — <b>not bold</b> & \"quoted\".";

/// The settings, after checking they are public and briefly cacheable.
async fn web_settings(app: &TestApp) -> Value {
    let response = app.get_with("/api/v1/web-settings", &[]).await;
    assert_eq!(response.status(), 200, "no authentication needed");
    assert_eq!(header(&response, "cache-control"), "public, max-age=60");
    assert_eq!(header(&response, "content-type"), "application/json");
    response.json().await.unwrap()
}

#[actix_web::test]
async fn web_settings_answer_the_default_and_a_configured_note() {
    let app = spawn(Backend::Sqlite).await.unwrap();
    assert_eq!(
        web_settings(&app).await,
        json!({"forgot_password_note": DEFAULT_NOTE})
    );
    let wrong_method = app
        .post_json("/api/v1/web-settings", json!({"forgot_password_note": "x"}))
        .await;
    assert_eq!(header(&wrong_method, "allow"), "GET");
    problem(wrong_method, 405).await;

    let app = spawn_with(Backend::Sqlite, |config| {
        config.forgot_password_note = CONFIGURED_NOTE.to_owned();
    })
    .await
    .unwrap();
    assert_eq!(
        web_settings(&app).await,
        json!({"forgot_password_note": CONFIGURED_NOTE})
    );
}

/// `TESSERA_FORGOT_PASSWORD_NOTE` reaches the route of the real binary; a note that is not
/// plain text within the bound stops the start, naming the setting.
#[actix_web::test]
async fn the_note_comes_from_the_environment_and_bad_ones_stop_the_start() {
    let database = TestDatabase::create(Backend::Sqlite).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let tessera = Tessera::start_with(
        database.url(),
        dir.path(),
        &[("TESSERA_FORGOT_PASSWORD_NOTE", CONFIGURED_NOTE)],
    );
    let settings: Value = reqwest::get(tessera.url("/api/v1/web-settings"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(settings, json!({"forgot_password_note": CONFIGURED_NOTE}));

    let longest = "n".repeat(1000);
    let (ok, stdout, stderr) = tessera_config(&[("TESSERA_FORGOT_PASSWORD_NOTE", &longest)]);
    assert!(ok, "{stderr}");
    let config: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(config["forgot_password_note"], longest.as_str());
    for bad in [
        "n".repeat(1001),
        "Ask Ann.\nOr Bob.".to_owned(),
        "\u{1b}[2J\u{1b}[Hcleared".to_owned(),
    ] {
        let (ok, _, stderr) = tessera_config(&[("TESSERA_FORGOT_PASSWORD_NOTE", &bad)]);
        assert!(!ok, "{bad:?} was accepted");
        assert!(
            stderr.contains("forgot_password_note (TESSERA_FORGOT_PASSWORD_NOTE)"),
            "{stderr}"
        );
        assert!(
            !stderr.contains("nnnn") && !stderr.contains("cleared"),
            "{stderr}"
        );
    }
}
