//! Every page in every state it has, checked by axe-core at WCAG 2.2 AA at a desktop's
//! width in light and dark and at a phone's width, and saved as screenshots; and the whole
//! way from signing in to ending another device's session, with the keyboard alone.
//!
//! axe-core leaves out a few criteria that a script can still measure, so these tests
//! check them too: text fields' edges at 3:1 (1.4.11), a focus outline at 3:1 on every Tab
//! stop (2.4.11/2.4.13), and no sideways scrolling at a phone's width (1.4.10).

use crate::harness::{App, DESKTOP_WIDTH, ENTER, Options, PASSWORD, PHONE_WIDTH, TAB};

/// What one test found: the violations of every page and state it looked at, so that a
/// failure lists all of them at once instead of the first.
#[derive(Default)]
struct Findings(Vec<String>);

impl Findings {
    /// Checks the page as it is now at 1440 px light, 390 px light and 1440 px dark (axe,
    /// the text fields' edges, and at 390 px the width), then saves it as
    /// `target/e2e/PAGE-{390,1440}-{light,dark}.png`.
    async fn check(&mut self, app: &App, state: &str, page: &str) {
        for (width, dark) in [
            (DESKTOP_WIDTH, false),
            (PHONE_WIDTH, false),
            (DESKTOP_WIDTH, true),
        ] {
            app.emulate(width, dark).await;
            let scheme = if dark { "dark" } else { "light" };
            let state = format!("{state}, {width} px {scheme}");
            self.0.extend(app.accessibility_violations(&state).await);
            if width == PHONE_WIDTH {
                if let Some(overflow) = app.horizontal_overflow().await {
                    self.0.push(format!(
                        "{state}: needs sideways scrolling (WCAG 1.4.10): {overflow}"
                    ));
                }
            }
            let faint = app.input_boundary_problems().await;
            if !faint.is_empty() {
                self.0.push(format!(
                    "{state}: text fields too faint to see (WCAG 1.4.11):\n  {}",
                    faint.join("\n  ")
                ));
            }
        }
        app.screenshots(page).await;
    }

    /// Tabs once around the page at a desktop's width, light and dark: every stop must
    /// show its focus (see [`App::faint_focus_indicators`]).
    async fn check_focus(&mut self, app: &App, state: &str) {
        for dark in [false, true] {
            app.emulate(DESKTOP_WIDTH, dark).await;
            let faint = app.faint_focus_indicators().await;
            if !faint.is_empty() {
                let scheme = if dark { "dark" } else { "light" };
                self.0.push(format!(
                    "{state}, {DESKTOP_WIDTH} px {scheme}: the focus is hard to see on\n  {}",
                    faint.join("\n  ")
                ));
            }
        }
        app.emulate_defaults().await;
    }

    fn assert_none(self) {
        assert!(self.0.is_empty(), "\n{}", self.0.join("\n"));
    }
}

/// Waits until both fields of the form show their own message (nothing was typed).
async fn wait_for_two_field_errors(app: &App) {
    app.wait_for("(//p[contains(@class,'field-error')])[2]")
        .await;
}

#[tokio::test]
async fn the_signed_out_pages_meet_wcag_22_aa() {
    let Some(app) = App::start(Options::default()).await else {
        return;
    };
    let mut findings = Findings::default();
    app.register_via_api("ada", PASSWORD).await;

    app.goto("/login").await;
    app.wait_for_heading("Sign in").await;
    findings.check(&app, "Sign in, empty", "sign-in").await;
    findings.check_focus(&app, "Sign in").await;

    app.click_button("Sign in").await;
    wait_for_two_field_errors(&app).await;
    findings
        .check(&app, "Sign in, sent empty", "sign-in-field-errors")
        .await;

    app.fill("Username", "ada").await;
    app.fill("Password", "not the password").await;
    app.click_button("Sign in").await;
    app.wait_for("//p[@id='form-message' and contains(@class,'form-error')]")
        .await;
    findings
        .check(&app, "Sign in, wrong password", "sign-in-wrong-password")
        .await;

    app.goto("/register").await;
    app.wait_for_heading("Create account").await;
    findings
        .check(&app, "Create account, empty", "register")
        .await;

    app.click_button("Create account").await;
    wait_for_two_field_errors(&app).await;
    findings
        .check(&app, "Create account, sent empty", "register-field-errors")
        .await;

    app.goto("/nope").await;
    app.wait_for_heading("Page not found").await;
    findings.check(&app, "Not found", "not-found").await;

    findings.assert_none();
    app.close().await;
}

#[tokio::test]
async fn the_signed_in_pages_meet_wcag_22_aa() {
    let Some(app) = App::start_signed_in(Options::default(), "ada").await else {
        return;
    };
    let mut findings = Findings::default();
    findings.check(&app, "Home", "home").await;

    app.goto("/account").await;
    app.wait_for_heading("Your account").await;
    app.wait_for("//dd[normalize-space()='ada']").await;
    findings.check(&app, "Account", "account").await;
    findings.check_focus(&app, "Account").await;
    app.click_button("Sign out everywhere").await;
    app.button("Yes, sign out everywhere").await;
    findings
        .check(
            &app,
            "Account, asking before signing out everywhere",
            "account-confirm",
        )
        .await;
    app.click_button("Cancel").await;

    app.goto("/account/password").await;
    app.wait_for_heading("Change password").await;
    app.click_button("Change password").await;
    wait_for_two_field_errors(&app).await;
    findings
        .check(
            &app,
            "Change password, sent empty",
            "change-password-errors",
        )
        .await;

    // Signing out takes a moment, the page shows meanwhile: held here until checked.
    app.hold_requests(&["*/api/v1/tokens/refresh*", "*/api/v1/logout*"])
        .await;
    app.goto("/logout").await;
    app.wait_for_heading("Signing out").await;
    findings.check(&app, "Sign out", "sign-out").await;
    app.wait_for_heading("Signing out").await;
    app.release_requests().await;
    app.wait_for_heading("Sign in").await;

    findings.assert_none();
    app.close().await;
}

