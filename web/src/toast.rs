//! Short messages in a corner of the page that go away by themselves.

use std::rc::Rc;

use gloo_timers::callback::Timeout;
use yew::prelude::*;

/// How long a message stays, in milliseconds: long enough to read two short sentences.
const SHOWN_FOR_MS: u32 = 5_000;
/// Older messages give way beyond this many, so a burst of errors cannot fill the screen.
const MAX_SHOWN: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Success,
    Info,
    Error,
}

#[derive(Debug, Clone, PartialEq)]
struct Toast {
    id: u32,
    kind: Kind,
    text: AttrValue,
}

#[derive(Debug, Default, PartialEq)]
struct Shown {
    next_id: u32,
    toasts: Vec<Toast>,
}

enum Action {
    Show(Kind, AttrValue),
    Dismiss(u32),
}

impl Reducible for Shown {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut toasts = self.toasts.clone();
        let mut next_id = self.next_id;
        match action {
            Action::Show(kind, text) => {
                toasts.push(Toast {
                    id: next_id,
                    kind,
                    text,
                });
                next_id = next_id.wrapping_add(1);
                let excess = toasts.len().saturating_sub(MAX_SHOWN);
                toasts.drain(..excess);
            }
            Action::Dismiss(id) => toasts.retain(|t| t.id != id),
        }
        Rc::new(Shown { next_id, toasts })
    }
}

/// Shows messages; from [`use_toasts`].
#[derive(Clone, PartialEq)]
pub struct Toasts(UseReducerHandle<Shown>);

impl Toasts {
    /// Something the user asked for worked.
    pub fn success(&self, text: impl Into<AttrValue>) {
        self.0.dispatch(Action::Show(Kind::Success, text.into()));
    }

    /// Something happened that the user did not ask for, such as a session ending.
    pub fn info(&self, text: impl Into<AttrValue>) {
        self.0.dispatch(Action::Show(Kind::Info, text.into()));
    }

    /// Something failed.
    pub fn error(&self, text: impl Into<AttrValue>) {
        self.0.dispatch(Action::Show(Kind::Error, text.into()));
    }
}

/// The message handle; needs a [`ToastProvider`] above.
#[hook]
pub fn use_toasts() -> Toasts {
    use_context::<Toasts>().expect("use_toasts needs a ToastProvider above")
}

#[derive(Properties, PartialEq)]
pub struct ProviderProps {
    pub children: Html,
}

/// Makes [`Toasts`] available below it and shows the messages.
#[component]
pub fn ToastProvider(props: &ProviderProps) -> Html {
    let shown = use_reducer(Shown::default);
    let dismiss = {
        let shown = shown.dispatcher();
        Callback::from(move |id| shown.dispatch(Action::Dismiss(id)))
    };
    html! {
        <ContextProvider<Toasts> context={Toasts(shown.clone())}>
            { props.children.clone() }
            <div class="toasts" aria-live="polite">
                { for shown.toasts.iter().map(|toast| html! {
                    <ToastItem key={toast.id} toast={toast.clone()} dismiss={dismiss.clone()} />
                }) }
            </div>
        </ContextProvider<Toasts>>
    }
}

#[derive(Properties, PartialEq)]
struct ItemProps {
    toast: Toast,
    dismiss: Callback<u32>,
}

#[component]
fn ToastItem(props: &ItemProps) -> Html {
    let id = props.toast.id;
    {
        let dismiss = props.dismiss.clone();
        use_effect_with(id, move |&id| {
            let timer = Timeout::new(SHOWN_FOR_MS, move || dismiss.emit(id));
            // Dropping the timer cancels it when the message is closed by hand.
            move || drop(timer)
        });
    }
    let (class, role) = match props.toast.kind {
        Kind::Success => ("toast toast-success", "status"),
        Kind::Info => ("toast toast-info", "status"),
        Kind::Error => ("toast toast-error", "alert"),
    };
    let close = {
        let dismiss = props.dismiss.clone();
        Callback::from(move |_| dismiss.emit(id))
    };
    html! {
        <div {class} {role}>
            <span class="toast-text">{ props.toast.text.clone() }</span>
            <button type="button" class="toast-close" aria-label="Dismiss" onclick={close}>
                { "×" }
            </button>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(shown: Rc<Shown>, text: &'static str) -> Rc<Shown> {
        shown.reduce(Action::Show(Kind::Info, text.into()))
    }

    #[test]
    fn keeps_only_the_newest_few() {
        let mut shown = Rc::new(Shown::default());
        for text in ["a", "b", "c", "d"] {
            shown = show(shown, text);
        }
        let texts: Vec<_> = shown.toasts.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts, ["b", "c", "d"]);
    }

    #[test]
    fn dismiss_removes_exactly_that_message() {
        let shown = show(show(Rc::new(Shown::default()), "a"), "b");
        let first = shown.toasts[0].id;
        let shown = shown.reduce(Action::Dismiss(first));
        assert_eq!(shown.toasts.len(), 1);
        assert_eq!(shown.toasts[0].text, "b");
        let unchanged = shown.clone().reduce(Action::Dismiss(999));
        assert_eq!(unchanged, shown);
    }
}
