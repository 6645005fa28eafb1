//! Tokens and sessions for the unit tests.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tessera_api::TokenResponse;

use super::Session;

/// An unsigned JWT for user 7 with these claims.
pub fn token(iat: Option<i64>, exp: i64, jti: &str) -> String {
    let iat = iat
        .map(|iat| format!(r#""iat":{iat},"#))
        .unwrap_or_default();
    let payload =
        URL_SAFE_NO_PAD.encode(format!(r#"{{"sub":"7",{iat}"exp":{exp},"jti":"{jti}"}}"#));
    format!("eyJhbGciOiJIUzI1NiJ9.{payload}.c2ln")
}

/// A session whose access token was issued at `iat` (when given) and expires at `exp`.
pub fn session(iat: Option<i64>, exp: i64, jti: &str) -> Session {
    Session::new(&token(iat, exp, jti), 0).expect("readable token")
}

/// The server's answer to a cookie sign-in or renewal: no refresh token in the body.
pub fn response(iat: i64, exp: i64) -> TokenResponse {
    TokenResponse {
        access_token: token(Some(iat), exp, "t"),
        token_type: "Bearer".into(),
        expires_in: exp - iat,
        refresh_token: None,
        scope: None,
    }
}
