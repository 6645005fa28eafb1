//! Parsing the `Authorization` header (RFC 6750 Bearer, RFC 7617 Basic).
//!
//! Pure and dependency-light on purpose (std and base64 only): the fuzz target in
//! `fuzz/` compiles this file on its own, without the rest of the HTTP layer.

use base64::Engine;

/// What an `Authorization` header carried.
#[derive(PartialEq, Eq)]
pub enum Credentials {
    /// `Bearer <token>` (RFC 6750).
    Bearer(String),
    /// `Basic base64(user-id ":" password)` (RFC 7617).
    Basic {
        /// Before the first colon: a username, or on the tutorial's routes a token.
        user_id: String,
        /// After the first colon.
        password: String,
    },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            Credentials::Basic { user_id, .. } => {
                // A token may sit in the user-id on the tutorial's routes: show its length only.
                write!(f, "Basic({} bytes, <redacted>)", user_id.len())
            }
        }
    }
}

/// Why an `Authorization` header could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// The header is not visible ASCII.
    #[error("the Authorization header is not valid ASCII")]
    NotAscii,
    /// Neither `Basic` nor `Bearer`.
    #[error("unsupported authorization scheme; use Bearer")]
    UnknownScheme,
    /// `Basic` with something that is not base64 of UTF-8 `user:password`.
    #[error("malformed Basic credentials: expected base64 of user:password")]
    MalformedBasic,
    /// `Bearer` with an empty or ill-formed token.
    #[error("malformed Bearer token")]
    MalformedBearer,
}

/// Parses an `Authorization` header value. Scheme names are case-insensitive; Basic
/// credentials are UTF-8 split at the first colon (RFC 7617).
pub fn parse_authorization(value: &[u8]) -> Result<Credentials, HeaderError> {
    let value = std::str::from_utf8(value).map_err(|_| HeaderError::NotAscii)?;
    if !value.is_ascii() {
        return Err(HeaderError::NotAscii);
    }
    let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    let rest = rest.trim_start();
    if scheme.eq_ignore_ascii_case("bearer") {
        // RFC 6750 b64token: token68 characters only.
        let token68 = |b: u8| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
        };
        if rest.is_empty() || !rest.bytes().all(token68) {
            return Err(HeaderError::MalformedBearer);
        }
        Ok(Credentials::Bearer(rest.to_owned()))
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .map_err(|_| HeaderError::MalformedBasic)?;
        let decoded = String::from_utf8(decoded).map_err(|_| HeaderError::MalformedBasic)?;
        let (user_id, password) = decoded.split_once(':').ok_or(HeaderError::MalformedBasic)?;
        Ok(Credentials::Basic {
            user_id: user_id.to_owned(),
            password: password.to_owned(),
        })
    } else {
        Err(HeaderError::UnknownScheme)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(raw: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }

    #[test]
    fn basic_splits_at_the_first_colon() {
        let parsed = parse_authorization(basic("ann:pa:ss").as_bytes()).unwrap();
        assert_eq!(
            parsed,
            Credentials::Basic {
                user_id: "ann".into(),
                password: "pa:ss".into()
            }
        );
    }

    #[test]
    fn basic_is_utf8() {
        let parsed = parse_authorization(basic("zoë:пароль").as_bytes()).unwrap();
        assert_eq!(
            parsed,
            Credentials::Basic {
                user_id: "zoë".into(),
                password: "пароль".into()
            }
        );
    }

    #[test]
    fn scheme_is_case_insensitive() {
        assert_eq!(
            parse_authorization(b"bEaReR abc.def.ghi").unwrap(),
            Credentials::Bearer("abc.def.ghi".into())
        );
        assert!(matches!(
            parse_authorization(
                basic("a:b")
                    .to_lowercase()
                    .replace("basic", "BASIC")
                    .as_bytes()
            ),
            Ok(Credentials::Basic { .. }) | Err(HeaderError::MalformedBasic)
        ));
    }

    #[test]
    fn hostile_headers_are_errors_not_panics() {
        let cases: [(&[u8], HeaderError); 9] = [
            (b"", HeaderError::UnknownScheme),
            (b"Bearer", HeaderError::MalformedBearer),
            (b"Bearer ", HeaderError::MalformedBearer),
            (b"Bearer a b", HeaderError::MalformedBearer),
            (b"Basic !!!", HeaderError::MalformedBasic),
            (b"Basic bm9jb2xvbg==", HeaderError::MalformedBasic), // "nocolon"
            (b"Basic //79", HeaderError::MalformedBasic),         // invalid UTF-8
            (b"Digest x", HeaderError::UnknownScheme),
            (b"Bearer \xff\xfe", HeaderError::NotAscii),
        ];
        for (input, expected) in cases {
            assert_eq!(
                parse_authorization(input).unwrap_err(),
                expected,
                "{input:?}"
            );
        }
    }

    #[test]
    fn debug_never_shows_secrets() {
        let basic = Credentials::Basic {
            user_id: "tok.en.x".into(),
            password: "hunter2".into(),
        };
        let bearer = Credentials::Bearer("tok.en.y".into());
        for shown in [format!("{basic:?}"), format!("{bearer:?}")] {
            assert!(
                !shown.contains("hunter2") && !shown.contains("tok.en"),
                "{shown}"
            );
        }
    }
}