#[tokio::test]
async fn the_sessions_and_delete_account_pages_meet_wcag_22_aa() {
    let Some(app) = App::start_signed_in(Options::default(), "ada").await else {
        return;
    };
    let mut findings = Findings::default();
    // Another device's session, so the list shows both kinds.
    app.session_via_api("ada", PASSWORD).await;

    app.goto("/account/sessions").await;
    app.wait_for_heading("Sessions").await;
    app.wait_for("//ul[contains(@class,'sessions')]/li[2]")
        .await;
    findings.check(&app, "Sessions", "sessions").await;
    findings.check_focus(&app, "Sessions").await;

    app.goto("/account/delete").await;
    app.wait_for_heading("Delete account").await;
    findings
        .check(&app, "Delete account", "delete-account")
        .await;
    app.click_button("Delete account").await;
    app.wait_for("//p[@id='confirm-message']").await;
    wait_for_two_field_errors(&app).await;
    findings
        .check(&app, "Delete account, sent empty", "delete-account-errors")
        .await;

    findings.assert_none();
    app.close().await;
}

/// Whether the focus is on the page's main heading, where the app puts it on arrival.
const ON_THE_HEADING: &str = "el.tagName === 'H1'";

/// Asserts that the one link of the main navigation marked as the current page is `text`.
async fn assert_current_nav_link(app: &App, text: &str) {
    let current = app
        .script(
            "return [...document.querySelectorAll('nav a[aria-current=\"page\"]')] \
             .map((link) => link.textContent.trim());",
            vec![],
        )
        .await;
    assert_eq!(
        current,
        serde_json::json!([text]),
        "aria-current=\"page\" marks the navigation's link to {text}, and only it"
    );
}

#[tokio::test]
async fn signing_in_and_ending_another_session_take_only_the_keyboard() {
    let Some(app) = App::start(Options::default()).await else {
        return;
    };
    app.register_via_api("kim", PASSWORD).await;
    let elsewhere = app.session_via_api("kim", PASSWORD).await;
    let elsewhere_access = elsewhere["access_token"].as_str().expect("an access token");
    let elsewhere_refresh = elsewhere["refresh_token"]
        .as_str()
        .expect("a refresh token");

    // A fresh load: the first Tab reaches the skip link, before the header's links.
    app.goto("/login").await;
    app.wait_for_heading("Sign in").await;
    app.press(TAB).await;
    assert!(
        app.focus_is("el.tagName === 'A' && el.textContent.trim() === 'Skip to content'")
            .await,
        "the first Tab focuses the link \"Skip to content\", not {}",
        app.focused().await
    );
    assert_eq!(app.focus_indicator_problem().await, None);

    app.tab_to("the Username field", "el.id === 'username'", false)
        .await;
    app.press("kim").await;
    app.tab_to("the Password field", "el.id === 'password'", false)
        .await;
    app.press(PASSWORD).await;
    app.press(ENTER).await;
    app.wait_for_greeting("kim").await;
    app.wait_for_focus("Home's heading", ON_THE_HEADING).await;
    assert_current_nav_link(&app, "Home").await;
    let here = app.wait_for_access_token().await;

    // Back from the heading into the header, to its link to Sessions.
    app.tab_to(
        "the navigation's link to Sessions",
        "el.closest('nav') && el.tagName === 'A' && el.textContent.trim() === 'Sessions'",
        true,
    )
    .await;
    app.press(ENTER).await;
    app.wait_for_heading("Sessions").await;
    app.wait_for_location("/account/sessions").await;
    app.wait_for_focus("Sessions' heading", ON_THE_HEADING)
        .await;
    assert_current_nav_link(&app, "Sessions").await;
    app.wait_for("//ul[contains(@class,'sessions')]/li[2]")
        .await;

    app.tab_to(
        "the End button of the other device's session",
        "el.tagName === 'BUTTON' && el.textContent.trim() === 'End' \
         && el.closest('ul.sessions > li') \
         && !el.closest('ul.sessions > li').textContent.includes('This device')",
        false,
    )
    .await;
    app.press(ENTER).await;

    // The other device's session has ended: its access token is refused at once, and its
    // refresh token no longer renews anything. (Asked once only: a refresh token works once.)
    crate::harness::eventually("the other session to end", || async {
        (app.me_status(elsewhere_access).await == 401).then_some(())
    })
    .await;
    let (status, body) = app.refresh_via_api(elsewhere_refresh).await;
    assert_eq!(
        status, 401,
        "the ended session's refresh token still works: {body}"
    );
    app.wait_for("//ul[contains(@class,'sessions')][count(li)=1]/li[contains(., 'This device')]")
        .await;

    // This tab is still signed in, and so is the browser after a fresh load.
    app.wait_for_heading("Sessions").await;
    app.assert_accessible("Sessions, after ending another session by keyboard")
        .await;
    assert_eq!(
        app.me_status(&here).await,
        200,
        "this tab's session ended too"
    );
    app.goto("/account/sessions").await;
    app.wait_for_heading("Sessions").await;
    app.wait_for("//ul[contains(@class,'sessions')]/li[contains(., 'This device')]")
        .await;
    app.close().await;
}
