//! How long a session lasts: across reloads (through the refresh cookie), until sign-out,
//! the session's end, or a refused token; and how tabs follow each other.

use serde_json::json;

use crate::harness::{App, Options, PASSWORD, REFRESH_COOKIE, eventually};

async fn signed_in(options: Options, username: &str) -> Option<App> {
    App::start_signed_in(options, username).await
}

#[tokio::test]
async fn a_reload_keeps_the_user_on_home_through_the_refresh_cookie() {
    let Some(app) = signed_in(Options::default(), "fay").await else {
        return;
    };
    let before = app.wait_for_access_token().await;
    app.browser.refresh().await.expect("reload");
    app.wait_for_greeting("fay").await;
    app.wait_for_location("/").await;
    // Nothing was kept in the page: the cookie bought a new access token, and only that.
    let renewals = app.calls_to("/api/v1/tokens/refresh").await;
    assert_eq!(renewals.len(), 1, "{renewals:?}");
    assert_eq!(
        (&renewals[0]["status"], &renewals[0]["refreshTokenInBody"]),
        (&json!(200), &json!(false))
    );
    let after = app.wait_for_access_token().await;
    assert_ne!(after, before);
    assert_eq!(app.me_status(&after).await, 200);
    app.assert_tokens_out_of_scripts_reach().await;
    app.close().await;
}

/// Records in `window.__sawHome` whether Home was ever put on the page, and in
/// `window.__popped` whether a history navigation happened.
const WATCH_FOR_HOME: &str = r#"
    window.__sawHome = false;
    window.__popped = false;
    window.addEventListener('popstate', () => { window.__popped = true; }, { once: true });
    new MutationObserver((records) => {
        for (const record of records) {
            for (const node of record.addedNodes) {
                if (node.nodeType === 1 && (node.matches('.page-home') || node.querySelector('.page-home'))) {
                    window.__sawHome = true;
                }
            }
        }
    }).observe(document.body, { childList: true, subtree: true });
"#;

#[tokio::test]
async fn sign_out_clears_the_cookies_and_back_does_not_show_home() {
    let Some(app) = signed_in(Options::default(), "gus").await else {
        return;
    };
    // Home, then Account, so that Back after signing out leads to Home's entry.
    app.click_link("Account").await;
    app.wait_for_heading("Your account").await;
    app.click_button("Sign out").await;
    app.wait_for_heading("Sign in").await;
    app.wait_for_location("/login").await;
    app.wait_for_no_session_cookies().await;
    app.wait_for("//*[contains(@class,'toast') and contains(., 'signed out')]")
        .await;

    app.script(WATCH_FOR_HOME, vec![]).await;
    app.browser.back().await.expect("back");
    eventually("Back to happen", || async {
        app.script("return window.__popped;", vec![])
            .await
            .as_bool()
            .filter(|&popped| popped)
    })
    .await;
    app.wait_for_heading("Sign in").await;
    app.wait_for_location("/login").await;
    let saw_home = app.script("return window.__sawHome;", vec![]).await;
    assert_eq!(saw_home, json!(false), "Home was shown after Back");
    assert!(!app.has("//*[contains(@class,'page-home')]").await);
    app.close().await;
}

/// A session whose refresh cookie is gone (it reached its `Max-Age`, the session's end)
/// ends when its access token is due for renewal, by itself. Sessions ended on the server
/// are in `refresh.rs`.
#[tokio::test]
async fn a_session_past_its_end_sends_the_user_to_sign_in_without_a_click() {
    // Long enough for Home to load before the token expires, even on a busy machine.
    let Some(app) = signed_in(Options { token_ttl: Some(6) }, "hal").await else {
        return;
    };
    app.delete_cookie(REFRESH_COOKIE).await;
    // No action from here on: the app must notice by itself.
    app.wait_for_heading("Sign in").await;
    app.wait_for_location("/login").await;
    app.wait_for("//*[contains(@class,'toast') and contains(., 'expired')]")
        .await;
    // And signing in again works as before.
    app.sign_in_with_form("hal", PASSWORD).await;
    app.wait_for_greeting("hal").await;
    assert!(app.refresh_cookie().await.is_some(), "a new refresh cookie");
    app.close().await;
}

