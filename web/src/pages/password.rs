//! Change password: the current password again, and a new one. The server ends the
//! user's other sessions; this one stays.

use tessera_api::PasswordChange;
use yew::platform::spawn_local;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::client::use_client;
use crate::form::{Field, ServerErrors, focus, form_error, is_outage};
use crate::routes::Route;
use crate::toast::use_toasts;
use crate::validation;

/// The request's field names, which the server names in its problems.
const CURRENT: &str = "current_password";
const NEW: &str = "new_password";

#[component]
pub fn ChangePassword() -> Html {
    let client = use_client();
    let toasts = use_toasts();
    let navigator = use_navigator().expect("pages are inside the router");
    let current = use_state(String::new);
    let new = use_state(String::new);
    let current_touched = use_state(|| false);
    let new_touched = use_state(|| false);
    let server = use_state(ServerErrors::default);
    let busy = use_state(|| false);
    let current_ref = use_node_ref();
    let new_ref = use_node_ref();

    {
        let current_ref = current_ref.clone();
        use_effect_with((), move |_| focus(&current_ref));
    }

    let current_error = (*current_touched)
        .then(|| validation::sign_in_password(&current).map(str::to_owned))
        .flatten()
        .or_else(|| server.about(CURRENT));
    let new_error = (*new_touched)
        .then(|| validation::new_password(&new).map(str::to_owned))
        .flatten()
        .or_else(|| server.about(NEW));

    let onsubmit = {
        let (current, new) = (current.clone(), new.clone());
        let (current_touched, new_touched) = (current_touched.clone(), new_touched.clone());
        let (server, busy) = (server.clone(), busy.clone());
        let (current_ref, new_ref) = (current_ref.clone(), new_ref.clone());
        move |event: SubmitEvent| {
            event.prevent_default();
            if *busy {
                return;
            }
            current_touched.set(true);
            new_touched.set(true);
            if validation::sign_in_password(&current).is_some() {
                return focus(&current_ref);
            }
            if validation::new_password(&new).is_some() {
                return focus(&new_ref);
            }
            let change = PasswordChange {
                current_password: (*current).clone(),
                new_password: (*new).clone(),
            };
            let (client, toasts, navigator) = (client.clone(), toasts.clone(), navigator.clone());
            let (server, busy) = (server.clone(), busy.clone());
            let (current_ref, new_ref) = (current_ref.clone(), new_ref.clone());
            busy.set(true);
            server.set(ServerErrors::default());
            spawn_local(async move {
                match client.change_password(&change).await {
                    Ok(()) => {
                        toasts.success(
                            "Your password has been changed. Your other sessions have ended.",
                        );
                        navigator.push(&Route::Account);
                    }
                    // The session has ended and the page is going away.
                    Err(error) if error.status() == Some(401) => {}
                    Err(error) => {
                        if is_outage(&error) {
                            toasts.error("Could not change the password.");
                        }
                        let errors = ServerErrors::from_error(&error);
                        if errors.about(CURRENT).is_some() {
                            focus(&current_ref);
                        } else if errors.about(NEW).is_some() {
                            focus(&new_ref);
                        }
                        server.set(errors);
                        busy.set(false);
                    }
                }
            });
        }
    };

    let on_input = |value: &UseStateHandle<String>, field: &'static str| {
        let (value, server) = (value.clone(), server.clone());
        Callback::from(move |text: String| {
            value.set(text);
            server.set(server.without(field));
        })
    };
    // As on Sign in: leaving an empty field says nothing yet.
    let touch = |flag: &UseStateHandle<bool>, value: &UseStateHandle<String>| {
        let (flag, value) = (flag.clone(), value.clone());
        Callback::from(move |()| {
            if !value.is_empty() {
                flag.set(true);
            }
        })
    };

    html! {
        <section class="card page-password" aria-labelledby="password-title">
            <h1 id="password-title">{ "Change password" }</h1>
            <p class="lead">
                { "Your other sessions end when the password changes; this one stays." }
            </p>
            <form {onsubmit} novalidate=true>
                <Field id={CURRENT} label="Current password" input_type="password"
                    value={(*current).clone()} autocomplete="current-password"
                    error={current_error} oninput={on_input(&current, CURRENT)}
                    onblur={touch(&current_touched, &current)} node_ref={current_ref} />
                <Field id={NEW} label="New password" input_type="password"
                    value={(*new).clone()} autocomplete="new-password" error={new_error}
                    hint={AttrValue::from("At least 8 characters. Common passwords are refused.")}
                    oninput={on_input(&new, NEW)} onblur={touch(&new_touched, &new)}
                    node_ref={new_ref} />
                { form_error(&server.form) }
                <button type="submit" class="button primary" disabled={*busy}
                    aria-busy={busy.to_string()}>
                    { "Change password" }
                </button>
            </form>
            <p class="switch">
                <Link<Route> to={Route::Account}>{ "Back to your account" }</Link<Route>>
            </p>
        </section>
    }
}
