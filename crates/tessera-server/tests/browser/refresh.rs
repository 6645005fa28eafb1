//! Silent renewal through the refresh cookie: with access tokens that live a few seconds, a
//! signed-in user stays signed in, in one tab or several, also when two tabs renew at the
//! same moment with the one cookie; and a session ended elsewhere ends here too.

use std::cell::RefCell;
use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{App, Options, eventually, eventually_within};

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

/// Waits, without touching the page, until the current tab has renewed its access token at
/// least `renewals` times and at least `ttls` token lifetimes have passed since `since`;
/// returns the access tokens it was given, oldest first. Fails as soon as a renewal is
/// refused.
async fn wait_for_renewals(app: &App, renewals: usize, ttls: u32, since: Instant) -> Vec<String> {
    let lifetime = Duration::from_secs(TTL);
    let limit = lifetime * (ttls + 2 * u32::try_from(renewals).expect("few")) + lifetime * 5;
    let seen = RefCell::new(Vec::<String>::new());
    let what = format!("{renewals} renewals over {ttls} token lifetimes");
    eventually_within(limit, &what, || async {
        let calls = app.api_calls().await;
        // From the token the tab started with: before signing in, a 401 is expected.
        let signed_in = calls
            .iter()
            .position(|call| call["accessToken"].is_string())
            .unwrap_or(calls.len());
        let refused: Vec<&Value> = calls[signed_in..]
            .iter()
            .filter(|call| call["path"] == json!("/api/v1/tokens/refresh"))
            .filter(|call| call["status"].as_u64().is_some_and(|status| status != 200))
            .collect();
        assert!(refused.is_empty(), "a renewal was refused: {refused:?}");
        let tokens: Vec<String> = calls
            .iter()
            .filter_map(|call| call["accessToken"].as_str().map(str::to_owned))
            .collect();
        let renewed = tokens.len().saturating_sub(1);
        *seen.borrow_mut() = tokens;
        (renewed >= renewals && since.elapsed() >= lifetime * ttls).then_some(())
    })
    .await;
    let seen = seen.into_inner();
    let distinct: HashSet<&String> = seen.iter().collect();
    assert_eq!(distinct.len(), seen.len(), "a token came back: {seen:?}");
    seen
}

/// Whether the current tab's access token is accepted by the server. With a 3 s lifetime a
/// token read here may expire before the check arrives on a busy machine; an ended session
/// never yields an accepted token, so this asks again, with fresh tokens, until one is.
async fn current_token_is_accepted(app: &App) -> bool {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let current = app.last_access_token().await.expect("a token");
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
    let first_refresh = app.refresh_cookie().await.expect("a refresh cookie");

    let tokens = wait_for_renewals(&app, 4, 3, started).await;

    stayed_on_home(&app, "lea", "the only tab").await;
    // Renewed through the cookie: `{}` in, a new access token and a new cookie out, never a
    // refresh token in a body.
    for call in app.calls_to("/api/v1/tokens/refresh").await {
        if call["status"] == json!(200) {
            assert_eq!(call["refreshTokenInBody"], json!(false), "{call}");
        }
    }
    let refresh = app.refresh_cookie().await.expect("a refresh cookie");
    assert_ne!(refresh, first_refresh, "the cookie's refresh token rotates");
    app.assert_tokens_out_of_scripts_reach().await;
    // The server agrees: the first access token has expired, the current one works.
    assert_eq!(
        app.me_status(&tokens[0]).await,
        401,
        "the first token expired"
    );
    assert!(
        current_token_is_accepted(&app).await,
        "the current token works"
    );
    assert_eq!(
        app.console_errors_but_no_session().await,
        Vec::<String>::new()
    );
    app.close().await;
}

#[tokio::test]
async fn two_tabs_renew_their_tokens_with_one_cookie_without_ending_the_session() {
    let started = Instant::now();
    let Some(app) = App::start_signed_in(short_lived(), "max").await else {
        return;
    };
    app.script(WATCH_HOME, vec![]).await;
    let first = app.browser.window().await.expect("window");
    app.open_tab().await;
    app.goto("/").await;
    app.wait_for_greeting("max").await;
    app.script(WATCH_HOME, vec![]).await;

    // Each tab renews by its own timer; every renewal rotates the one refresh cookie.
    // Had a tab's renewal been refused, it would have shown Sign in.
    wait_for_renewals(&app, 4, 3, started).await;
    stayed_on_home(&app, "max", "the second tab").await;
    assert!(
        current_token_is_accepted(&app).await,
        "the second tab's token"
    );
    app.browser.switch_to_window(first).await.expect("switch");
    wait_for_renewals(&app, 4, 3, started).await;
    stayed_on_home(&app, "max", "the first tab").await;
    assert!(
        current_token_is_accepted(&app).await,
        "the first tab's token"
    );
    app.close().await;
}

/// How late every answer arrives in the next test: far longer than the two tabs take to
/// send their renewals, so both leave before either answer (and its new cookie) is back.
const LATENCY_MS: u64 = 2_000;

