//! Short messages in a corner of the page. Errors stay until dismissed; the others go
//! away by themselves after long enough to read them, and not while the pointer or the
//! focus is on them.

use std::rc::Rc;

use gloo_timers::callback::Timeout;
use yew::prelude::*;

/// How long a success or a notice stays, in milliseconds, once neither the pointer nor
/// the focus is on it: two short sentences read slowly, twice.
const SHOWN_FOR_MS: u32 = 12_000;
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

impl Kind {
    /// Whether a message of this kind goes away by itself: an error stays until the user
    /// has seen it and dismissed it.
    fn fades(self) -> bool {
        self != Kind::Error
    }
}

#[component]
fn ToastItem(props: &ItemProps) -> Html {
    let id = props.toast.id;
    // Hovered or focused: the timer waits (WCAG 2.2.1), and starts afresh on leaving.
    let held = use_state(|| false);
    {
        let dismiss = props.dismiss.clone();
        let fades = props.toast.kind.fades();
        use_effect_with((id, *held), move |&(id, held)| {
            let timer =
                (fades && !held).then(|| Timeout::new(SHOWN_FOR_MS, move || dismiss.emit(id)));
            // Dropping the timer cancels it when the message is held or closed by hand.
            move || drop(timer)
        });
    }
    let hold = |value: bool| {
        let held = held.clone();
        move || held.set(value)
    };
    let (enter, leave) = (hold(true), hold(false));
    let (focus_in, focus_out) = (hold(true), hold(false));
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
        <div {class} {role}
            onmouseenter={Callback::from(move |_: MouseEvent| enter())}
            onmouseleave={Callback::from(move |_: MouseEvent| leave())}
            onfocusin={Callback::from(move |_: FocusEvent| focus_in())}
            onfocusout={Callback::from(move |_: FocusEvent| focus_out())}>
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
    fn errors_stay_until_dismissed() {
        assert!(!Kind::Error.fades());
        assert!(Kind::Success.fades());
        assert!(Kind::Info.fades());
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
