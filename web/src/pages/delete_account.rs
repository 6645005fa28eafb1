//! Delete account: the password again and an explicit confirmation, then the account and
//! every session are gone.

use tessera_api::AccountDeletion;
use yew::platform::spawn_local;
use yew::prelude::*;
use yew_router::prelude::*;

use super::Page;
use super::home::use_username;
use crate::client::use_client;
use crate::form::{Checkbox, Field, Form, HiddenUsername, Typing, use_field, use_form};
use crate::routes::Route;
use crate::toast::use_toasts;
use crate::validation;

/// The confirmation's check: the box must be ticked.
fn ticked(value: &str) -> Option<String> {
    value
        .is_empty()
        .then(|| "tick the box to confirm that the account should be deleted".to_owned())
}

#[component]
pub fn DeleteAccount() -> Html {
    let client = use_client();
    let toasts = use_toasts();
    let navigator = use_navigator().expect("pages are inside the router");
    let form = use_form(Typing::ClearsField);
    let password = use_field(&form, "password", validation::sign_in_password);
    let confirm = use_field(&form, "confirm", ticked);
    let username = use_username();

    let fields = [password.clone(), confirm.clone()];
    let onsubmit = form.onsubmit(fields.clone(), move |form, [password, _]| {
        let deletion = AccountDeletion { password };
        let (client, toasts, navigator) = (client.clone(), toasts.clone(), navigator.clone());
        let (form, fields) = (form.clone(), fields.clone());
        spawn_local(async move {
            match client.delete_account(&deletion, &navigator).await {
                Ok(()) => {}
                // The session has ended and the page is going away.
                Err(error) if error.status() == Some(401) => {}
                Err(error) => {
                    form.failed(&error, &toasts, "Could not delete the account.", &fields)
                }
            }
        });
    });

    let whose = match &username {
        Some(name) => format!("This deletes the account {name}"),
        None => "This deletes your account".to_owned(),
    };
    html! {
        <Page title="Delete account" class="page-delete">
            <p class="lead">
                { whose }{ ", ends every session on every device, and cannot be undone." }
            </p>
            <Form {form} {onsubmit} submit="Delete account" danger=true>
                <HiddenUsername {username} />
                <Field field={password} label="Password" input_type="password"
                    autocomplete="current-password" />
                <Checkbox field={confirm}
                    label="I understand that my account will be deleted for good." />
            </Form>
            <p class="switch">
                <Link<Route> to={Route::Account}>{ "Keep my account" }</Link<Route>>
            </p>
        </Page>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_ticked_box_confirms() {
        assert!(ticked("").is_some());
        assert_eq!(ticked("yes"), None);
    }
}