/// Makes the current page reload when another tab posts on the `test.reload` channel.
const RELOAD_ON_CUE: &str = "
    window.__reloadCue = new BroadcastChannel('test.reload');
    window.__reloadCue.onmessage = () => location.reload();
";

/// The current tab's renewal on load, once answered: `(sent at, answered at, status,
/// access token)`, times in Unix milliseconds of this machine's clock.
async fn renewal_on_load(app: &App) -> (u64, u64, u64, Option<String>) {
    eventually("the renewal on load to be answered", || async {
        let call = app
            .calls_to("/api/v1/tokens/refresh")
            .await
            .into_iter()
            .next()?;
        let answered = call["answeredAt"].as_u64()?;
        let status = call["status"].as_u64().unwrap_or(0);
        let token = call["accessToken"].as_str().map(str::to_owned);
        Some((call["sentAt"].as_u64()?, answered, status, token))
    })
    .await
}

#[tokio::test]
async fn two_tabs_renewing_at_the_same_moment_both_stay_signed_in() {
    // Long-lived access tokens: the reloads below are the renewals, and no timer interferes.
    let Some(app) = App::start_signed_in(Options::default(), "nia").await else {
        return;
    };
    let first = app.browser.window().await.expect("window");
    let second = app.open_tab().await;
    // Another page than the first tab's: the browser would make a second load of the same
    // page wait for the first (its cache lock), and the renewals would not meet.
    app.goto("/account").await;
    app.wait_for_heading("Your account").await;
    let before = app.refresh_cookie().await.expect("a refresh cookie");

    // Both tabs reload at once on a slow network: each asks the cookie for a session while
    // the other's answer is still on its way, so both present the same refresh token.
    for tab in [&second, &first] {
        app.browser
            .switch_to_window(tab.clone())
            .await
            .expect("switch");
        app.delay_network(LATENCY_MS).await;
        app.script(RELOAD_ON_CUE, vec![]).await;
    }
    // One script starts both reloads: chromedriver would wait for the first tab's load
    // before running a script in the second.
    app.script(
        "new BroadcastChannel('test.reload').postMessage('go'); \
         setTimeout(() => location.reload(), 0);",
        vec![],
    )
    .await;
    let mut renewals = Vec::new();
    for tab in [&first, &second] {
        app.browser
            .switch_to_window(tab.clone())
            .await
            .expect("switch");
        renewals.push(renewal_on_load(&app).await);
    }
    let [
        (sent_1, answered_1, status_1, token_1),
        (sent_2, answered_2, status_2, token_2),
    ] = renewals.try_into().expect("two tabs");
    // Each left before the other's answer came back; a margin for the moment between a
    // request's start and its cookie being read.
    let margin = 250;
    assert!(
        sent_2 + margin < answered_1 && sent_1 + margin < answered_2,
        "the renewals did not overlap: sent {sent_1}/{sent_2}, answered {answered_1}/{answered_2}"
    );
    assert_eq!((status_1, status_2), (200, 200), "both renewals accepted");

    for (tab, token, heading, path) in [
        (&first, token_1, "Hello, nia", "/"),
        (&second, token_2, "Your account", "/account"),
    ] {
        app.browser
            .switch_to_window(tab.clone())
            .await
            .expect("switch");
        app.wait_for_heading(heading).await;
        app.wait_for_location(path).await;
        let token = token.expect("an access token");
        assert_eq!(app.me_status(&token).await, 200, "both tabs' tokens work");
        app.assert_tokens_out_of_scripts_reach().await;
    }
    let after = app.refresh_cookie().await.expect("a refresh cookie");
    assert_ne!(after, before, "the cookie was rotated");
    app.close().await;
}

#[tokio::test]
async fn a_session_ended_elsewhere_ends_here_at_the_next_renewal_without_a_click() {
    let Some(app) = App::start_signed_in(short_lived(), "ola").await else {
        return;
    };
    let token = app.wait_for_access_token().await;
    app.end_sessions_from_another_device("ola").await;
    assert_eq!(app.me_status(&token).await, 401, "ended on the server");

    // No action from here on: the app's next renewal is refused.
    app.wait_for_heading("Sign in").await;
    app.wait_for_location("/login").await;
    app.wait_for("//*[contains(@class,'toast') and contains(., 'expired')]")
        .await;
    let refused = app.calls_to("/api/v1/tokens/refresh").await;
    assert_eq!(
        refused.last().map(|call| call["status"].clone()),
        Some(json!(401)),
        "{refused:?}"
    );
    // A reload finds no session either.
    app.browser.refresh().await.expect("reload");
    app.wait_for_heading("Sign in").await;
    eventually("the cookie to be refused on load", || async {
        let calls = app.calls_to("/api/v1/tokens/refresh").await;
        (calls.first()?["status"] == json!(401)).then_some(())
    })
    .await;
    assert_eq!(app.last_access_token().await, None);
    app.close().await;
}
