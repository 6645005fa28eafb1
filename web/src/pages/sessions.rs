//! Sessions: where the user is signed in (when, from which browser and address, as the
//! server saw them), with a way to end any other session, or all of them at once.

use tessera_api::SessionView;
use web_sys::HtmlElement;
use yew::prelude::*;
use yew_router::prelude::*;

use super::Page;
use super::load::{load_failed, use_load};
use crate::api::ApiError;
use crate::busy::{Busy, use_busy};
use crate::client::use_client;
use crate::routes::Route;
use crate::time;
use crate::toast::{Toasts, use_toasts};
use crate::validation::sentence;

/// A browser and system named from a `User-Agent`, such as "Chrome on Linux": the
/// approximate client a person recognises. `None` when the string names neither.
pub fn client_name(user_agent: &str) -> Option<String> {
    // Order matters: Edge and Opera also say Chrome, Chrome also says Safari.
    const BROWSERS: [(&str, &str); 7] = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chromium/", "Chromium"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ];
    const SYSTEMS: [(&str, &str); 7] = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ];
    let find = |table: &[(&str, &'static str)]| {
        table
            .iter()
            .find(|(marker, _)| user_agent.contains(marker))
            .map(|(_, name)| *name)
    };
    match (find(&BROWSERS), find(&SYSTEMS)) {
        (Some(browser), Some(system)) => Some(format!("{browser} on {system}")),
        (Some(name), None) | (None, Some(name)) => Some(name.to_owned()),
        (None, None) => None,
    }
}

/// What a session is called on the page and in its End button's name.
fn session_name(session: &SessionView) -> String {
    let client = session
        .user_agent
        .as_deref()
        .and_then(client_name)
        .unwrap_or_else(|| "Unknown browser".to_owned());
    match &session.address {
        Some(address) => format!("{client}, {address}"),
        None => client,
    }
}

/// After an End: says how it went (`said`: on success, on failure) and lists the sessions
/// again, unless a 401 ended this session and the page is going away.
fn after_end(
    result: Result<(), ApiError>,
    said: (&'static str, &'static str),
    toasts: &Toasts,
    busy: &Busy,
    ended: &Callback<()>,
) {
    match result {
        Ok(()) => toasts.success(said.0),
        Err(error) if error.status() == Some(401) => return,
        Err(error) => toasts.error(format!("{} {}", said.1, sentence(&error.message()))),
    }
    busy.done();
    ended.emit(());
}

#[component]
pub fn Sessions() -> Html {
    let client = use_client();
    let toasts = use_toasts();
    let (sessions, load) = use_load("Could not load your sessions.", |client| async move {
        client.sessions().await
    });
    let list_heading = use_node_ref();
    // After an End, the list changes under the focus: it goes to the list's heading.
    let ended = {
        let (load, list_heading) = (load.clone(), list_heading.clone());
        Callback::from(move |()| {
            load.emit(());
            if let Some(heading) = list_heading.cast::<HtmlElement>() {
                let _ = heading.focus();
            }
        })
    };
    let ending_all = use_busy();
    let end_all = ending_all.on_click({
        let (client, toasts, ended) = (client.clone(), toasts.clone(), ended.clone());
        move |busy| {
            let (client, toasts, ended) = (client.clone(), toasts.clone(), ended.clone());
            async move {
                let result = client.end_other_sessions().await;
                let said = (
                    "Every other session has ended.",
                    "Could not end the other sessions.",
                );
                after_end(result, said, &toasts, &busy, &ended);
            }
        }
    });

    let body = match &sessions {
        None => html! { <p class="lead loading" role="status">{ "Loading your sessions…" }</p> },
        Some(Err(error)) => load_failed(error, &load),
        Some(Ok(list)) => {
            let others = list.iter().filter(|s| !s.current).count();
            html! {
                <>
                    <ul class="sessions">
                        { for list.iter().map(|session| html! {
                            <SessionItem key={session.id.clone()} session={session.clone()}
                                ended={ended.clone()} />
                        }) }
                    </ul>
                    if others > 0 {
                        <p class="actions">
                            <button type="button" class="button secondary" onclick={end_all}
                                disabled={ending_all.is_busy()}
                                aria-busy={ending_all.is_busy().to_string()}>
                                { "End all others" }
                            </button>
                        </p>
                    } else {
                        <p class="hint" role="status">{ "You are signed in on this device only." }</p>
                    }
                </>
            }
        }
    };
    html! {
        <Page title="Sessions" class="page-sessions" busy={sessions.is_none()}>
            <p class="lead">
                { "Where your account is signed in. End any session you do not recognise, \
                   then change your password." }
            </p>
            <h2 tabindex="-1" ref={list_heading}>{ "Signed in" }</h2>
            { body }
            <p class="switch">
                <Link<Route> to={Route::Account}>{ "Back to your account" }</Link<Route>>
            </p>
        </Page>
    }
}

