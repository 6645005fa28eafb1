//! The account pages a user expects: Sessions (who is signed in where, and ending them),
//! Delete account, and what Sign in says about a lockout and a forgotten password.

use serde_json::{Value, json};

use crate::harness::{App, Options, PASSWORD, Surroundings, eventually};

/// The `<li>` of each listed session.
const SESSION_ITEMS: &str = "//ul[@class='sessions']/li";

async fn session_count(app: &App) -> usize {
    app.browser
        .find_all(fantoccini::Locator::XPath(SESSION_ITEMS))
        .await
        .expect("find")
        .len()
}

async fn wait_for_sessions(app: &App, count: usize) {
    eventually(&format!("{count} sessions listed"), || async {
        (session_count(app).await == count).then_some(())
    })
    .await;
}

fn refresh_token(session: &Value) -> &str {
    session["refresh_token"].as_str().expect("a refresh token")
}

async fn title(app: &App) -> Value {
    app.script("return document.title;", vec![]).await
}

#[tokio::test]
async fn sessions_show_where_the_user_is_signed_in_and_end_the_others() {
    let Some(app) = App::start_signed_in(Options::default(), "sam").await else {
        return;
    };
    let here = app.wait_for_access_token().await;
    let phone = app.session_via_api("sam", PASSWORD).await;
    let laptop = app.session_via_api("sam", PASSWORD).await;

    app.click_link("Sessions").await;
    app.wait_for_heading("Sessions").await;
    app.wait_for_location("/account/sessions").await;
    assert_eq!(title(&app).await, json!("Sessions · Tessera"));
    wait_for_sessions(&app, 3).await;
    // This browser, as the server saw it; the API's sessions sent no User-Agent.
    let this_device = app
        .wait_for(&format!("{SESSION_ITEMS}[contains(., 'This device')]"))
        .await
        .text()
        .await
        .expect("text");
    assert!(
        this_device.contains("Chrome on Linux, 127.0.0.1"),
        "{this_device}"
    );
    assert!(
        this_device.contains("HeadlessChrome/"),
        "the full User-Agent: {this_device}"
    );
    assert!(
        !this_device.contains("End"),
        "no End for this device: {this_device}"
    );
    let others = app
        .wait_for(&format!("{SESSION_ITEMS}[not(contains(., 'This device'))]"))
        .await
        .text()
        .await
        .expect("text");
    assert!(others.contains("Unknown browser, 127.0.0.1"), "{others}");

    // One ends; the list follows and the focus lands on the list's heading.
    app.wait_for(&format!(
        "{SESSION_ITEMS}[not(contains(., 'This device'))]//button[normalize-space()='End']"
    ))
    .await
    .click()
    .await
    .expect("click");
    wait_for_sessions(&app, 2).await;
    app.wait_for("//*[contains(@class,'toast') and contains(., 'The session has ended')]")
        .await;
    let focused = app
        .script("return document.activeElement.textContent;", vec![])
        .await;
    assert_eq!(focused, json!("Signed in"));
    let (phone_status, _) = app.refresh_via_api(refresh_token(&phone)).await;
    let (laptop_status, _) = app.refresh_via_api(refresh_token(&laptop)).await;
    let mut statuses = [phone_status, laptop_status];
    statuses.sort_unstable();
    assert_eq!(statuses[0], 200, "one other session lives on");
    assert_eq!(statuses[1], 401, "and one has ended");

    // The rest at once; this one stays.
    app.click_button("End all others").await;
    wait_for_sessions(&app, 1).await;
    app.wait_for("//p[normalize-space()='You are signed in on this device only.']")
        .await;
    let sessions = app
        .api(reqwest::Method::GET, "/api/v1/sessions", Some(&here), None)
        .await;
    assert_eq!(sessions.0, 200);
    assert_eq!(
        sessions.1.as_array().map(Vec::len),
        Some(1),
        "{:?}",
        sessions.1
    );
    app.close().await;
}

