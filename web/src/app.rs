//! The app's frame: providers, the header, and the routed page.

use wasm_bindgen::JsCast;
use web_sys::HtmlElement;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::auth::{AuthProvider, use_auth};
use crate::busy::use_busy;
use crate::client::use_client;
use crate::progress::{ProgressBar, ProgressProvider};
use crate::routes::{Route, switch};
use crate::toast::ToastProvider;

#[component]
pub fn App() -> Html {
    // Order matters: auth shows toasts, and everything below may use the router.
    html! {
        <BrowserRouter>
            <ToastProvider>
                <ProgressProvider>
                    <AuthProvider>
                        <SkipLink />
                        <ProgressBar />
                        <Header />
                        <main class="main" id={MAIN_ID} tabindex="-1">
                            <Switch<Route> render={switch} />
                        </main>
                    </AuthProvider>
                </ProgressProvider>
            </ToastProvider>
        </BrowserRouter>
    }
}

/// The id of the page's main region, where the skip link leads.
const MAIN_ID: &str = "main";

/// The first thing a keyboard reaches: past the header, to the page. It moves the focus
/// itself rather than following `#main`, which the router would take for a new page.
#[component]
fn SkipLink() -> Html {
    let onclick = Callback::from(|event: MouseEvent| {
        event.prevent_default();
        let main = web_sys::window()
            .and_then(|window| window.document())
            .and_then(|document| document.get_element_by_id(MAIN_ID))
            .and_then(|element| element.dyn_into::<HtmlElement>().ok());
        if let Some(main) = main {
            let _ = main.focus();
        }
    });
    html! {
        <a class="skip-link" href={format!("#{MAIN_ID}")} {onclick}>{ "Skip to content" }</a>
    }
}

#[component]
fn Header() -> Html {
    let auth = use_auth();
    let navigator = use_navigator().expect("the header is inside the router");
    let current = use_route::<Route>();
    // yew-router's Link takes no `aria-current`, so the current page's link is a plain
    // anchor, which goes nowhere: the user is there already.
    let nav_link = |route: Route, text: &'static str| {
        if current.as_ref() == Some(&route) {
            let stay = Callback::from(|event: MouseEvent| event.prevent_default());
            html! {
                <a href={route.to_path()} class="nav-link active" aria-current="page"
                    onclick={stay}>
                    { text }
                </a>
            }
        } else {
            html! { <Link<Route> to={route} classes="nav-link">{ text }</Link<Route>> }
        }
    };
    let client = use_client();
    let signing_out = use_busy();
    let signed_in = auth.session().is_some();
    let sign_out = signing_out.on_click(move |signing_out| {
        let (client, navigator) = (client.clone(), navigator.clone());
        async move {
            client.sign_out(&navigator).await;
            signing_out.done();
        }
    });
    html! {
        <header class="header">
            <nav class="nav" aria-label="Main">
                <Link<Route> to={Route::Home} classes="brand">
                    <span class="brand-mark" aria-hidden="true"></span>
                    { "Tessera" }
                </Link<Route>>
                if signed_in {
                    <div class="nav-links">
                        { nav_link(Route::Home, "Home") }
                        { nav_link(Route::Sessions, "Sessions") }
                        { nav_link(Route::Account, "Account") }
                        <button type="button" class="button ghost" onclick={sign_out}
                            disabled={signing_out.is_busy()}
                            aria-busy={signing_out.is_busy().to_string()}>
                            { "Sign out" }
                        </button>
                    </div>
                }
            </nav>
        </header>
    }
}
