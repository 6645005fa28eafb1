//! Tessera's web app: sign in, create an account, and see who you are.
//!
//! A Yew single-page app compiled to wasm32 by `scripts/build-web.sh` and served by
//! `tessera serve`. The pure parts (token expiry, form checks, redirect rules, error
//! mapping) are unit-tested on the host; the whole app is tested in Chromium by the
//! server's `browser` tests.

mod api;
mod app;
mod auth;
mod busy;
mod client;
mod form;
mod pages;
mod progress;
mod routes;
mod time;
mod toast;
mod token;
mod validation;

/// Starts the app in the page's `#app` element, replacing its "loading" placeholder (the
/// whole body if there is no such element).
pub fn run() {
    let root = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.get_element_by_id("app"));
    match root {
        Some(root) => {
            root.set_inner_html("");
            yew::Renderer::<app::App>::with_root(root).render();
        }
        None => {
            yew::Renderer::<app::App>::new().render();
        }
    }
}
