//! Following the other tabs: a tab that signs in or out says so on a `BroadcastChannel`;
//! the others ask the cookie for their own access token, or forget theirs. Only the news
//! travels, never a token.

use std::rc::Rc;

use gloo_events::EventListener;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{BroadcastChannel, MessageEvent};
use yew::platform::spawn_local;
use yew::prelude::*;

use super::Auth;
use super::state::AuthAction;

/// The channel's name, the same in every tab of this origin.
const CHANNEL: &str = "tessera.session";

/// What a tab tells the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum News {
    SignedIn,
    SignedOut,
}

impl News {
    fn as_str(self) -> &'static str {
        match self {
            News::SignedIn => "signed-in",
            News::SignedOut => "signed-out",
        }
    }

    fn parse(text: &str) -> Option<News> {
        [News::SignedIn, News::SignedOut]
            .into_iter()
            .find(|news| news.as_str() == text)
    }
}

/// This tab's end of the channel (none where the browser lacks it). One per tab: a
/// channel does not hear its own messages, but would hear another of the same tab.
#[derive(Clone)]
pub(super) struct Tabs(Option<Rc<BroadcastChannel>>);

impl PartialEq for Tabs {
    fn eq(&self, other: &Tabs) -> bool {
        match (&self.0, &other.0) {
            (Some(mine), Some(theirs)) => Rc::ptr_eq(mine, theirs),
            (None, None) => true,
            _ => false,
        }
    }
}

impl Tabs {
    pub(super) fn open() -> Tabs {
        Tabs(BroadcastChannel::new(CHANNEL).ok().map(Rc::new))
    }

    pub(super) fn announce(&self, news: News) {
        if let Some(channel) = &self.0 {
            let _ = channel.post_message(&JsValue::from_str(news.as_str()));
        }
    }
}

impl Auth {
    fn follow(&self, news: News) {
        match news {
            News::SignedIn => {
                let auth = self.clone();
                spawn_local(async move {
                    // Unreachable now: this tab's own timer or next request finds out later.
                    let _ = auth.resume().await;
                });
            }
            News::SignedOut => {
                let was_signed_in = self.state.session.is_some();
                // Also when signed out here: a cookie renewal under way must not apply.
                self.state.dispatch(AuthAction::SignedOut);
                if was_signed_in {
                    self.toasts.info("Your session ended in another tab.");
                }
            }
        }
    }
}

/// Follows the other tabs' sign-ins and sign-outs for as long as the caller lives.
#[hook]
pub(super) fn use_other_tabs(auth: Auth) {
    use_effect_with((), move |_| {
        let listener = auth.tabs.0.clone().map(|channel| {
            EventListener::new(&channel, "message", move |event| {
                let news = event
                    .dyn_ref::<MessageEvent>()
                    .and_then(|message| message.data().as_string())
                    .and_then(|text| News::parse(&text));
                if let Some(news) = news {
                    auth.follow(news);
                }
            })
        });
        move || drop(listener)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn news_reads_back_as_sent_and_nothing_else() {
        for news in [News::SignedIn, News::SignedOut] {
            assert_eq!(News::parse(news.as_str()), Some(news));
        }
        assert_eq!(News::parse("eyJhbGciOi.x.y"), None);
        assert_eq!(News::parse(""), None);
    }
}
