//! How long a session lasts: across reloads, until sign-out, expiry, or a refused token.

use serde_json::json;

use crate::harness::{App, Options, PASSWORD, eventually};

async fn signed_in(options: Options, username: &str) -> Option<App> {
    App::start_signed_in(options, username).await
}

#[tokio::test]
async fn a_reload_keeps_the_user_on_home() {
    let Some(app) = signed_in(Options::default(), "fay").await else {
        return;
    };
    let token = app.wait_for_stored_token().await;
    app.browser.refresh().await.expect("reload");
    app.wait_for_greeting("fay").await;
    app.wait_for_location("/").await;
    assert_eq!(app.stored_token().await.as_deref(), Some(token.as_str()));
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
async fn sign_out_forgets_the_token_and_back_does_not_show_home() {
    let Some(app) = signed_in(Options::default(), "gus").await else {
        return;
    };
    // Home, then Account, so that Back after signing out leads to Home's entry.
    app.click_link("Account").await;
    app.wait_for_heading("Your account").await;
    app.click_button("Sign out").await;
    app.wait_for_heading("Sign in").await;
    app.wait_for_location("/login").await;
    app.wait_for_no_token().await;
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
    assert!(app.stored_token().await.is_none());
    app.close().await;
}

/// A session that cannot be renewed (one stored by the app before refresh tokens, or
/// whose server gave none) still ends at its access token's expiry, by itself. Renewable
/// sessions whose renewal is refused are in `refresh.rs`.
#[tokio::test]
async fn an_expiring_token_sends_the_user_to_sign_in_without_a_click() {
    // Long enough for Home to load before the token expires, even on a busy machine.
    let Some(app) = App::start(Options { token_ttl: Some(6) }).await else {
        return;
    };
    app.register_via_api("hal", PASSWORD).await;
    app.goto("/login").await;
    app.wait_for_heading("Sign in").await;
    let (status, answer) = app.token_via_api("hal", PASSWORD).await;
    assert_eq!(status, 200);
    let access_token = answer["access_token"].as_str().expect("an access token");
    app.store_session(json!({ "access_token": access_token }))
        .await;
    app.goto("/").await;
    app.wait_for_greeting("hal").await;
    assert_eq!(app.stored_refresh_token().await, None);
    // No action from here on: the app must notice the expiry by itself.
    app.wait_for_heading("Sign in").await;
    app.wait_for_location("/login").await;
    app.wait_for("//*[contains(@class,'toast') and contains(., 'expired')]")
        .await;
    app.wait_for_no_token().await;
    // And signing in again works as before.
    app.sign_in_with_form("hal", PASSWORD).await;
    app.wait_for_greeting("hal").await;
    app.close().await;
}

#[tokio::test]
async fn a_tampered_token_leads_to_sign_in_on_the_next_request() {
    let Some(app) = signed_in(Options::default(), "ida").await else {
        return;
    };
    let token = app.wait_for_stored_token().await;
    // Change the signature's first character: the token still reads as unexpired, so only
    // the server can tell it is forged.
    let (unsigned, signature) = token.rsplit_once('.').expect("a JWT");
    let first = if signature.starts_with('A') { 'B' } else { 'A' };
    let forged = format!("{unsigned}.{first}{}", &signature[1..]);
    app.store_session(json!({ "access_token": forged })).await;
    assert_eq!(app.stored_token().await.as_deref(), Some(forged.as_str()));

    // The reload starts with the forged token, and Home's request is refused.
    app.browser.refresh().await.expect("reload");
    app.wait_for_heading("Sign in").await;
    app.wait_for_location("/login").await;
    app.wait_for("//*[contains(@class,'toast') and contains(., 'no longer valid')]")
        .await;
    app.wait_for_no_token().await;
    app.close().await;
}

#[tokio::test]
async fn signing_out_in_one_tab_signs_out_the_others() {
    let Some(app) = signed_in(Options::default(), "jon").await else {
        return;
    };
    let first = app.browser.window().await.expect("window");
    let second = app.browser.new_window(true).await.expect("new tab").handle;
    app.browser.switch_to_window(second).await.expect("switch");
    app.goto("/").await;
    app.wait_for_greeting("jon").await;
    app.click_button("Sign out").await;
    app.wait_for_heading("Sign in").await;

    app.browser.switch_to_window(first).await.expect("switch");
    app.wait_for_heading("Sign in").await;
    app.wait_for("//*[contains(@class,'toast') and contains(., 'another tab')]")
        .await;
    app.close().await;
}

#[tokio::test]
async fn an_unreachable_server_keeps_the_session_and_says_so() {
    let Some(mut app) = signed_in(Options::default(), "kim").await else {
        return;
    };
    let token = app.wait_for_stored_token().await;
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
    assert_eq!(app.stored_token().await.as_deref(), Some(token.as_str()));
    app.wait_for_location("/account").await;
    app.close().await;
}
