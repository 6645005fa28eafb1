//! Account: what the server knows about the signed-in user, and the ways to keep the
//! account safe: a new password, and signing out on every device.

use yew::prelude::*;
use yew_router::prelude::*;

use super::home::{load_failed, use_me};
use crate::busy::use_busy;
use crate::client::use_client;
use crate::routes::Route;
use crate::time;
use crate::toast::use_toasts;
use crate::validation::sentence;

#[component]
pub fn Account() -> Html {
    let (me, retry) = use_me();
    let client = use_client();
    let toasts = use_toasts();
    let navigator = use_navigator().expect("pages are inside the router");
    let busy = use_busy();

    let sign_out_everywhere = busy.on_click(move |busy| {
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

    let body = match &me {
        None => html! { <p class="lead loading">{ "Loading your account…" }</p> },
        Some(Ok(user)) => html! {
            <dl class="details">
                <dt>{ "Username" }</dt>
                <dd class="account-username">{ user.username.clone() }</dd>
                <dt>{ "Account number" }</dt>
                <dd>{ user.id }</dd>
                <dt>{ "Member since" }</dt>
                <dd>{ time::day(&user.created_at) }</dd>
            </dl>
        },
        Some(Err(error)) => load_failed(error, &retry),
    };
    html! {
        <section class="card page-account" aria-busy={me.is_none().to_string()}>
            <h1>{ "Your account" }</h1>
            { body }
            <h2>{ "Security" }</h2>
            <p class="actions">
                <Link<Route> to={Route::ChangePassword} classes="button secondary">
                    { "Change password" }
                </Link<Route>>
                <button type="button" class="button secondary" onclick={sign_out_everywhere}
                    disabled={busy.is_busy()} aria-busy={busy.is_busy().to_string()}>
                    { "Sign out everywhere" }
                </button>
            </p>
            <p class="hint">
                { "Signing out everywhere ends every session of your account, on this \
                   device and all others." }
            </p>
            <p class="switch">
                <Link<Route> to={Route::Home}>{ "Back to home" }</Link<Route>>
            </p>
        </section>
    }
}
