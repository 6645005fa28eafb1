//! The thin loading bar at the top of the page: it runs while any request is pending and
//! sweeps once on every navigation.

use std::rc::Rc;

use yew::prelude::*;
use yew_router::prelude::use_location;

#[derive(Debug, Default, PartialEq)]
struct Pending(u32);

enum Change {
    Started,
    Finished,
}

impl Reducible for Pending {
    type Action = Change;

    fn reduce(self: Rc<Self>, change: Change) -> Rc<Self> {
        Rc::new(match change {
            Change::Started => Pending(self.0 + 1),
            Change::Finished => Pending(self.0.saturating_sub(1)),
        })
    }
}

/// Handle to the loading bar, from [`use_progress`].
#[derive(Clone, PartialEq)]
pub struct Progress(UseReducerHandle<Pending>);

impl Progress {
    /// Shows the bar until the returned guard is dropped, however the work ends.
    pub fn start(&self) -> Busy {
        self.0.dispatch(Change::Started);
        Busy(self.0.dispatcher())
    }

    fn busy(&self) -> bool {
        self.0.0 > 0
    }
}

/// Keeps the loading bar running while it lives.
pub struct Busy(UseReducerDispatcher<Pending>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.dispatch(Change::Finished);
    }
}

/// The loading bar's handle; needs a [`ProgressProvider`] above.
#[hook]
pub fn use_progress() -> Progress {
    use_context::<Progress>().expect("use_progress needs a ProgressProvider above")
}

#[derive(Properties, PartialEq)]
pub struct ProviderProps {
    pub children: Html,
}

/// Makes the loading bar's handle available below it.
#[component]
pub fn ProgressProvider(props: &ProviderProps) -> Html {
    let pending = use_reducer(Pending::default);
    html! {
        <ContextProvider<Progress> context={Progress(pending)}>
            { props.children.clone() }
        </ContextProvider<Progress>>
    }
}

/// The bar itself; must be inside the router and a [`ProgressProvider`].
#[component]
pub fn ProgressBar() -> Html {
    let progress = use_progress();
    let path = use_location()
        .map(|l| l.path().to_owned())
        .unwrap_or_default();
    let busy = progress.busy();
    html! {
        <div class="progress" aria-hidden={(!busy).to_string()} role="progressbar"
             aria-label="Loading">
            if busy {
                <div class="progress-busy"></div>
            }
            // A new key is a new element, which replays the sweep animation.
            <div key={path} class="progress-sweep"></div>
        </div>
    }
}
