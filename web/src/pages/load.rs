//! What pages load from the API on arrival, with a way to try again.

use std::future::Future;

use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::ApiError;
use crate::auth::use_auth;
use crate::client::{Client, use_client};
use crate::toast::use_toasts;
use crate::validation::sentence;

/// What `fetch` answers for the signed-in user: `None` until the first answer. Loaded on
/// mount, when the returned callback is called (Retry, or after a change), and when the
/// session's user changes (another tab may sign in as someone else); not when the tokens
/// are merely renewed. A reload keeps what is shown until its answer, unless that was an
/// error; a failure also shows the toast `failure`.
#[hook]
pub fn use_load<T, F, Fut>(
    failure: &'static str,
    fetch: F,
) -> (Option<Result<T, ApiError>>, Callback<()>)
where
    T: Clone + 'static,
    F: Fn(Client) -> Fut + 'static,
    Fut: Future<Output = Result<T, ApiError>> + 'static,
{
    let user = use_auth().session().map(|s| s.user().to_owned());
    let client = use_client();
    let toasts = use_toasts();
    let loaded = use_state(|| None::<Result<T, ApiError>>);
    let load = {
        let loaded = loaded.clone();
        Callback::from(move |()| {
            if matches!(*loaded, Some(Err(_))) {
                loaded.set(None);
            }
            let (answer, toasts, loaded) = (fetch(client.clone()), toasts.clone(), loaded.clone());
            spawn_local(async move {
                let answer = answer.await;
                // A 401 has already ended the session and the page is going away.
                if let Err(error) = &answer {
                    if error.status() != Some(401) {
                        toasts.error(failure);
                    }
                }
                loaded.set(Some(answer));
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
    ((*loaded).clone(), load)
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