#[tokio::test]
async fn a_token_the_server_refuses_leads_to_sign_in_on_the_next_request() {
    let Some(app) = signed_in(Options::default(), "ida").await else {
        return;
    };
    let token = app.wait_for_access_token().await;
    // The access token still reads as unexpired, so only the server can tell it is dead.
    app.end_sessions_from_another_device("ida").await;
    assert_eq!(app.me_status(&token).await, 401);

    app.click_link("Account").await;
    app.wait_for_heading("Sign in").await;
    app.wait_for_location("/login?next=%2Faccount").await;
    app.wait_for("//*[contains(@class,'toast') and contains(., 'no longer valid')]")
        .await;
    let refused = app.calls_to("/api/v1/me").await;
    assert_eq!(
        refused.last().map(|call| call["bearer"].clone()),
        Some(json!(token)),
        "{refused:?}"
    );
    app.close().await;
}

#[tokio::test]
async fn tabs_follow_each_others_sign_out_and_sign_in() {
    let Some(app) = signed_in(Options::default(), "jon").await else {
        return;
    };
    let first = app.browser.window().await.expect("window");
    let second = app.open_tab().await;
    app.goto("/").await;
    app.wait_for_greeting("jon").await;
    app.click_button("Sign out").await;
    app.wait_for_heading("Sign in").await;

    app.browser.switch_to_window(first).await.expect("switch");
    app.wait_for_heading("Sign in").await;
    app.wait_for("//*[contains(@class,'toast') and contains(., 'another tab')]")
        .await;
    // Signing in here brings the other tab along: it asks the new cookie for its own token.
    app.sign_in_with_form("jon", PASSWORD).await;
    app.wait_for_greeting("jon").await;
    app.browser.switch_to_window(second).await.expect("switch");
    app.wait_for_greeting("jon").await;
    let token = app.wait_for_access_token().await;
    assert_eq!(app.me_status(&token).await, 200);
    app.close().await;
}

#[tokio::test]
async fn an_unreachable_server_keeps_the_session_and_says_so() {
    let Some(mut app) = signed_in(Options::default(), "kim").await else {
        return;
    };
    app.stop_server();
    app.click_link("Account").await;
    app.wait_for_heading("Your account").await;
    app.wait_for(
        "//p[@role='alert' and starts-with(normalize-space(), 'The server cannot be reached')]",
    )
    .await;
    app.wait_for(
        "//*[contains(@class,'toast-error') and contains(., 'Could not load your account')]",
    )
    .await;
    app.button("Try again").await;
    // Not the user's fault: they stay signed in.
    app.button("Sign out").await;
    app.wait_for_location("/account").await;
    app.close().await;
}

#[tokio::test]
async fn a_server_unreachable_on_load_shows_sign_in_until_it_answers() {
    let Some(app) = signed_in(Options::default(), "lou").await else {
        return;
    };
    app.goto("/account").await;
    app.wait_for_heading("Your account").await;
    app.block_urls(&["*/api/v1/tokens/refresh"]).await;
    app.browser.refresh().await.expect("reload");
    app.wait_for_heading("Sign in").await;
    app.wait_for_location("/login?next=%2Faccount").await;
    app.wait_for("//*[contains(@class,'toast-error') and contains(., 'cannot be reached')]")
        .await;
    // The app keeps asking; once the server answers, the user is where they were.
    app.block_urls(&[]).await;
    app.wait_for_heading("Your account").await;
    app.wait_for_location("/account").await;
    let renewals = app.calls_to("/api/v1/tokens/refresh").await;
    assert!(renewals.len() >= 2, "{renewals:?}");
    assert_eq!(
        renewals.last().map(|c| c["status"].clone()),
        Some(json!(200))
    );
    app.close().await;
}
