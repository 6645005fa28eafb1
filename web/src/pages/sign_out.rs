//! The sign-out link, `/logout`: other sites send people here to sign out of Tessera (and
//! so of every site behind its forward auth), optionally with `rd` to return to.

use std::cell::Cell;
use std::rc::Rc;

use yew::platform::spawn_local;
use yew::prelude::*;
use yew_router::prelude::*;

use super::Page;
use crate::auth::use_auth;
use crate::client::use_client;
use crate::routes::SignOutQuery;

#[component]
pub fn SignOut() -> Html {
    let auth = use_auth();
    let client = use_client();
    let navigator = use_navigator().expect("pages are inside the router");
    let location = use_location().expect("pages are inside the router");
    let rd = location.query::<SignOutQuery>().unwrap_or_default().rd;
    let started = use_memo((), |_| Rc::new(Cell::new(false)));
    // Waits for the app's first look at the cookie, whose renewal could otherwise set the
    // cookies again after the sign-out cleared them.
    use_effect_with(auth.is_restoring(), move |&restoring| {
        if !restoring && !started.replace(true) {
            spawn_local(async move { client.sign_out_to(rd.as_deref(), &navigator).await });
        }
    });
    html! {
        <Page title="Signing out" class="page-sign-out" busy=true>
            <p class="lead loading" role="status">{ "Ending your session…" }</p>
        </Page>
    }
}
