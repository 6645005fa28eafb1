//! The app's frame: providers, the header, and the routed page.

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
