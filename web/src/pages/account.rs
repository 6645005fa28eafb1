//! Account: what the server knows about the signed-in user, and the ways to keep the
//! account safe: a new password, the sessions, signing out on every device (after a
//! confirmation) and deleting the account.

use web_sys::HtmlElement;
use yew::prelude::*;
use yew_router::prelude::*;

use super::Page;
use super::home::use_me;
use super::load::load_failed;
use crate::busy::use_busy;
use crate::client::use_client;
use crate::routes::Route;
use crate::time;
use crate::toast::use_toasts;
use crate::validation::sentence;

#[component]
pub fn Account() -> Html {
    let (me, retry) = use_me();
    let body = match &me {
        None => html! { <p class="lead loading" role="status">{ "Loading your account…" }</p> },
        Some(Ok(user)) => html! {
            <dl class="details">
                <dt>{ "Username" }</dt>
                <dd class="account-username">{ user.username.clone() }</dd>
                <dt>{ "Member since" }</dt>
                <dd>{ time::day(&user.created_at) }</dd>
            </dl>
        },
        Some(Err(error)) => load_failed(error, &retry),
    };
    html! {
        <Page title="Your account" class="page-account" busy={me.is_none()}>
            { body }
            <h2>{ "Security" }</h2>
            <p class="actions">
                <Link<Route> to={Route::ChangePassword} classes="button secondary">
                    { "Change password" }
                </Link<Route>>
                <Link<Route> to={Route::Sessions} classes="button secondary">
                    { "Sessions" }
                </Link<Route>>
            </p>
            <SignOutEverywhere />
            <h2>{ "Delete account" }</h2>
            <p class="hint">
                { "Deleting your account removes it and ends every session for good." }
            </p>
            <p class="actions">
                <Link<Route> to={Route::DeleteAccount} classes="button danger">
                    { "Delete account…" }
                </Link<Route>>
            </p>
            <p class="switch">
                <Link<Route> to={Route::Home}>{ "Back to home" }</Link<Route>>
            </p>
        </Page>
    }
}

/// "Sign out everywhere", which asks first: it ends this session too.
#[component]
fn SignOutEverywhere() -> Html {
    let client = use_client();
    let toasts = use_toasts();
    let navigator = use_navigator().expect("pages are inside the router");
    let busy = use_busy();
    let asking = use_state(|| false);
    let question = use_node_ref();
    let opener = use_node_ref();
    // The question takes the focus when it appears, and the button it came from when
    // it goes, so a keyboard user never lands on the page's start.
    let asked = use_mut_ref(|| false);
    {
        let (question, opener) = (question.clone(), opener.clone());
        use_effect_with(*asking, move |&asking| {
            let target = match (asking, asked.replace(asking)) {
                (true, _) => question,
                (false, true) => opener,
                (false, false) => return,
            };
            if let Some(element) = target.cast::<HtmlElement>() {
                let _ = element.focus();
            }
        });
    }
    let ask = {
        let asking = asking.clone();
        Callback::from(move |_: MouseEvent| asking.set(true))
    };
    let cancel = {
        let asking = asking.clone();
        Callback::from(move |_: MouseEvent| asking.set(false))
    };
    let confirm = busy.on_click(move |busy| {
        let (client, toasts, navigator) = (client.clone(), toasts.clone(), navigator.clone());
        async move {
            if let Err(error) = client.sign_out_everywhere(&navigator).await {
                // A 401 has already ended the session and the page is going away.
                if error.status() != Some(401) {
                    toasts.error(format!(
                        "Could not sign out everywhere. {}",
                        sentence(&error.message())
                    ));
                }
                busy.done();
            }
        }
    });
    if *asking {
        return html! {
            <div class="confirm" role="group" aria-labelledby="everywhere-question">
                <p id="everywhere-question" tabindex="-1" ref={question}>
                    <strong>{ "Sign out on every device, this one included?" }</strong>
                    { " You will need to sign in again everywhere." }
                </p>
                <p class="actions">
                    <button type="button" class="button danger" onclick={confirm}
                        disabled={busy.is_busy()} aria-busy={busy.is_busy().to_string()}>
                        { "Yes, sign out everywhere" }
                    </button>
                    <button type="button" class="button secondary" onclick={cancel}>
                        { "Cancel" }
                    </button>
                </p>
            </div>
        };
    }
    html! {
        <>
            <p class="actions">
                <button type="button" class="button secondary" onclick={ask} ref={opener}>
                    { "Sign out everywhere" }
                </button>
            </p>
            <p class="hint">
                { "Signing out everywhere ends every session of your account, on this \
                   device and all others." }
            </p>
        </>
    }
}
