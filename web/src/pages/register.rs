//! Create account: a new username and password, then on to Sign in.

use tessera_api::Credentials;
use yew::platform::spawn_local;
use yew::prelude::*;
use yew_router::prelude::*;

use super::Prefill;
use crate::client::use_client;
use crate::form::{Field, ServerErrors, focus, form_error, is_outage};
use crate::routes::{Route, SignInQuery};
use crate::toast::use_toasts;
use crate::validation;

#[component]
pub fn Register() -> Html {
    let client = use_client();
    let toasts = use_toasts();
    let navigator = use_navigator().expect("pages are inside the router");
    let location = use_location().expect("pages are inside the router");
    let username = use_state(String::new);
    let password = use_state(String::new);
    let username_touched = use_state(|| false);
    let password_touched = use_state(|| false);
    let server = use_state(ServerErrors::default);
    let busy = use_state(|| false);
    let username_ref = use_node_ref();
    let password_ref = use_node_ref();

    {
        let username_ref = username_ref.clone();
        use_effect_with((), move |_| focus(&username_ref));
    }

    // Our own check first; once it passes, what the server said about the field.
    let username_error = (*username_touched)
        .then(|| validation::new_username(&username).map(str::to_owned))
        .flatten()
        .or_else(|| server.about("username"));
    let password_error = (*password_touched)
        .then(|| validation::new_password(&password).map(str::to_owned))
        .flatten()
        .or_else(|| server.about("password"));

    let onsubmit = {
        let (username, password) = (username.clone(), password.clone());
        let (username_touched, password_touched) =
            (username_touched.clone(), password_touched.clone());
        let (server, busy) = (server.clone(), busy.clone());
        let (username_ref, password_ref) = (username_ref.clone(), password_ref.clone());
        let query = SignInQuery::of(&location);
        move |event: SubmitEvent| {
            event.prevent_default();
            if *busy {
                return;
            }
            username_touched.set(true);
            password_touched.set(true);
            if validation::new_username(&username).is_some() {
                return focus(&username_ref);
            }
            if validation::new_password(&password).is_some() {
                return focus(&password_ref);
            }
            let credentials = Credentials {
                username: (*username).clone(),
                password: (*password).clone(),
            };
            let (client, toasts, navigator) = (client.clone(), toasts.clone(), navigator.clone());
            let (server, busy, query) = (server.clone(), busy.clone(), query.clone());
            let (username_ref, password_ref) = (username_ref.clone(), password_ref.clone());
            busy.set(true);
            server.set(ServerErrors::default());
            spawn_local(async move {
                match client.register(&credentials).await {
                    Ok(user) => {
                        toasts.success(format!(
                            "Account {} created. Sign in to continue.",
                            user.username
                        ));
                        let prefill = Prefill {
                            username: user.username,
                        };
                        // Pushed, not replaced: Back returns to this form.
                        let _ = navigator.push_with_query_and_state(&Route::SignIn, query, prefill);
                    }
                    Err(error) => {
                        if is_outage(&error) {
                            toasts.error("Could not create the account.");
                        }
                        let errors = ServerErrors::from_error(&error);
                        if errors.about("username").is_some() {
                            focus(&username_ref);
                        } else if errors.about("password").is_some() {
                            focus(&password_ref);
                        }
                        server.set(errors);
                        busy.set(false);
                    }
                }
            });
        }
    };

    let on_username = {
        let (username, server) = (username.clone(), server.clone());
        Callback::from(move |value: String| {
            username.set(value);
            server.set(server.without("username"));
        })
    };
    let on_password = {
        let (password, server) = (password.clone(), server.clone());
        Callback::from(move |value: String| {
            password.set(value);
            server.set(server.without("password"));
        })
    };
    // Leaving a field checks it, unless it is still empty: a message appearing under an
    // untouched field would shift the page under a click on the way elsewhere.
    let touch = |flag: &UseStateHandle<bool>, value: &UseStateHandle<String>| {
        let (flag, value) = (flag.clone(), value.clone());
        Callback::from(move |()| {
            if !value.is_empty() {
                flag.set(true);
            }
        })
    };

    html! {
        <section class="card page-register" aria-labelledby="register-title">
            <h1 id="register-title">{ "Create account" }</h1>
            <p class="lead">{ "Choose a username and a password to get started." }</p>
            <form {onsubmit} novalidate=true>
                <Field id="username" label="Username" value={(*username).clone()}
                    autocomplete="username" error={username_error}
                    hint={AttrValue::from("Up to 32 characters; no colon, no spaces at either end.")}
                    oninput={on_username} onblur={touch(&username_touched, &username)}
                    node_ref={username_ref} />
                <Field id="password" label="Password" input_type="password"
                    value={(*password).clone()} autocomplete="new-password"
                    error={password_error}
                    hint={AttrValue::from("At least 8 characters. Common passwords are refused.")}
                    oninput={on_password} onblur={touch(&password_touched, &password)}
                    node_ref={password_ref} />
                { form_error(&server.form) }
                <button type="submit" class="button primary" disabled={*busy}
                    aria-busy={busy.to_string()}>
                    { "Create account" }
                </button>
            </form>
            <p class="switch">
                { "Already have an account? " }
                <Link<Route, SignInQuery> to={Route::SignIn} query={Some(SignInQuery::of(&location))}>
                    { "Sign in" }
                </Link<Route, SignInQuery>>
            </p>
        </section>
    }
}
