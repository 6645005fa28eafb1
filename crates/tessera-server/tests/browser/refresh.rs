//! Silent renewal: with access tokens that live a few seconds, a signed-in user stays
//! signed in, in one tab or several, and a refresh token that someone else used ends the
//! session.

use std::cell::RefCell;
use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::{App, Options, eventually_within};

/// Access tokens live this many seconds in these tests.
const TTL: u64 = 3;

fn short_lived() -> Options {
    Options {
        token_ttl: Some(TTL),
    }
}

/// Records in `window.__leftHome` whether Home was ever taken off the page, and in
/// `window.__reloadedHome` whether it ever went back to loading the account.
const WATCH_HOME: &str = r#"
    window.__leftHome = false;
    window.__reloadedHome = false;
    new MutationObserver((records) => {
        for (const record of records) {
            if (record.type === 'attributes' && record.target.matches('.page-home')
                    && record.target.getAttribute('aria-busy') === 'true') {
                window.__reloadedHome = true;
            }
            for (const node of record.removedNodes) {
                if (node.nodeType === 1 && (node.matches('.page-home') || node.querySelector('.page-home'))) {
                    window.__leftHome = true;
                }
            }
        }
    }).observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ['aria-busy'] });
"#;

/// Asserts that the current tab still shows Home, never left it since [`WATCH_HOME`], and
/// never reloaded the account (a renewal is invisible).
async fn stayed_on_home(app: &App, username: &str, tab: &str) {
    let seen = app
        .script("return [window.__leftHome, window.__reloadedHome];", vec![])
        .await;
    assert_eq!(
        seen,
        json!([false, false]),
        "{tab}: [left Home, reloaded Home]"
    );
    app.wait_for_greeting(username).await;
    app.wait_for_location("/").await;
}

/// Waits, without touching the page, until the stored access token has been replaced at
/// least `renewals` times and at least `ttls` token lifetimes have passed since `since`;
/// returns the access tokens seen, oldest first.
async fn wait_for_renewals(app: &App, renewals: usize, ttls: u32, since: Instant) -> Vec<String> {
    let lifetime = Duration::from_secs(TTL);
    let limit = lifetime * (ttls + 2 * u32::try_from(renewals).expect("few")) + lifetime * 5;
    let seen = RefCell::new(Vec::<String>::new());
    let what = format!("{renewals} renewals over {ttls} token lifetimes");
    eventually_within(limit, &what, || async {
        let Some(token) = app.stored_token().await else {
            let renewals = seen.borrow().len().saturating_sub(1);
            let at = app.location().await;
            assert!(
                seen.borrow().is_empty(),
                "the session ended after {renewals} renewals, at {at}"
            );
            return None;
        };
        let mut seen = seen.borrow_mut();
        if seen.last() != Some(&token) {
            seen.push(token);
        }
        (seen.len() > renewals && since.elapsed() >= lifetime * ttls).then_some(())
    })
    .await;
    let seen = seen.into_inner();
    let distinct: HashSet<&String> = seen.iter().collect();
    assert_eq!(distinct.len(), seen.len(), "a token came back: {seen:?}");
    seen
}

/// Whether the stored access token is accepted by the server. With a 3 s lifetime a token
/// read here may expire before the check arrives on a busy machine; an ended session
/// never yields an accepted token, so this asks again, with fresh tokens, until one is.
async fn stored_token_is_accepted(app: &App) -> bool {
    let deadline = Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let current = app.stored_token().await.expect("a token");
        if app.me_status(&current).await == 200 {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
    }
}

