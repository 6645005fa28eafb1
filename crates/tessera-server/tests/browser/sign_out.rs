//! Signing out ends the session on the server, not only in the browser; and signing out
//! everywhere ends every session of the user.

use crate::harness::{App, Options, PASSWORD};

#[tokio::test]
async fn sign_out_ends_the_session_on_the_server() {
    let Some(app) = App::start_signed_in(Options::default(), "pia").await else {
        return;
    };
    let access = app.wait_for_stored_token().await;
    let refresh = app.stored_refresh_token().await.expect("a refresh token");
    assert_eq!(app.me_status(&access).await, 200);

    app.click_button("Sign out").await;
    app.wait_for_heading("Sign in").await;
    app.wait_for_location("/login").await;
    app.wait_for_no_token().await;
    app.wait_for("//*[contains(@class,'toast') and contains(., 'signed out')]")
        .await;

    // Both tokens were copied before signing out, as by someone who had them; the access
    // token had minutes to live.
    let (status, problem) = app
        .api(reqwest::Method::GET, "/api/v1/me", Some(&access), None)
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (401, Some("invalid_token"))
    );
    let (status, problem) = app.refresh_via_api(&refresh).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (401, Some("invalid_refresh_token"))
    );
    assert_eq!(app.console_errors().await, Vec::<String>::new());
    app.close().await;
}

#[tokio::test]
async fn sign_out_with_the_server_unreachable_still_forgets_the_session() {
    let Some(mut app) = App::start_signed_in(Options::default(), "quin").await else {
        return;
    };
    app.stop_server();
    app.click_button("Sign out").await;
    app.wait_for_heading("Sign in").await;
    app.wait_for_location("/login").await;
    app.wait_for_no_token().await;
    app.wait_for("//*[contains(@class,'toast') and contains(., 'signed out')]")
        .await;
    app.close().await;
}

#[tokio::test]
async fn sign_out_everywhere_ends_the_other_sessions_too() {
    let Some(app) = App::start_signed_in(Options::default(), "rae").await else {
        return;
    };
    let here = app.wait_for_stored_token().await;
    // The same user signed in on another device.
    let elsewhere = app.session_via_api("rae", PASSWORD).await;
    let elsewhere_access = elsewhere["access_token"].as_str().expect("an access token");
    let elsewhere_refresh = elsewhere["refresh_token"]
        .as_str()
        .expect("a refresh token");
    assert_eq!(app.me_status(elsewhere_access).await, 200);

    app.click_link("Account").await;
    app.wait_for_heading("Your account").await;
    app.screenshot("account").await;
    app.click_button("Sign out everywhere").await;
    app.wait_for_heading("Sign in").await;
    app.wait_for_location("/login").await;
    app.wait_for("//*[contains(@class,'toast') and contains(., 'every device')]")
        .await;
    app.wait_for_no_token().await;

    assert_eq!(app.me_status(&here).await, 401, "this session ended");
    assert_eq!(
        app.me_status(elsewhere_access).await,
        401,
        "the other one too"
    );
    let (status, _) = app.refresh_via_api(elsewhere_refresh).await;
    assert_eq!(status, 401, "and it cannot be renewed");
    // Signing in again starts a fresh session.
    app.sign_in_with_form("rae", PASSWORD).await;
    app.wait_for_greeting("rae").await;
    app.close().await;
}
