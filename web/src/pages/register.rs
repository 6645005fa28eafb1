//! Create account: a new username and password, then signed in at once.

use tessera_api::Credentials;
use yew::platform::spawn_local;
use yew::prelude::*;
use yew_router::prelude::*;

use super::sign_in::switch_link;
use super::{Page, Prefill};
use crate::client::use_client;
use crate::form::{Field, Form, Typing, use_field, use_form};
use crate::routes::{Route, SignInQuery};
use crate::toast::use_toasts;
use crate::validation;

#[component]
pub fn Register() -> Html {
    let client = use_client();
    let toasts = use_toasts();
    let navigator = use_navigator().expect("pages are inside the router");
    let location = use_location().expect("pages are inside the router");
    let form = use_form(Typing::ClearsField);
    // Our own check first; once it passes, what the server said about the field.
    let username = use_field(&form, "username", validation::new_username);
    let password = use_field(&form, "password", validation::new_password);

    let query = SignInQuery::of(&location);
    let fields = [username.clone(), password.clone()];
    let onsubmit = form.onsubmit(fields.clone(), move |form, [username, password]| {
        let credentials = Credentials { username, password };
        let (client, toasts, navigator) = (client.clone(), toasts.clone(), navigator.clone());
        let (form, fields, query) = (form.clone(), fields.clone(), query.clone());
        spawn_local(async move {
            match client.register(&credentials).await {
                // Signed in, the router's gate moves on to where Sign in would have led.
                Ok(user) => match client.sign_in(&credentials).await {
                    Ok(()) => toasts.success(format!(
                        "Account {} created. You are signed in.",
                        user.username
                    )),
                    Err(error) => {
                        toasts.info(format!(
                            "Account {} created, but signing in failed: {} Sign in to \
                             continue.",
                            user.username,
                            crate::validation::sentence(&error.message())
                        ));
                        let prefill = Prefill {
                            username: user.username,
                        };
                        let _ = navigator.push_with_query_and_state(&Route::SignIn, query, prefill);
                    }
                },
                Err(error) => {
                    form.failed(&error, &toasts, "Could not create the account.", &fields)
                }
            }
        });
    });

    html! {
        <Page title="Create account" class="page-register">
            <p class="lead">{ "Choose a username and a password to get started." }</p>
            <Form {form} {onsubmit} submit="Create account">
                <Field field={username} label="Username" autocomplete="username"
                    hint={AttrValue::from(validation::new_username_hint())} />
                <Field field={password} label="Password" input_type="password"
                    autocomplete="new-password"
                    hint={AttrValue::from(validation::new_password_hint())} />
            </Form>
            { switch_link("Already have an account? ", Route::SignIn, "Sign in", &location) }
        </Page>
    }
}