#[tokio::test]
async fn the_session_is_renewed_silently_while_the_user_stays_on_home() {
    let started = Instant::now();
    let Some(app) = App::start_signed_in(short_lived(), "lea").await else {
        return;
    };
    app.script(WATCH_HOME, vec![]).await;
    let first_refresh = app.stored_refresh_token().await.expect("a refresh token");

    let tokens = wait_for_renewals(&app, 4, 3, started).await;

    stayed_on_home(&app, "lea", "the only tab").await;
    // Both tokens were replaced, and the server agrees: the first access token has
    // expired, the current one works.
    let refresh = app.stored_refresh_token().await.expect("a refresh token");
    assert_ne!(refresh, first_refresh);
    assert_eq!(
        app.me_status(&tokens[0]).await,
        401,
        "the first token expired"
    );
    assert!(
        stored_token_is_accepted(&app).await,
        "the current token works"
    );
    assert_eq!(app.console_errors().await, Vec::<String>::new());
    app.close().await;
}

/// Two tabs on one session: both schedule the renewal of the same refresh token at the same
/// moment, and the server ends the session when it sees that token twice. They must agree
/// on who renews, and the other must take the new tokens.
async fn two_tabs_keep_one_session(username: &str, without_web_locks: bool) {
    let started = Instant::now();
    let Some(app) = App::start(short_lived()).await else {
        return;
    };
    if without_web_locks {
        app.hide_web_locks().await;
    }
    app.register_via_api(username, crate::harness::PASSWORD)
        .await;
    app.goto("/login").await;
    app.sign_in_with_form(username, crate::harness::PASSWORD)
        .await;
    app.wait_for_greeting(username).await;
    app.script(WATCH_HOME, vec![]).await;

    let first = app.browser.window().await.expect("window");
    let second = app.browser.new_window(true).await.expect("new tab").handle;
    app.browser.switch_to_window(second).await.expect("switch");
    if without_web_locks {
        app.hide_web_locks().await;
    }
    app.goto("/").await;
    app.wait_for_greeting(username).await;
    app.script(WATCH_HOME, vec![]).await;
    let locks = app.script("return typeof navigator.locks;", vec![]).await;
    let expected = if without_web_locks {
        "undefined"
    } else {
        "object"
    };
    assert_eq!(locks, json!(expected), "Web Locks in the second tab");

    let tokens = wait_for_renewals(&app, 4, 3, started).await;

    // Had both tabs used one refresh token, the server would have ended the session, and
    // the next renewal would have sent both tabs to Sign in.
    stayed_on_home(&app, username, "the second tab").await;
    app.browser.switch_to_window(first).await.expect("switch");
    stayed_on_home(&app, username, "the first tab").await;
    let current = app.stored_token().await.expect("a token");
    assert_ne!(current, tokens[0], "renewed");
    assert!(stored_token_is_accepted(&app).await, "the session is alive");
    app.close().await;
}

#[tokio::test]
async fn two_tabs_renew_one_session_without_ending_it() {
    two_tabs_keep_one_session("max", false).await;
}

#[tokio::test]
async fn two_tabs_renew_one_session_without_ending_it_even_without_web_locks() {
    two_tabs_keep_one_session("ned", true).await;
}

#[tokio::test]
async fn a_refresh_token_used_elsewhere_ends_the_session_without_a_click() {
    let Some(app) = App::start_signed_in(short_lived(), "ola").await else {
        return;
    };
    // Someone else presents the app's refresh token. Whichever of them comes second, the
    // server sees it used twice and ends the whole session.
    let stolen = app.stored_refresh_token().await.expect("a refresh token");
    let (status, answer) = app.refresh_via_api(&stolen).await;
    assert!(status == 200 || status == 401, "{status}: {answer}");

    // No action from here on: the app's next renewal is refused.
    app.wait_for_heading("Sign in").await;
    app.wait_for_location("/login").await;
    app.wait_for("//*[contains(@class,'toast') and contains(., 'expired')]")
        .await;
    app.wait_for_no_token().await;
    if let Some(thiefs) = answer["access_token"].as_str() {
        assert_eq!(
            app.me_status(thiefs).await,
            401,
            "the thief's token is dead too"
        );
    }
    app.close().await;
}
