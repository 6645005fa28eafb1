//! One action at a time per button: pressing it again while the first press is still
//! being answered does nothing, and the button says it is busy meanwhile.

use std::future::Future;

use yew::platform::spawn_local;
use yew::prelude::*;

/// Whether an action the user started is still under way; from [`use_busy`].
#[derive(Clone, PartialEq)]
pub struct Busy(UseStateHandle<bool>);

/// A fresh, idle [`Busy`].
#[hook]
pub fn use_busy() -> Busy {
    Busy(use_state(|| false))
}

impl Busy {
    /// Whether an action is under way (as of this render).
    pub fn is_busy(&self) -> bool {
        *self.0
    }

    /// Marks an action started.
    pub fn start(&self) {
        self.0.set(true);
    }

    /// Marks the action over: the button may be pressed again.
    pub fn done(&self) {
        self.0.set(false);
    }

    /// A click handler that starts `action` unless the one it started last is still under
    /// way. `action` gets this handle, to call [`Busy::done`] when the button may be
    /// pressed again (not at all when the page is going away).
    pub fn on_click<Fut>(&self, action: impl Fn(Busy) -> Fut + 'static) -> Callback<MouseEvent>
    where
        Fut: Future<Output = ()> + 'static,
    {
        let busy = self.clone();
        Callback::from(move |_: MouseEvent| {
            if !busy.is_busy() {
                busy.start();
                spawn_local(action(busy.clone()));
            }
        })
    }
}
