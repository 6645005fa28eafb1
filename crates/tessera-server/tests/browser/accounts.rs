//! Creating an account and signing in through the forms.

use serde_json::json;

use crate::harness::{App, Options, PASSWORD, REFRESH_COOKIE, eventually};

/// Records in `window.__disabledSeen` whether the form's submit button was ever disabled,
/// and in `window.__busySeen` whether the loading bar ran: requests are too quick to catch
/// either by polling.
const WATCH_REQUEST: &str = r#"
    const button = document.querySelector('form button[type=submit]');
    window.__disabledSeen = false;
    window.__busySeen = false;
    new MutationObserver(() => { if (button.disabled) window.__disabledSeen = true; })
        .observe(button, { attributes: true, attributeFilter: ['disabled'] });
    new MutationObserver((records) => {
        for (const record of records) {
            for (const node of record.addedNodes) {
                if (node.nodeType === 1 && node.classList.contains('progress-busy')) {
                    window.__busySeen = true;
                }
            }
        }
    }).observe(document.body, { childList: true, subtree: true });
"#;

/// Whether the button was disabled and the loading bar ran since [`WATCH_REQUEST`].
async fn request_was_shown(app: &App) -> (bool, bool) {
    let seen = app
        .script("return [window.__disabledSeen, window.__busySeen];", vec![])
        .await;
    (seen[0] == json!(true), seen[1] == json!(true))
}

#[tokio::test]
async fn create_account_then_sign_in_greets_the_user_by_name() {
    let Some(app) = App::start(Options::default()).await else {
        return;
    };
    app.goto("/").await;
    app.wait_for_heading("Sign in").await;
    app.click_link("Create an account").await;
    app.wait_for_heading("Create account").await;
    app.wait_for_location("/register").await;

    app.fill("Username", "ann").await;
    app.fill("Password", PASSWORD).await;
    app.script(WATCH_REQUEST, vec![]).await;
    app.click_button("Create account").await;

    // Signed in at once, with no second form to fill.
    app.wait_for_greeting("ann").await;
    app.wait_for_location("/").await;
    assert_eq!(
        request_was_shown(&app).await,
        (true, true),
        "Create account: button disabled and loading bar running during the request"
    );
    app.wait_for("//*[contains(@class,'toast') and contains(., 'Account ann created')]")
        .await;
    assert_eq!(app.calls_to("/api/v1/tokens").await.len(), 1);

    // Signed out, Sign in takes the name and Enter submits.
    app.click_button("Sign out").await;
    app.wait_for_heading("Sign in").await;
    app.fill("Username", "ann").await;
    app.fill("Password", PASSWORD).await;
    app.script(WATCH_REQUEST, vec![]).await;
    app.press_enter("Password").await;
    app.wait_for_greeting("ann").await;
    app.wait_for_location("/").await;
    assert_eq!(
        request_was_shown(&app).await,
        (true, true),
        "Sign in: button disabled and loading bar running during the request"
    );
    // Signed in with the refresh token in an HttpOnly cookie, not in the answer.
    let sign_in = app.calls_to("/api/v1/tokens").await;
    assert_eq!(sign_in.len(), 2, "{sign_in:?}");
    assert_eq!(
        (&sign_in[1]["status"], &sign_in[1]["refreshTokenInBody"]),
        (&json!(200), &json!(false))
    );
    let token = app.wait_for_access_token().await;
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");
    app.assert_tokens_out_of_scripts_reach().await;
    app.button("Sign out").await;
    assert_eq!(
        app.console_errors_but_no_session().await,
        Vec::<String>::new()
    );
    app.screenshot("home").await;

    // The same page on a phone-sized screen.
    app.browser.set_window_size(390, 844).await.expect("resize");
    app.wait_for_greeting("ann").await;
    app.screenshot("home-narrow").await;
    app.close().await;
}

#[tokio::test]
async fn the_register_form_checks_as_the_server_does_and_shows_its_messages() {
    let Some(app) = App::start(Options::default()).await else {
        return;
    };
    app.register_via_api("taken", PASSWORD).await;
    app.goto("/register").await;
    app.wait_for_heading("Create account").await;

    // Our own check, before any request: too short, shown when the field is left.
    app.fill("Username", "bob").await;
    app.fill("Password", "short").await;
    app.fill("Username", "bob").await; // moving focus away from Password
    app.wait_for(
        "//p[@id='password-message' and normalize-space()='Password must be at least 8 characters']",
    )
    .await;
    app.fill("Username", &"x".repeat(33)).await;
    app.fill("Password", "short").await;
    app.wait_for(
        "//p[@id='username-message' and normalize-space()='Username must be at most 32 characters']",
    )
    .await;
    app.screenshot("register-errors").await;

    // The server's own message, next to the field it names: a predictable password…
    app.fill("Username", "bob").await;
    app.fill("Password", "12345678").await;
    app.click_button("Create account").await;
    let detail = "Password must not be only spaces, one repeated character or a simple sequence such as 12345678";
    app.wait_for(&format!(
        "//p[@id='password-message' and normalize-space()='{detail}']"
    ))
    .await;
    let described = app
        .field("Password")
        .await
        .attr("aria-describedby")
        .await
        .expect("attribute");
    assert_eq!(described.as_deref(), Some("password-message"));

    // …and a name already taken.
    app.fill("Username", "taken").await;
    app.fill("Password", PASSWORD).await;
    app.click_button("Create account").await;
    // The same id carries the hint until the answer arrives: wait for the error itself.
    let taken = app
        .wait_for("//p[@id='username-message' and contains(@class,'field-error')]")
        .await;
    let shown = taken.text().await.expect("text");
    assert!(shown.to_lowercase().contains("taken"), "{shown}");
    app.wait_for_location("/register").await;
    assert_eq!(app.last_access_token().await, None);
    app.close().await;
}

#[tokio::test]
async fn a_wrong_password_shows_the_servers_message_and_keeps_no_token() {
    let Some(app) = App::start(Options::default()).await else {
        return;
    };
    app.register_via_api("carl", PASSWORD).await;
    let (status, problem) = app.token_via_api("carl", "not the password").await;
    assert_eq!(status, 401);
    assert_eq!(problem["code"], json!("invalid_credentials"));
    let detail = problem["detail"].as_str().expect("a detail").to_lowercase();

    app.goto("/login").await;
    app.sign_in_with_form("carl", "not the password").await;
    let alert = app.wait_for("//p[@role='alert']").await;
    let shown = alert.text().await.expect("text");
    assert_eq!(shown.to_lowercase(), detail, "the server's own message");
    // Ready to try again, still on Sign in, and nothing kept.
    eventually("Sign in to be enabled again", || async {
        app.button("Sign in")
            .await
            .is_enabled()
            .await
            .ok()
            .filter(|&enabled| enabled)
    })
    .await;
    app.wait_for_location("/login").await;
    assert_eq!(app.last_access_token().await, None);
    assert_eq!(app.cookie(REFRESH_COOKIE).await, None);
    assert!(!app.readable_by_scripts().await.contains("eyJ"));
    // The console shows the refused request: proof that the empty consoles checked in
    // other tests are really read.
    let errors = app.console_errors().await;
    assert!(
        errors
            .iter()
            .any(|e| e.contains("/api/v1/tokens") && e.contains("401")),
        "{errors:?}"
    );
    app.close().await;
}
