//! Sign in: a username and a password for a session.

use tessera_api::Credentials;
use yew::platform::spawn_local;
use yew::prelude::*;
use yew_router::prelude::*;

use super::Page;
use crate::api;
use crate::client::use_client;
use crate::form::{Field, Form, Typing, use_field, use_form, use_prefilled_field};
use crate::routes::{Route, SignInQuery};
use crate::toast::use_toasts;
use crate::validation;

/// History state that Create account leaves for Sign in: the name just registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefill {
    pub username: String,
}

/// The line under Sign in and Create account that leads to the other, keeping where to go
/// afterwards.
pub(super) fn switch_link(
    question: &'static str,
    to: Route,
    text: &'static str,
    location: &Location,
) -> Html {
    html! {
        <p class="switch">
            { question }
            <Link<Route, SignInQuery> {to} query={Some(SignInQuery::of(location))}>
                { text }
            </Link<Route, SignInQuery>>
        </p>
    }
}

#[component]
pub fn SignIn() -> Html {
    let client = use_client();
    let toasts = use_toasts();
    let location = use_location().expect("pages are inside the router");
    let prefill = location.state::<Prefill>();
    // The server's answer is about both fields at once: typing in either makes it stale.
    let form = use_form(Typing::ClearsAll);
    let prefilled = prefill.as_ref().map(|p| p.username.clone());
    let username = use_prefilled_field(
        &form,
        "username",
        validation::sign_in_username,
        prefilled.unwrap_or_default(),
    );
    let password = use_field(&form, "password", validation::sign_in_password);
    let note = use_forgot_password_note();

    let fields = [username.clone(), password.clone()];
    let onsubmit = form.onsubmit(fields, move |form, [username, password]| {
        let credentials = Credentials { username, password };
        let (client, toasts, form) = (client.clone(), toasts.clone(), form.clone());
        spawn_local(async move {
            match client.sign_in(&credentials).await {
                // The router's gate now moves on; the button stays disabled meanwhile.
                Ok(()) => toasts.success(format!("Signed in as {}.", credentials.username)),
                Err(error) => form.failed(&error, &toasts, "Could not sign in.", &[]),
            }
        });
    });

    html! {
        <Page title="Sign in" class="page-sign-in">
            <p class="lead">{ "Welcome back. Sign in to continue." }</p>
            <Form {form} {onsubmit} submit="Sign in">
                <Field field={username} label="Username" autocomplete="username" />
                <Field field={password} label="Password" input_type="password"
                    autocomplete="current-password" />
            </Form>
            if let Some(note) = note {
                <p class="hint forgot">
                    <strong>{ "Forgot your password? " }</strong>{ note }
                </p>
            }
            { switch_link("New to Tessera? ", Route::Register, "Create an account", &location) }
        </Page>
    }
}

/// The operator's note on forgotten passwords (`GET /api/v1/web-settings`), once loaded;
/// nothing while it loads or when it cannot be.
#[hook]
fn use_forgot_password_note() -> Option<String> {
    let note = use_state(|| None);
    {
        let note = note.clone();
        use_effect_with((), move |_| {
            spawn_local(async move {
                if let Ok(settings) = api::web_settings().await {
                    note.set(Some(settings.forgot_password_note));
                }
            });
        });
    }
    (*note).clone()
}
