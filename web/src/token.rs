//! What the app reads from an access token: only its expiry.
//!
//! The app never verifies a token (it has no key and does not need one): the server does
//! that on every request. It reads `exp` so it can end the session on time by itself,
//! instead of waiting for the first request to fail.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

#[derive(Deserialize)]
struct Claims {
    // NumericDate may carry a fraction (RFC 7519 section 2).
    exp: f64,
}

/// When `token`, a compact JWT, expires: its `exp` claim in Unix seconds, or `None` if the
/// token has no readable `exp` (such a token cannot be scheduled, so it is not kept).
pub fn expires_at(token: &str) -> Option<i64> {
    let mut parts = token.split('.');
    let (Some(_header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let json = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claims: Claims = serde_json::from_slice(&json).ok()?;
    // Truncating rounds down, so a fractional expiry is never taken as later than it is.
    claims.exp.is_finite().then_some(claims.exp as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
        format!("{header}.{}.c2lnbmF0dXJl", URL_SAFE_NO_PAD.encode(payload))
    }

    #[test]
    fn reads_exp_of_a_server_token() {
        let token = jwt(r#"{"sub":"1","iat":1795751326,"exp":1795751926,"jti":"x"}"#);
        assert_eq!(expires_at(&token), Some(1_795_751_926));
    }

    #[test]
    fn fractional_exp_rounds_down() {
        assert_eq!(expires_at(&jwt(r#"{"exp":100.9}"#)), Some(100));
    }

    #[test]
    fn refuses_tokens_without_a_readable_exp() {
        let cases = [
            String::new(),
            "abc".into(),
            "a.b".into(),
            "a.b.c.d".into(),
            jwt(r#"{"sub":"1"}"#),
            jwt(r#"{"exp":"tomorrow"}"#),
            jwt("not json"),
            // Padded base64 is not what a JWT carries.
            format!(
                "h.{}.s",
                base64::engine::general_purpose::STANDARD.encode(r#"{"exp":10}"#)
            ),
            "h.%%%%.s".into(),
        ];
        for token in cases {
            assert_eq!(expires_at(&token), None, "{token:?}");
        }
    }
}
