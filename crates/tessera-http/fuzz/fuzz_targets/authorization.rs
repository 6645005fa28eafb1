//! Any bytes as an `Authorization` header value: parsing never panics, and what it
//! accepts is consistent with the header (RFC 7617 Basic splits at the first colon).
//! The parser's file is compiled in directly, so fuzzing builds no web framework.
#![no_main]

#[allow(dead_code, unreachable_pub)]
#[path = "../../src/authorization.rs"]
mod authorization;

use authorization::{Credentials, parse_authorization};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|value: &[u8]| {
    match parse_authorization(value) {
        Ok(Credentials::Basic { user_id, .. }) => assert!(!user_id.contains(':')),
        Ok(Credentials::Bearer(token)) => assert!(!token.is_empty() && !token.contains(' ')),
        Err(_) => {}
    }
});
