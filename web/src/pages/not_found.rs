//! Any path the app does not know.

use yew::prelude::*;
use yew_router::prelude::*;

use super::Page;
use crate::routes::Route;

#[component]
pub fn NotFound() -> Html {
    let path = use_location()
        .map(|l| l.path().to_owned())
        .unwrap_or_default();
    html! {
        <Page title="Page not found" class="page-not-found">
            <p class="lead">{ "There is no page at " }<code>{ path }</code>{ "." }</p>
            <p>
                <Link<Route> to={Route::Home} classes="button secondary">
                    { "Go to the home page" }
                </Link<Route>>
            </p>
        </Page>
    }
}
