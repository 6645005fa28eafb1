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

/// A session without a refresh token, expiring at `exp`.
pub fn session(exp: i64, jti: &str) -> Session {
    Session::new(&token(None, exp, jti), None, 0).expect("readable token")
}

/// A session with a refresh token, issued at `iat` and expiring at `exp`.
pub fn renewable(iat: i64, exp: i64) -> Session {
    Session::new(&token(Some(iat), exp, "r"), Some("sid.secret"), 0).expect("readable")
}

/// The server's answer to a sign-in or renewal.
pub fn response(iat: i64, exp: i64, refresh: Option<&str>) -> TokenResponse {
    TokenResponse {
        access_token: token(Some(iat), exp, "t"),
        token_type: "Bearer".into(),
        expires_in: exp - iat,
        refresh_token: refresh.map(str::to_owned),
        scope: None,
    }
}
