//! Signing out ends the session on the server, not only in the browser, also when the
//! server could not be told at first; the sign-out link (`/logout`) does it for other
//! sites; and signing out everywhere ends every session of the user.

use serde_json::json;

use crate::harness::{App, Options, PASSWORD, eventually};

/// Asserts that the server refuses both of a session's tokens, copied before it ended as
/// by someone who had them.
async fn both_tokens_are_dead(app: &App, access: &str, refresh: &str) {
    let (status, problem) = app
        .api(reqwest::Method::GET, "/api/v1/me", Some(access), None)
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (401, Some("invalid_token"))
    );
    let (status, problem) = app.refresh_via_api(refresh).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (401, Some("invalid_refresh_token"))
    );
}

#[tokio::test]
async fn sign_out_ends_the_session_on_the_server() {
    let Some(app) = App::start_signed_in(Options::default(), "pia").await else {
        return;
    };
    let access = app.wait_for_access_token().await;
    let refresh = app.refresh_cookie().await.expect("a refresh cookie");
    assert_eq!(app.me_status(&access).await, 200);

    app.click_button("Sign out").await;
    app.wait_for_heading("Sign in").await;
    app.wait_for_location("/login").await;
    app.wait_for("//*[contains(@class,'toast') and contains(., 'signed out')]")
        .await;
    app.wait_for_no_session_cookies().await;
    let logout = app.calls_to("/api/v1/logout").await;
    assert_eq!(logout.len(), 1, "{logout:?}");
    assert_eq!(
        (&logout[0]["bearer"], &logout[0]["status"]),
        (&json!(access), &json!(204))
    );

    // The access token had minutes to live.
    both_tokens_are_dead(&app, &access, &refresh).await;
    assert_eq!(
        app.console_errors_but_no_session().await,
        Vec::<String>::new()
    );
    app.close().await;
}

#[tokio::test]
async fn a_sign_out_the_server_did_not_hear_of_is_finished_on_the_next_load() {
    let Some(app) = App::start_signed_in(Options::default(), "quin").await else {
        return;
    };
    let access = app.wait_for_access_token().await;
    let refresh = app.refresh_cookie().await.expect("a refresh cookie");
    app.block_urls(&["*/api/v1/logout"]).await;
    app.click_button("Sign out").await;
    // Signed out here at once, whatever the server heard.
    app.wait_for_heading("Sign in").await;
    app.wait_for_location("/login").await;
    app.wait_for("//*[contains(@class,'toast') and contains(., 'signed out')]")
        .await;
    assert_eq!(app.me_status(&access).await, 200, "the server did not hear");

    // The cookies are out of the app's reach, so only the next load can finish the job:
    // it must not let them sign the user back in.
    app.block_urls(&[]).await;
    app.browser.refresh().await.expect("reload");
    app.wait_for_heading("Sign in").await;
    let logout = eventually("the sign-out to be sent again", || async {
        let calls = app.calls_to("/api/v1/logout").await;
        calls
            .first()
            .filter(|call| call["status"].is_u64())
            .cloned()
    })
    .await;
    assert_eq!(logout["status"], json!(204), "{logout}");
    app.wait_for_no_session_cookies().await;
    assert!(
        app.calls_to("/api/v1/tokens/refresh").await.is_empty(),
        "no session was looked for"
    );
    assert_eq!(app.last_access_token().await, None);
    both_tokens_are_dead(&app, &access, &refresh).await;

    // Signing in again works, and stays across a reload.
    app.sign_in_with_form("quin", PASSWORD).await;
    app.wait_for_greeting("quin").await;
    app.browser.refresh().await.expect("reload");
    app.wait_for_greeting("quin").await;
    app.close().await;
}

#[tokio::test]
async fn the_sign_out_link_signs_out_and_returns_only_where_the_server_allows() {
    let Some(app) = App::start_signed_in(Options::default(), "ros").await else {
        return;
    };
    let access = app.wait_for_access_token().await;
    let refresh = app.refresh_cookie().await.expect("a refresh cookie");
    app.goto("/logout?rd=https%3A%2F%2Fevil.example%2F").await;
    app.wait_for_heading("Sign in").await;
    app.wait_for_location("/login").await;
    app.wait_for("//*[contains(@class,'toast') and contains(., 'signed out')]")
        .await;
    app.wait_for(
        "//*[contains(@class,'toast-error') and contains(., 'not one Tessera may send you back to')]",
    )
    .await;
    let asked = app.calls_to("/api/v1/forward-auth/redirect").await;
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(asked[0]["status"], json!(400));
    app.wait_for_no_session_cookies().await;
    both_tokens_are_dead(&app, &access, &refresh).await;
    app.close().await;
}

#[tokio::test]
async fn the_sign_out_link_works_with_the_session_cookie_alone() {
    let Some(app) = App::start_signed_in(Options::default(), "sid").await else {
        return;
    };
    let access = app.wait_for_access_token().await;
    let refresh = app.refresh_cookie().await.expect("a refresh cookie");
    // The page loads without an access token, and cannot get one.
    app.block_urls(&["*/api/v1/tokens/refresh"]).await;
    app.goto("/logout").await;
    app.wait_for_heading("Sign in").await;
    let logout = eventually("the sign-out to be answered", || async {
        let calls = app.calls_to("/api/v1/logout").await;
        calls
            .first()
            .filter(|call| call["status"].is_u64())
            .cloned()
    })
    .await;
    assert_eq!(
        (&logout["bearer"], &logout["status"]),
        (&json!(null), &json!(204)),
        "{logout}"
    );
    app.wait_for_no_session_cookies().await;
    app.block_urls(&[]).await;
    both_tokens_are_dead(&app, &access, &refresh).await;
    app.close().await;
}

#[tokio::test]
async fn sign_out_everywhere_ends_the_other_sessions_too() {
    let Some(app) = App::start_signed_in(Options::default(), "rae").await else {
        return;
    };
    let here = app.wait_for_access_token().await;
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
    // It asks first, with the focus on the question, and nothing has ended yet.
    app.click_button("Sign out everywhere").await;
    let question = app
        .wait_for("//p[contains(., 'Sign out on every device, this one included?')]")
        .await;
    let focused = app
        .script("return document.activeElement.id;", vec![])
        .await;
    assert_eq!(focused, serde_json::json!("everywhere-question"));
    assert_eq!(
        question.attr("id").await.expect("attribute").as_deref(),
        Some("everywhere-question")
    );
    assert!(app.calls_to("/api/v1/sessions").await.is_empty());
    assert_eq!(app.me_status(elsewhere_access).await, 200);
    app.click_button("Yes, sign out everywhere").await;
    app.wait_for_heading("Sign in").await;
    app.wait_for_location("/login").await;
    app.wait_for("//*[contains(@class,'toast') and contains(., 'every device')]")
        .await;
    app.wait_for_no_session_cookies().await;

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
