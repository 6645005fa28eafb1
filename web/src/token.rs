//! What the app reads from an access token: when it was issued, when it expires, and whose
//! it is.
//!
//! The app never verifies a token (it has no key and does not need one): the server does
//! that on every request. It reads `exp` and `iat` so it can renew or end the session on
//! time by itself, instead of waiting for a request to fail, and `sub` to tell a renewed
//! token of the same user from another user's.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

/// The claims the app uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// Issue time, Unix seconds, when the token says.
    pub iat: Option<i64>,
    /// The user, when the token says.
    pub sub: Option<String>,
}

#[derive(Deserialize)]
struct Raw {
    // NumericDate may carry a fraction (RFC 7519 section 2).
    exp: f64,
    #[serde(default)]
    iat: Option<f64>,
    #[serde(default)]
    sub: Option<serde_json::Value>,
}

/// The claims of `token`, a compact JWT, or `None` if it has no readable `exp` (such a
/// token cannot be scheduled, so it is not kept).
pub fn claims(token: &str) -> Option<Claims> {
    let mut parts = token.split('.');
    let (Some(_header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let json = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let raw: Raw = serde_json::from_slice(&json).ok()?;
    // Truncating rounds down, so a fractional expiry is never taken as later than it is.
    let exp = raw.exp.is_finite().then_some(raw.exp as i64)?;
    let iat = raw.iat.filter(|iat| iat.is_finite()).map(|iat| iat as i64);
    let sub = raw.sub.map(|sub| match sub {
        serde_json::Value::String(text) => text,
        other => other.to_string(),
    });
    Some(Claims { exp, iat, sub })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expires_at(token: &str) -> Option<i64> {
        claims(token).map(|claims| claims.exp)
    }

    fn jwt(payload: &str) -> String {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
        format!("{header}.{}.c2lnbmF0dXJl", URL_SAFE_NO_PAD.encode(payload))
    }

    #[test]
    fn reads_the_claims_of_a_server_token() {
        let token = jwt(r#"{"sub":"1","iat":1795751326,"exp":1795751926,"jti":"x"}"#);
        assert_eq!(
            claims(&token),
            Some(Claims {
                exp: 1_795_751_926,
                iat: Some(1_795_751_326),
                sub: Some("1".into()),
            })
        );
        assert_eq!(expires_at(&token), Some(1_795_751_926));
    }

    #[test]
    fn only_exp_is_required() {
        let token = jwt(r#"{"exp":100,"sub":7}"#);
        assert_eq!(
            claims(&token),
            Some(Claims {
                exp: 100,
                iat: None,
                sub: Some("7".into()),
            })
        );
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
            jwt(r#"{"exp":10,"iat":"yesterday"}"#),
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
