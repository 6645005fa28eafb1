//! The app's pages and every rule about who may see which: all redirects happen here,
//! including those out of the app, to the `rd` that forward auth gives Sign in.

use serde::{Deserialize, Serialize};
use tessera_api::codes;
use yew::platform::spawn_local;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::auth::use_auth;
use crate::pages;
use crate::toast::{Toasts, use_toasts};
use crate::validation::sentence;

/// The pages. Unknown paths show [`Route::NotFound`].
#[derive(Debug, Clone, PartialEq, Eq, Routable)]
pub enum Route {
    #[at("/")]
    Home,
    #[at("/account")]
    Account,
    #[at("/account/password")]
    ChangePassword,
    #[at("/account/sessions")]
    Sessions,
    #[at("/account/delete")]
    DeleteAccount,
    #[at("/login")]
    SignIn,
    #[at("/register")]
    Register,
    #[at("/logout")]
    SignOut,
    #[not_found]
    #[at("/404")]
    NotFound,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    SignedIn,
    SignedOut,
    Anyone,
}

impl Route {
    fn access(&self) -> Access {
        match self {
            Route::Home
            | Route::Account
            | Route::ChangePassword
            | Route::Sessions
            | Route::DeleteAccount => Access::SignedIn,
            Route::SignIn | Route::Register => Access::SignedOut,
            Route::SignOut | Route::NotFound => Access::Anyone,
        }
    }
}

/// The query of Sign in (and Create account, which passes it on): where to go afterwards.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInQuery {
    /// A page of the app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// An absolute URL outside the app (forward auth's protected sites), followed only
    /// when the server allows it; it takes precedence over `next`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rd: Option<String>,
}

impl SignInQuery {
    /// The query of `location`, ignoring one that cannot be read.
    pub fn of(location: &Location) -> SignInQuery {
        location.query::<SignInQuery>().unwrap_or_default()
    }
}

/// Where a user who signs in goes: the page they were sent away from if it is one of the
/// app's signed-in pages, else Home. Anything else, such as `//evil.example` or
/// `https://…`, is ignored, so the parameter cannot send anyone off-site.
pub fn after_sign_in(next: Option<&str>) -> Route {
    next.filter(|path| path.starts_with('/'))
        .and_then(Route::recognize)
        .filter(|route| route.access() == Access::SignedIn)
        .unwrap_or(Route::Home)
}

/// Sends the browser to `rd`, an address outside the app, if the server allows it
/// (`GET /api/v1/forward-auth/redirect`); else says why and goes to `fallback`.
pub async fn leave_for(rd: &str, fallback: &Route, navigator: &Navigator, toasts: &Toasts) {
    let why_not = match api::redirect_target(rd).await {
        Ok(target) => match web_sys::window().map(|window| window.location().assign(&target.url)) {
            Some(Ok(())) => return,
            _ => "The browser did not open the page to return to.".to_owned(),
        },
        Err(error) if error.code() == Some(codes::REDIRECT_NOT_ALLOWED) => {
            "The page that sent you here is not one Tessera may send you back to.".to_owned()
        }
        Err(error) => format!(
            "Could not check the page to return to. {}",
            sentence(&error.message())
        ),
    };
    toasts.error(why_not);
    navigator.replace(fallback);
}

/// Where to send the user instead of showing `route`, if anywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Redirect {
    SignIn(SignInQuery),
    To(Route),
    /// Out of the app, to `rd` if the server allows it; else to `fallback`.
    Leave {
        rd: String,
        fallback: Route,
    },
}

fn redirect(route: &Route, signed_in: bool, query: &SignInQuery) -> Option<Redirect> {
    match (route.access(), signed_in) {
        (Access::SignedIn, false) => {
            // Home is where Sign in leads anyway; naming it would only clutter the URL.
            let next = (*route != Route::Home).then(|| route.to_path());
            Some(Redirect::SignIn(SignInQuery { next, rd: None }))
        }
        (Access::SignedOut, true) => {
            let fallback = after_sign_in(query.next.as_deref());
            Some(match &query.rd {
                Some(rd) => Redirect::Leave {
                    rd: rd.clone(),
                    fallback,
                },
                None => Redirect::To(fallback),
            })
        }
        _ => None,
    }
}

#[derive(Properties, PartialEq)]
struct GateProps {
    route: Route,
}

/// Shows the page of `route` if the user may see it, else replaces the history entry with
/// the right page (replacing, so Back never returns to a page the user may not see).
/// Until the app knows whether anyone is signed in, pages that depend on it wait.
#[component]
fn Gate(props: &GateProps) -> Html {
    let auth = use_auth();
    let navigator = use_navigator().expect("Gate is inside the router");
    let location = use_location().expect("Gate is inside the router");
    let toasts = use_toasts();
    let waiting = auth.is_restoring() && props.route.access() != Access::Anyone;
    let redirect = (!waiting)
        .then(|| {
            redirect(
                &props.route,
                auth.session().is_some(),
                &SignInQuery::of(&location),
            )
        })
        .flatten();
    use_effect_with(redirect.clone(), move |redirect| match redirect {
        Some(Redirect::SignIn(query)) => {
            // Serialising a struct of optional strings cannot fail.
            let _ = navigator.replace_with_query(&Route::SignIn, query);
        }
        Some(Redirect::To(route)) => navigator.replace(route),
        Some(Redirect::Leave { rd, fallback }) => {
            let (rd, fallback) = (rd.clone(), fallback.clone());
            spawn_local(async move { leave_for(&rd, &fallback, &navigator, &toasts).await });
        }
        None => {}
    });
    if waiting {
        return html! {
            <div class="boot" role="status">
                <span class="brand-mark" aria-hidden="true"></span>
                <span>{ "Loading Tessera…" }</span>
            </div>
        };
    }
    match redirect {
        Some(Redirect::Leave { .. }) => {
            return html! {
                <pages::Page title="Signed in" class="page-leaving" busy=true>
                    <p class="lead loading" role="status">{ "Taking you back…" }</p>
                </pages::Page>
            };
        }
        Some(_) => return Html::default(),
        None => {}
    }
    match props.route {
        Route::Home => html! { <pages::Home /> },
        Route::Account => html! { <pages::Account /> },
        Route::ChangePassword => html! { <pages::ChangePassword /> },
        Route::Sessions => html! { <pages::Sessions /> },
        Route::DeleteAccount => html! { <pages::DeleteAccount /> },
        Route::SignIn => html! { <pages::SignIn /> },
        Route::Register => html! { <pages::Register /> },
        Route::SignOut => html! { <pages::SignOut /> },
        Route::NotFound => html! { <pages::NotFound /> },
    }
}

