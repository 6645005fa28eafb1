//! The browser's clock and its way of writing dates, for the user's own locale.

use js_sys::{Date, Object, Reflect};
use wasm_bindgen::JsValue;

/// Now, in Unix milliseconds.
pub fn now_ms() -> f64 {
    Date::now()
}

fn options(pairs: &[(&str, &str)]) -> Object {
    let options = Object::new();
    for (key, value) in pairs {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&options, &(*key).into(), &(*value).into());
    }
    options
}

/// The day of an RFC 3339 timestamp, such as "27 November 2026"; the input itself if the
/// browser cannot read it.
pub fn day(rfc3339: &str) -> String {
    let date = Date::new(&JsValue::from_str(rfc3339));
    if date.get_time().is_nan() {
        return rfc3339.to_owned();
    }
    let options = options(&[("year", "numeric"), ("month", "long"), ("day", "numeric")]);
    date.to_locale_date_string("default", &options).into()
}

/// The day and time of an RFC 3339 timestamp, such as "27 November 2026, 14:05"; the
/// input itself if the browser cannot read it.
pub fn moment(rfc3339: &str) -> String {
    let date = Date::new(&JsValue::from_str(rfc3339));
    if date.get_time().is_nan() {
        return rfc3339.to_owned();
    }
    let options = options(&[
        ("year", "numeric"),
        ("month", "long"),
        ("day", "numeric"),
        ("hour", "2-digit"),
        ("minute", "2-digit"),
    ]);
    date.to_locale_string("default", &options).into()
}