#[tokio::test]
async fn deleting_the_account_takes_the_password_and_an_explicit_confirmation() {
    let Some(app) = App::start_signed_in(Options::default(), "dora").await else {
        return;
    };
    // Password managers learn whose password Change password changes.
    app.goto("/account/password").await;
    app.wait_for_heading("Change password").await;
    let username = app
        .wait_for("//form//input[@autocomplete='username' and @hidden]")
        .await;
    eventually("the hidden username to be filled in", || async {
        let value = username.prop("value").await.expect("value");
        (value.as_deref() == Some("dora")).then_some(())
    })
    .await;
    assert!(!username.is_displayed().await.expect("displayed"));

    app.click_link("Account").await;
    app.wait_for_heading("Your account").await;
    let account = app
        .wait_for("//section[contains(@class,'page-account')]")
        .await;
    assert!(
        !account
            .text()
            .await
            .expect("text")
            .contains("Account number"),
        "no internal ids"
    );
    app.click_link("Delete account…").await;
    app.wait_for_heading("Delete account").await;
    assert_eq!(title(&app).await, json!("Delete account · Tessera"));

    // Nothing filled in: both say why, and nothing is sent.
    app.click_button("Delete account").await;
    app.wait_for("//p[@id='password-message' and contains(@class,'field-error')]")
        .await;
    let unticked = app
        .wait_for("//p[@id='confirm-message' and contains(@class,'field-error')]")
        .await;
    assert!(
        unticked
            .text()
            .await
            .expect("text")
            .contains("Tick the box")
    );
    let checkbox = app
        .browser
        .find(fantoccini::Locator::Id("confirm"))
        .await
        .expect("box");
    assert_eq!(
        checkbox
            .attr("aria-describedby")
            .await
            .expect("attr")
            .as_deref(),
        Some("confirm-message")
    );

    // A wrong password is refused next to the field.
    app.fill("Password", "not the password").await;
    checkbox.click().await.expect("tick");
    app.click_button("Delete account").await;
    app.wait_for("//p[@id='password-message' and normalize-space()='The password is wrong']")
        .await;
    assert_eq!(
        app.token_via_api("dora", PASSWORD).await.0,
        200,
        "not deleted"
    );

    app.fill("Password", PASSWORD).await;
    app.click_button("Delete account").await;
    app.wait_for_heading("Sign in").await;
    app.wait_for("//*[contains(@class,'toast') and contains(., 'Your account has been deleted')]")
        .await;
    assert_eq!(app.token_via_api("dora", PASSWORD).await.0, 401, "deleted");
    app.close().await;
}

#[tokio::test]
async fn sign_in_tells_how_long_a_lockout_lasts_and_what_to_do_about_a_forgotten_password() {
    let surroundings = Surroundings {
        server_env: vec![
            ("TESSERA_LOGIN_MAX_FAILURES".into(), "2".into()),
            (
                "TESSERA_FORGOT_PASSWORD_NOTE".into(),
                "Ask Ana at the help desk, <b>room 4</b>.".into(),
            ),
        ],
        ..Surroundings::default()
    };
    let Some(app) = App::start_with(Options::default(), surroundings).await else {
        return;
    };
    app.register_via_api("lou", PASSWORD).await;
    app.goto("/login").await;
    app.wait_for_heading("Sign in").await;
    assert_eq!(title(&app).await, json!("Sign in · Tessera"));
    // Plain text: the markup is shown, never made into elements.
    let note = app
        .wait_for("//p[contains(., 'Forgot your password?') and contains(., 'Ask Ana at the help desk, <b>room 4</b>.')]")
        .await;
    assert!(
        note.find(fantoccini::Locator::Css("b")).await.is_err(),
        "no <b> element"
    );

    // The password can be shown while it is typed.
    app.fill("Password", "hunter22").await;
    let password = app.field("Password").await;
    assert_eq!(
        password.attr("type").await.expect("attr").as_deref(),
        Some("password")
    );
    app.click_button("Show Password").await;
    let toggle = app.button("Show Password").await;
    assert_eq!(
        toggle.attr("aria-pressed").await.expect("attr").as_deref(),
        Some("true")
    );
    assert_eq!(
        password.attr("type").await.expect("attr").as_deref(),
        Some("text")
    );

    // Two failures lock the account for a few seconds; the form says for how long.
    for _ in 0..2 {
        assert_eq!(app.token_via_api("lou", "not the password").await.0, 401);
    }
    app.fill("Username", "lou").await;
    app.fill("Password", PASSWORD).await;
    app.click_button("Sign in").await;
    let alert = app
        .wait_for("//p[@id='form-message' and @role='alert']")
        .await;
    let shown = alert.text().await.expect("text");
    assert!(
        shown.starts_with("Too many attempts; try again in ") && shown.contains("second"),
        "{shown}"
    );
    // The message is tied to both inputs, which it is about.
    for label in ["Username", "Password"] {
        let input = app.field(label).await;
        let described = input
            .attr("aria-describedby")
            .await
            .expect("attr")
            .unwrap_or_default();
        assert!(
            described.split(' ').any(|id| id == "form-message"),
            "{label}: {described}"
        );
        assert_eq!(
            input.attr("aria-invalid").await.expect("attr").as_deref(),
            Some("true")
        );
    }
    app.close().await;
}
