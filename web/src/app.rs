//! The app's frame: providers, the header, and the routed page.

use yew::platform::spawn_local;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::auth::{AuthProvider, use_auth};
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
                        <ProgressBar />
                        <Header />
                        <main class="main">
                            <Switch<Route> render={switch} />
                        </main>
                    </AuthProvider>
                </ProgressProvider>
            </ToastProvider>
        </BrowserRouter>
    }
}

#[component]
fn Header() -> Html {
    let auth = use_auth();
    let navigator = use_navigator().expect("the header is inside the router");
    let current = use_route::<Route>();
    let nav_link = |route: Route, text: &'static str| {
        let class = classes!(
            "nav-link",
            (current.as_ref() == Some(&route)).then_some("active")
        );
        html! { <Link<Route> to={route} classes={class}>{ text }</Link<Route>> }
    };
    let client = use_client();
    let signing_out = use_state(|| false);
    let signed_in = auth.session().is_some();
    let sign_out = {
        let signing_out = signing_out.clone();
        Callback::from(move |_: MouseEvent| {
            if *signing_out {
                return;
            }
            signing_out.set(true);
            let (client, navigator, signing_out) =
                (client.clone(), navigator.clone(), signing_out.clone());
            spawn_local(async move {
                client.sign_out(&navigator).await;
                signing_out.set(false);
            });
        })
    };
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
                        { nav_link(Route::Account, "Account") }
                        <button type="button" class="button ghost" onclick={sign_out}
                            disabled={*signing_out} aria-busy={signing_out.to_string()}>
                            { "Sign out" }
                        </button>
                    </div>
                }
            </nav>
        </header>
    }
}
