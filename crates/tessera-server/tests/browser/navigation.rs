//! Which page a visitor sees, signed in or not.

use serde_json::json;

use crate::harness::{App, Options, PASSWORD};

#[tokio::test]
async fn visiting_the_root_signed_out_lands_on_sign_in() {
    let Some(app) = App::start(Options::default()).await else {
        return;
    };
    app.goto("/").await;
    app.wait_for_heading("Sign in").await;
    // Home needs no `next`: it is where signing in leads anyway.
    app.wait_for_location("/login").await;
    // The form as issue 3 names it: these exact labels and button.
    app.field("Username").await;
    app.field("Password").await;
    app.button("Sign in").await;
    // The app asked the refresh cookie, which is not there.
    let asked = app.calls_to("/api/v1/tokens/refresh").await;
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(asked[0]["status"], json!(401));
    assert_eq!(app.last_access_token().await, None);
    // The bundle came precompressed (brotli, which Chromium asks for): what crossed the
    // wire for the wasm is well under its size.
    let sizes = app
        .script(
            "const wasm = performance.getEntriesByType('resource')
                .find((entry) => entry.name.endsWith('.wasm'));
             return wasm ? [wasm.encodedBodySize, wasm.decodedBodySize] : null;",
            vec![],
        )
        .await;
    let (encoded, decoded) = (
        sizes[0].as_f64().unwrap_or(0.0),
        sizes[1].as_f64().unwrap_or(0.0),
    );
    assert!(
        decoded > 0.0 && encoded > 0.0 && encoded < 0.5 * decoded,
        "the wasm's transfer and size: {sizes}"
    );
    // Everything loaded under the content security policy, and nothing else failed.
    assert_eq!(
        app.console_errors_but_no_session().await,
        Vec::<String>::new()
    );
    app.screenshot("sign-in").await;
    app.close().await;
}

#[tokio::test]
async fn a_deep_link_leads_there_after_signing_in_and_survives_reload() {
    let Some(app) = App::start(Options::default()).await else {
        return;
    };
    app.register_via_api("dora", PASSWORD).await;

    // Signed out, the guarded page sends the visitor to Sign in, remembering it…
    app.goto("/account").await;
    app.wait_for_heading("Sign in").await;
    app.wait_for_location("/login?next=%2Faccount").await;
    app.sign_in_with_form("dora", PASSWORD).await;
    // …and signing in leads back to it.
    app.wait_for_heading("Your account").await;
    app.wait_for_location("/account").await;
    app.wait_for("//dd[normalize-space()='dora']").await;

    // A fresh load of a guarded URL while signed in shows it straight away.
    app.goto("/account").await;
    app.wait_for_heading("Your account").await;
    app.wait_for("//dd[normalize-space()='dora']").await;
    app.goto("/").await;
    app.wait_for_greeting("dora").await;
    app.close().await;
}

#[tokio::test]
async fn sign_in_ignores_a_next_that_leaves_the_app() {
    let Some(app) = App::start(Options::default()).await else {
        return;
    };
    app.register_via_api("eve", PASSWORD).await;
    app.goto("/login?next=%2F%2Fevil.example%2F").await;
    app.sign_in_with_form("eve", PASSWORD).await;
    app.wait_for_greeting("eve").await;
    app.wait_for_location("/").await;
    app.close().await;
}

/// `rd` as forward auth sends it, to a host the test server does not allow.
const FOREIGN_RD: &str = "https%3A%2F%2Fevil.example%2Fsteal%3Fx%3D1";

/// Waits for the message that the server refused `rd`, and checks that it was asked once.
async fn rd_was_refused(app: &App) {
    app.wait_for(
        "//*[contains(@class,'toast-error') and contains(., 'not one Tessera may send you back to')]",
    )
    .await;
    let asked = app.calls_to("/api/v1/forward-auth/redirect").await;
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(asked[0]["status"], json!(400));
}

#[tokio::test]
async fn sign_in_asks_the_server_about_rd_and_stays_in_the_app_when_refused() {
    let Some(app) = App::start(Options::default()).await else {
        return;
    };
    app.register_via_api("fox", PASSWORD).await;
    app.goto(&format!("/login?rd={FOREIGN_RD}&next=%2Faccount"))
        .await;
    app.sign_in_with_form("fox", PASSWORD).await;
    rd_was_refused(&app).await;
    // `next` still leads on.
    app.wait_for_heading("Your account").await;
    app.wait_for_location("/account").await;

    // Already signed in on load: asked at once, and Home when refused.
    app.goto(&format!("/login?rd={FOREIGN_RD}")).await;
    rd_was_refused(&app).await;
    app.wait_for_greeting("fox").await;
    app.wait_for_location("/").await;
    app.close().await;
}

#[tokio::test]
async fn an_unknown_path_shows_not_found() {
    let Some(app) = App::start(Options::default()).await else {
        return;
    };
    app.goto("/no/such/page").await;
    app.wait_for_heading("Page not found").await;
    app.click_link("Go to the home page").await;
    // Home is guarded, so a signed-out visitor ends on Sign in.
    app.wait_for_heading("Sign in").await;
    app.close().await;
}
