//! One holder at a time across all of this origin's tabs, for work that must not run twice
//! at once: using a refresh token, which the server accepts once and whose second use ends
//! the session.
//!
//! The browser's Web Locks API (`navigator.locks`) does exactly this, and frees a lock
//! whose tab closes or crashes. Where it is missing (an old browser, or a page served over
//! plain HTTP from another host than localhost: Web Locks need a secure context), a claim
//! in localStorage stands in: written, then read back after a pause in which a rival claim
//! from another tab would have arrived, and expiring by itself if its tab goes away.
//! localStorage offers no atomic compare-and-set across tabs, so this is a good
//! approximation rather than a guarantee.

use std::future::Future;

use gloo_storage::{LocalStorage, Storage};
use gloo_timers::future::TimeoutFuture;
use js_sys::{Function, Promise, Reflect};
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, spawn_local};

use crate::time;

/// How long a localStorage claim stands: longer than the longest call made under it
/// ([`crate::api::SESSION_CALL_TIMEOUT_MS`]), so a live holder never loses it.
const CLAIM_MS: i64 = 15_000;
/// How long a claim must stay ours before it counts: time for a rival write to arrive.
const SETTLE_MS: u32 = 150;
/// How often a waiting tab looks whether the claim is free.
const POLL_MS: u32 = 100;

/// Runs `work` while holding the lock `name`, waiting for it first if another task or tab
/// holds it.
pub async fn exclusive<T>(name: &str, work: impl Future<Output = T>) -> T {
    if let Some(granted) = web_lock(name, false) {
        if let Ok(Some(release)) = granted.await {
            let result = work.await;
            let _ = release.call0(&JsValue::UNDEFINED);
            return result;
        }
    }
    let claim = claim(name).await;
    let result = work.await;
    claim.release();
    result
}

/// A mark that this tab holds across all tabs, taken with [`mark`]: a signal that comes
/// with the lock order itself. (localStorage does not: a value one tab writes reaches the
/// other tabs' processes a moment later, so a tab granted a lock right after another
/// released it can still read what was there before.)
pub struct Mark {
    /// Frees the Web Lock behind the mark; `None` without Web Locks.
    release: Option<Function>,
}

impl Mark {
    /// Gives the mark up now.
    pub fn release(self) {
        if let Some(release) = self.release {
            let _ = release.call0(&JsValue::UNDEFINED);
        }
    }

    /// Keeps the mark for `millis` more, then gives it up (or until this tab closes).
    pub fn keep_for(self, millis: u32) {
        let Some(release) = self.release else {
            return;
        };
        let pending = web_sys::window().map(|window| {
            let delay = i32::try_from(millis).unwrap_or(i32::MAX);
            window.set_timeout_with_callback_and_timeout_and_arguments_0(&release, delay)
        });
        if !matches!(pending, Some(Ok(_))) {
            let _ = release.call0(&JsValue::UNDEFINED);
        }
    }
}

/// Takes the mark `name` unless another task or tab holds it: `None` when it is taken.
/// Without Web Locks every call gets a mark that stands for nothing.
pub async fn mark(name: &str) -> Option<Mark> {
    let Some(granted) = web_lock(name, true) else {
        return Some(Mark { release: None });
    };
    match granted.await {
        Ok(Some(release)) => Some(Mark {
            release: Some(release),
        }),
        Ok(None) => None,
        // The browser refused the lock: as without Web Locks.
        Err(_) => Some(Mark { release: None }),
    }
}

/// Asks the Web Locks API for `name`: waiting until it is granted, or, `if_available`,
/// only if it is free right now. The answer resolves to the function that releases it,
/// to `None` if it is held elsewhere (only `if_available`), or fails if the browser
/// refuses. `None` without the API.
fn web_lock(
    name: &str,
    if_available: bool,
) -> Option<impl Future<Output = Result<Option<Function>, JsValue>> + use<>> {
    let locks = web_locks()?;
    let request: Function = Reflect::get(&locks, &"request".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let options = js_sys::Object::new();
    Reflect::set(
        &options,
        &"ifAvailable".into(),
        &JsValue::from_bool(if_available),
    )
    .ok()?;
    let (mut answer, mut refuse) = (None, None);
    let answered = Promise::new(&mut |resolve, reject| {
        answer = Some(resolve);
        refuse = Some(reject);
    });
    let (answer, refuse) = (answer?, refuse?);
    // Called with the lock, or with `null` when it is held elsewhere; a lock is held until
    // the promise returned settles.
    let on_answer = Closure::once_into_js(move |lock: JsValue| -> JsValue {
        if lock.is_null() {
            let _ = answer.call1(&JsValue::UNDEFINED, &JsValue::NULL);
            return JsValue::UNDEFINED;
        }
        let mut release = None;
        let held = Promise::new(&mut |resolve, _reject| release = Some(resolve));
        if let Some(release) = release {
            let _ = answer.call1(&JsValue::UNDEFINED, &release);
        }
        held.into()
    });
    let requested: Promise = request
        .call3(&locks, &JsValue::from_str(name), &options, &on_answer)
        .ok()?
        .dyn_into()
        .ok()?;
    // A refusal (such as a SecurityError) arrives as the rejection of the request itself.
    spawn_local(async move {
        if let Err(error) = JsFuture::from(requested).await {
            let _ = refuse.call1(&JsValue::UNDEFINED, &error);
        }
    });
    Some(async move {
        let release = JsFuture::from(answered).await?;
        if release.is_null() {
            return Ok(None);
        }
        release.dyn_into::<Function>().map(Some)
    })
}

/// `navigator.locks`, where the browser has it.
fn web_locks() -> Option<JsValue> {
    let navigator = web_sys::window()?.navigator();
    Reflect::get(&navigator, &"locks".into())
        .ok()
        .filter(JsValue::is_object)
}

/// A claim on a lock, as kept in localStorage under the lock's name.
#[derive(Serialize, Deserialize)]
struct Claim {
    by: String,
    /// Unix milliseconds. Whole numbers keep float formatting out of the bundle.
    until: i64,
}

/// A claim this task holds.
struct Held {
    key: String,
    by: String,
}

impl Held {
    fn release(self) {
        if holder(&self.key).is_some_and(|claim| claim.by == self.by) {
            LocalStorage::delete(&self.key);
        }
    }
}

fn holder(key: &str) -> Option<Claim> {
    LocalStorage::get::<Claim>(key).ok()
}

/// Waits until `key` is unclaimed (or its claim has run out), claims it, and keeps it if no
/// other claim replaced ours meanwhile.
async fn claim(key: &str) -> Held {
    // Per claim, not per tab: two tasks of one tab must exclude each other too.
    let by = ((js_sys::Math::random() * f64::from(u32::MAX)) as u32).to_string();
    loop {
        let now = time::now_ms() as i64;
        if holder(key).is_none_or(|claim| claim.until <= now) {
            let mine = Claim {
                by: by.clone(),
                until: now + CLAIM_MS,
            };
            // Without storage there is nothing to coordinate through, and no other tab
            // can have read this session either.
            if LocalStorage::set(key, mine).is_err() {
                break;
            }
            TimeoutFuture::new(SETTLE_MS).await;
            if holder(key).is_some_and(|claim| claim.by == by) {
                break;
            }
        }
        TimeoutFuture::new(POLL_MS).await;
    }
    Held {
        key: key.to_owned(),
        by,
    }
}
