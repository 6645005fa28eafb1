//! Change password: the current password again, and a new one. The server ends the
//! user's other sessions; this one stays.

use tessera_api::PasswordChange;
use yew::platform::spawn_local;
use yew::prelude::*;
use yew_router::prelude::*;

use super::Page;
use super::home::use_username;
use crate::client::use_client;
use crate::form::{Field, Form, HiddenUsername, Typing, use_field, use_form};
use crate::routes::Route;
use crate::toast::use_toasts;
use crate::validation;

#[component]
pub fn ChangePassword() -> Html {
    let client = use_client();
    let toasts = use_toasts();
    let navigator = use_navigator().expect("pages are inside the router");
    let form = use_form(Typing::ClearsField);
    // Named as the request's fields, which the server names in its problems.
    let current = use_field(&form, "current_password", validation::sign_in_password);
    let new = use_field(&form, "new_password", validation::new_password);
    let username = use_username();

    let fields = [current.clone(), new.clone()];
    let onsubmit = form.onsubmit(
        fields.clone(),
        move |form, [current_password, new_password]| {
            let change = PasswordChange {
                current_password,
                new_password,
            };
            let (client, toasts, navigator) = (client.clone(), toasts.clone(), navigator.clone());
            let (form, fields) = (form.clone(), fields.clone());
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
                        form.failed(&error, &toasts, "Could not change the password.", &fields)
                    }
                }
            });
        },
    );

    html! {
        <Page title="Change password" class="page-password">
            <p class="lead">
                { "Your other sessions end when the password changes; this one stays." }
            </p>
            <Form {form} {onsubmit} submit="Change password">
                <HiddenUsername {username} />
                <Field field={current} label="Current password" input_type="password"
                    autocomplete="current-password" />
                <Field field={new} label="New password" input_type="password"
                    autocomplete="new-password"
                    hint={AttrValue::from(validation::new_password_hint())} />
            </Form>
            <p class="switch">
                <Link<Route> to={Route::Account}>{ "Back to your account" }</Link<Route>>
            </p>
        </Page>
    }
}
