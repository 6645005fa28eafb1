//! Changing the password: behind Sign in, the server's messages next to their fields, and
//! afterwards only the new password works, this session stays and the others end.

use serde_json::json;

use crate::harness::{App, Options, PASSWORD};

const NEW_PASSWORD: &str = "a brand new passphrase";

/// `message` as the app shows it: the server's messages start in lower case.
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn changing_the_password_keeps_this_session_and_ends_the_others() {
    let Some(app) = App::start(Options::default()).await else {
        return;
    };
    app.register_via_api("sam", PASSWORD).await;
    let elsewhere = app.session_via_api("sam", PASSWORD).await;
    let elsewhere = elsewhere["access_token"].as_str().expect("an access token");

    // The page is for signed-in users, and signing in leads to it.
    app.goto("/account/password").await;
    app.wait_for_location("/login?next=%2Faccount%2Fpassword")
        .await;
    app.sign_in_with_form("sam", PASSWORD).await;
    app.wait_for_heading("Change password").await;
    app.wait_for_location("/account/password").await;
    let here = app.wait_for_access_token().await;

    // A wrong current password: the server's own message, next to Current password.
    let (status, problem) = app
        .api(
            reqwest::Method::PUT,
            "/api/v1/me/password",
            Some(elsewhere),
            Some(json!({ "current_password": "not the password", "new_password": NEW_PASSWORD })),
        )
        .await;
    assert_eq!(
        (status, problem["field"].as_str()),
        (400, Some("current_password"))
    );
    let wrong = sentence(problem["detail"].as_str().expect("a detail"));
    app.fill("Current password", "not the password").await;
    app.fill("New password", NEW_PASSWORD).await;
    app.click_button("Change password").await;
    let shown = app.wait_for("//p[@id='current_password-message']").await;
    assert_eq!(shown.text().await.expect("text"), wrong);
    let described = app
        .field("Current password")
        .await
        .attr("aria-describedby")
        .await
        .expect("attribute");
    assert_eq!(described.as_deref(), Some("current_password-message"));
    assert!(
        !app.has("//p[@id='new_password-message' and contains(@class,'field-error')]")
            .await
    );
    app.screenshot("change-password-wrong").await;

    // A new password the server's policy refuses: its message, next to New password.
    app.fill("Current password", PASSWORD).await;
    app.fill("New password", "12345678").await;
    app.click_button("Change password").await;
    app.wait_for(
        "//p[@id='new_password-message' and contains(@class,'field-error') and contains(., 'simple sequence')]",
    )
    .await;
    assert!(!app.has("//p[@id='current_password-message']").await);
    assert_eq!(app.me_status(elsewhere).await, 200, "nothing changed yet");

    // Then a good one.
    app.fill("New password", NEW_PASSWORD).await;
    app.click_button("Change password").await;
    app.wait_for("//*[contains(@class,'toast') and contains(., 'password has been changed')]")
        .await;
    app.wait_for_heading("Your account").await;
    app.wait_for("//dd[normalize-space()='sam']").await;

    // Still signed in here, with the same session; the other session has ended.
    assert_eq!(
        app.last_access_token().await.as_deref(),
        Some(here.as_str())
    );
    assert_eq!(app.me_status(&here).await, 200);
    assert_eq!(app.me_status(elsewhere).await, 401);
    // Only the new password works now.
    assert_eq!(app.token_via_api("sam", PASSWORD).await.0, 401);
    assert_eq!(app.token_via_api("sam", NEW_PASSWORD).await.0, 200);
    assert_eq!(
        app.console_errors_but_no_session()
            .await
            .iter()
            .filter(|e| !e.contains("/api/v1/me/password"))
            .collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "only the refused changes show in the console"
    );
    app.close().await;
}