#[derive(Properties, PartialEq)]
struct ItemProps {
    session: SessionView,
    /// After this session has ended.
    ended: Callback<()>,
}

#[component]
fn SessionItem(props: &ItemProps) -> Html {
    let client = use_client();
    let toasts = use_toasts();
    let session = &props.session;
    let name = session_name(session);
    let ending = use_busy();
    let end = {
        let (id, ended) = (session.id.clone(), props.ended.clone());
        ending.on_click(move |busy| {
            let (client, toasts, id, ended) =
                (client.clone(), toasts.clone(), id.clone(), ended.clone());
            async move {
                let result = client.end_session(&id).await;
                let said = ("The session has ended.", "Could not end the session.");
                after_end(result, said, &toasts, &busy, &ended);
            }
        })
    };
    let started = time::moment(&session.created_at);
    html! {
        <li class={classes!("session", session.current.then_some("current"))}>
            <p class="session-client">
                <strong>{ name.clone() }</strong>
                if session.current {
                    <span class="badge">{ "This device" }</span>
                }
            </p>
            <p class="session-times">
                { "Signed in " }{ started.clone() }
                { " · last active " }{ time::moment(&session.last_used_at) }
            </p>
            if let Some(agent) = &session.user_agent {
                <p class="session-agent">{ agent.clone() }</p>
            }
            if !session.current {
                <button type="button" class="button secondary" onclick={end}
                    disabled={ending.is_busy()} aria-busy={ending.is_busy().to_string()}
                    aria-label={format!("End {name}, signed in {started}")}>
                    { "End" }
                </button>
            }
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROME_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 \
        (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

    #[test]
    fn browsers_are_named_by_the_most_particular_marker() {
        assert_eq!(
            client_name(CHROME_LINUX).as_deref(),
            Some("Chrome on Linux")
        );
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, \
            like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0";
        assert_eq!(client_name(edge).as_deref(), Some("Edge on Windows"));
        let safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) \
            AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(client_name(safari).as_deref(), Some("Safari on iOS"));
        let firefox = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.0; rv:133.0) \
            Gecko/20100101 Firefox/133.0";
        assert_eq!(client_name(firefox).as_deref(), Some("Firefox on macOS"));
        assert_eq!(client_name("curl/8.5.0").as_deref(), Some("curl"));
        assert_eq!(client_name("something else"), None);
    }

    fn session(user_agent: Option<&str>, address: Option<&str>) -> SessionView {
        SessionView {
            id: "s".into(),
            created_at: String::new(),
            last_used_at: String::new(),
            expires_at: String::new(),
            current: false,
            user_agent: user_agent.map(str::to_owned),
            address: address.map(str::to_owned),
        }
    }

    #[test]
    fn a_session_is_named_by_its_client_and_address_when_known() {
        assert_eq!(
            session_name(&session(Some(CHROME_LINUX), Some("192.0.2.7"))),
            "Chrome on Linux, 192.0.2.7"
        );
        assert_eq!(session_name(&session(None, None)), "Unknown browser");
        assert_eq!(
            session_name(&session(Some("?"), Some("::1"))),
            "Unknown browser, ::1"
        );
    }
}
