//! Account: what the server knows about the signed-in user.

use yew::prelude::*;
use yew_router::prelude::*;

use super::home::{load_failed, use_me};
use crate::auth::use_auth;
use crate::routes::Route;
use crate::time;

#[component]
pub fn Account() -> Html {
    let auth = use_auth();
    let (me, retry) = use_me();
    let ends = auth
        .session()
        .map(|s| time::time_of_day(s.expires_at()))
        .unwrap_or_default();
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
                <dt>{ "Session ends" }</dt>
                <dd>{ ends }</dd>
            </dl>
        },
        Some(Err(error)) => load_failed(error, &retry),
    };
    html! {
        <section class="card page-account" aria-busy={me.is_none().to_string()}>
            <h1>{ "Your account" }</h1>
            { body }
            <p class="switch">
                <Link<Route> to={Route::Home}>{ "Back to home" }</Link<Route>>
            </p>
        </section>
    }
}
