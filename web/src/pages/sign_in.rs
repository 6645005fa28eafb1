//! Sign in: a username and a password for a session.

use tessera_api::Credentials;
use yew::platform::spawn_local;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::client::use_client;
use crate::form::{Field, ServerErrors, focus, form_error, is_outage};
use crate::routes::{Route, SignInQuery};
use crate::toast::use_toasts;
use crate::validation;

/// History state that Create account leaves for Sign in: the name just registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefill {
    pub username: String,
}

#[component]
pub fn SignIn() -> Html {
    let client = use_client();
    let toasts = use_toasts();
    let location = use_location().expect("pages are inside the router");
    let prefill = location.state::<Prefill>();
    let username = use_state(|| {
        prefill
            .as_ref()
            .map(|p| p.username.clone())
            .unwrap_or_default()
    });
    let password = use_state(String::new);
    let username_touched = use_state(|| false);
    let password_touched = use_state(|| false);
    let server = use_state(ServerErrors::default);
    let busy = use_state(|| false);
    let username_ref = use_node_ref();
    let password_ref = use_node_ref();

    // Start where the user has something to type.
    {
        let target = if prefill.is_some() {
            password_ref.clone()
        } else {
            username_ref.clone()
        };
        use_effect_with((), move |_| focus(&target));
    }

    let username_error = (*username_touched)
        .then(|| validation::sign_in_username(&username).map(str::to_owned))
        .flatten()
        .or_else(|| server.about("username"));
    let password_error = (*password_touched)
        .then(|| validation::sign_in_password(&password).map(str::to_owned))
        .flatten()
        .or_else(|| server.about("password"));

    let onsubmit = {
        let (username, password) = (username.clone(), password.clone());
        let (username_touched, password_touched) =
            (username_touched.clone(), password_touched.clone());
        let (server, busy) = (server.clone(), busy.clone());
        let (username_ref, password_ref) = (username_ref.clone(), password_ref.clone());
        move |event: SubmitEvent| {
            event.prevent_default();
            if *busy {
                return;
            }
            username_touched.set(true);
            password_touched.set(true);
            if validation::sign_in_username(&username).is_some() {
                return focus(&username_ref);
            }
            if validation::sign_in_password(&password).is_some() {
                return focus(&password_ref);
            }
            let credentials = Credentials {
                username: (*username).clone(),
                password: (*password).clone(),
            };
            let (client, toasts, server, busy) =
                (client.clone(), toasts.clone(), server.clone(), busy.clone());
            busy.set(true);
            server.set(ServerErrors::default());
            spawn_local(async move {
                match client.sign_in(&credentials).await {
                    // The router's gate now moves on; the button stays disabled meanwhile.
                    Ok(()) => toasts.success(format!("Signed in as {}.", credentials.username)),
                    Err(error) => {
                        if is_outage(&error) {
                            toasts.error("Could not sign in.");
                        }
                        server.set(ServerErrors::from_error(&error));
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
            server.set(ServerErrors::default());
        })
    };
    let on_password = {
        let (password, server) = (password.clone(), server.clone());
        Callback::from(move |value: String| {
            password.set(value);
            server.set(ServerErrors::default());
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
        <section class="card page-sign-in" aria-labelledby="sign-in-title">
            <h1 id="sign-in-title">{ "Sign in" }</h1>
            <p class="lead">{ "Welcome back. Sign in to continue." }</p>
            <form {onsubmit} novalidate=true>
                <Field id="username" label="Username" value={(*username).clone()}
                    autocomplete="username" error={username_error}
                    oninput={on_username} onblur={touch(&username_touched, &username)}
                    node_ref={username_ref} />
                <Field id="password" label="Password" input_type="password"
                    value={(*password).clone()} autocomplete="current-password"
                    error={password_error} oninput={on_password}
                    onblur={touch(&password_touched, &password)} node_ref={password_ref} />
                { form_error(&server.form) }
                <button type="submit" class="button primary" disabled={*busy}
                    aria-busy={busy.to_string()}>
                    { "Sign in" }
                </button>
            </form>
            <p class="switch">
                { "New to Tessera? " }
                <Link<Route, SignInQuery> to={Route::Register} query={Some(SignInQuery::of(&location))}>
                    { "Create an account" }
                </Link<Route, SignInQuery>>
            </p>
        </section>
    }
}
