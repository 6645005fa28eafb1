//! Home: the signed-in user's greeting.

use tessera_api::UserView;
use yew::prelude::*;
use yew_router::prelude::*;

use super::Page;
use super::load::{load_failed, use_load};
use crate::api::ApiError;
use crate::routes::Route;

/// The signed-in user as the server knows them (`GET /api/v1/me`).
#[hook]
pub fn use_me() -> (Option<Result<UserView, ApiError>>, Callback<()>) {
    use_load("Could not load your account.", |client| async move {
        client.me().await
    })
}

/// The signed-in user's name, once loaded.
#[hook]
pub fn use_username() -> Option<String> {
    use_me().0.and_then(Result::ok).map(|user| user.username)
}

#[component]
pub fn Home() -> Html {
    let (me, retry) = use_me();
    let (heading, body) = match &me {
        None => (
            html! { "Hello" },
            html! { <p class="lead loading" role="status">{ "Loading your account…" }</p> },
        ),
        Some(Ok(user)) => (
            html! { <>{ "Hello, " }{ user.username.clone() }</> },
            html! {
                <>
                    <p class="lead">{ "You are signed in." }</p>
                    <p>
                        <Link<Route> to={Route::Account} classes="button secondary">
                            { "Account details" }
                        </Link<Route>>
                    </p>
                </>
            },
        ),
        Some(Err(error)) => (html! { "Hello" }, load_failed(error, &retry)),
    };
    html! {
        <Page title="Home" heading={heading} class="page-home" busy={me.is_none()}>
            { body }
        </Page>
    }
}
