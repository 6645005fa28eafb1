//! Home: the signed-in user's greeting.

use tessera_api::UserView;
use yew::platform::spawn_local;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::ApiError;
use crate::auth::use_auth;
use crate::client::use_client;
use crate::routes::Route;
use crate::toast::use_toasts;
use crate::validation::sentence;

/// The signed-in user as the server knows them, loaded on mount, on Retry, and when the
/// session's user changes (another tab may sign in as someone else); not when the tokens
/// are merely renewed.
#[hook]
pub fn use_me() -> (Option<Result<UserView, ApiError>>, Callback<()>) {
    let user = use_auth().session().map(|s| s.user().to_owned());
    let client = use_client();
    let toasts = use_toasts();
    let me = use_state(|| None);
    let load = {
        let me = me.clone();
        Callback::from(move |()| {
            let (client, toasts, me) = (client.clone(), toasts.clone(), me.clone());
            me.set(None);
            spawn_local(async move {
                let answer = client.me().await;
                // A 401 has already ended the session and the page is going away.
                if let Err(error) = &answer {
                    if error.status() != Some(401) {
                        toasts.error("Could not load your account.");
                    }
                }
                me.set(Some(answer));
            });
        })
    };
    {
        let load = load.clone();
        use_effect_with(user, move |user| {
            if user.is_some() {
                load.emit(());
            }
        });
    }
    ((*me).clone(), load)
}

/// A failed load with a way to try again.
pub fn load_failed(error: &ApiError, retry: &Callback<()>) -> Html {
    let retry = retry.reform(|_: MouseEvent| ());
    html! {
        <>
            <p class="form-error" role="alert">{ sentence(&error.message()) }</p>
            <button type="button" class="button secondary" onclick={retry}>{ "Try again" }</button>
        </>
    }
}

#[component]
pub fn Home() -> Html {
    let (me, retry) = use_me();
    let body = match &me {
        None => html! {
            <>
                <h1>{ "Hello" }</h1>
                <p class="lead loading">{ "Loading your account…" }</p>
            </>
        },
        Some(Ok(user)) => html! {
            <>
                <h1 class="greeting">{ "Hello, " }{ user.username.clone() }</h1>
                <p class="lead">{ "You are signed in." }</p>
                <p>
                    <Link<Route> to={Route::Account} classes="button secondary">
                        { "Account details" }
                    </Link<Route>>
                </p>
            </>
        },
        Some(Err(error)) => html! {
            <>
                <h1>{ "Hello" }</h1>
                { load_failed(error, &retry) }
            </>
        },
    };
    html! {
        <section class="card page-home" aria-busy={me.is_none().to_string()}>
            { body }
        </section>
    }
}
