//! Any bytes as an `Authorization` header value: parsing never panics, and what it
//! accepts is consistent with the header (RFC 7617 Basic splits at the first colon).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_http::{Credentials, parse_authorization};

fuzz_target!(|value: &[u8]| {
    match parse_authorization(value) {
        Ok(Credentials::Basic { user_id, .. }) => assert!(!user_id.contains(':')),
        Ok(Credentials::Bearer(token)) => assert!(!token.is_empty() && !token.contains(' ')),
        Err(_) => {}
    }
});