/// The query of the sign-out link: where to go afterwards, outside the app.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignOutQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rd: Option<String>,
}

/// The page for `route`, behind the [`Gate`].
pub fn switch(route: Route) -> Html {
    html! { <Gate {route} /> }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(next: Option<&str>) -> SignInQuery {
        SignInQuery {
            next: next.map(str::to_owned),
            rd: None,
        }
    }

    #[test]
    fn signed_out_users_are_sent_to_sign_in_remembering_the_page() {
        assert_eq!(
            redirect(&Route::Account, false, &query(None)),
            Some(Redirect::SignIn(query(Some("/account"))))
        );
        assert_eq!(
            redirect(&Route::ChangePassword, false, &query(None)),
            Some(Redirect::SignIn(query(Some("/account/password"))))
        );
        assert_eq!(
            redirect(&Route::Home, false, &query(None)),
            Some(Redirect::SignIn(query(None)))
        );
        assert_eq!(redirect(&Route::SignIn, false, &query(None)), None);
        assert_eq!(redirect(&Route::Register, false, &query(None)), None);
        assert_eq!(redirect(&Route::NotFound, false, &query(None)), None);
        assert_eq!(redirect(&Route::SignOut, false, &query(None)), None);
    }

    #[test]
    fn signed_in_users_leave_sign_in_for_where_they_were_going() {
        assert_eq!(
            redirect(&Route::SignIn, true, &query(Some("/account"))),
            Some(Redirect::To(Route::Account))
        );
        assert_eq!(
            redirect(&Route::Register, true, &query(None)),
            Some(Redirect::To(Route::Home))
        );
        assert_eq!(redirect(&Route::Home, true, &query(None)), None);
        assert_eq!(redirect(&Route::Account, true, &query(None)), None);
        assert_eq!(redirect(&Route::ChangePassword, true, &query(None)), None);
        assert_eq!(redirect(&Route::NotFound, true, &query(None)), None);
        assert_eq!(redirect(&Route::SignOut, true, &query(None)), None);
    }

    #[test]
    fn signed_in_users_with_an_rd_leave_the_app_or_else_go_where_next_says() {
        let rd = "https://app.example/dash?x=1";
        let leaving = SignInQuery {
            next: Some("/account".into()),
            rd: Some(rd.into()),
        };
        for route in [Route::SignIn, Route::Register] {
            assert_eq!(
                redirect(&route, true, &leaving),
                Some(Redirect::Leave {
                    rd: rd.into(),
                    fallback: Route::Account,
                })
            );
        }
        // Signed out, `rd` waits for the sign-in; guarded pages never carry one.
        assert_eq!(redirect(&Route::SignIn, false, &leaving), None);
        assert_eq!(
            redirect(&Route::Account, false, &leaving),
            Some(Redirect::SignIn(query(Some("/account"))))
        );
    }

    #[test]
    fn next_only_leads_to_signed_in_pages_of_the_app() {
        assert_eq!(after_sign_in(Some("/account")), Route::Account);
        assert_eq!(
            after_sign_in(Some("/account/password")),
            Route::ChangePassword
        );
        assert_eq!(after_sign_in(Some("/account/sessions")), Route::Sessions);
        assert_eq!(after_sign_in(Some("/account/delete")), Route::DeleteAccount);
        assert_eq!(after_sign_in(Some("/")), Route::Home);
        for hostile in [
            None,
            Some(""),
            Some("account"),
            Some("//evil.example/account"),
            Some("https://evil.example/"),
            Some("/login"),
            Some("/register"),
            Some("/no/such/page"),
            Some("javascript:alert(1)"),
        ] {
            assert_eq!(after_sign_in(hostile), Route::Home, "{hostile:?}");
        }
    }

    #[test]
    fn the_query_round_trips_through_the_url() {
        use yew_router::query::{FromQuery, ToQuery};
        let account = query(Some("/account"));
        let encoded = account.to_query().expect("encodes");
        assert_eq!(encoded, "next=%2Faccount");
        assert_eq!(SignInQuery::from_query(&encoded).expect("decodes"), account);
        assert_eq!(query(None).to_query().expect("encodes"), "");
        assert_eq!(SignInQuery::from_query("").expect("decodes"), query(None));
        let forwarded = "rd=https%3A%2F%2Fapp.example%2Fa%3Fb%3D1%26c%3D2";
        assert_eq!(
            SignInQuery::from_query(forwarded)
                .expect("decodes")
                .rd
                .as_deref(),
            Some("https://app.example/a?b=1&c=2")
        );
        assert_eq!(
            SignOutQuery::from_query(forwarded)
                .expect("decodes")
                .rd
                .as_deref(),
            Some("https://app.example/a?b=1&c=2")
        );
    }
}
