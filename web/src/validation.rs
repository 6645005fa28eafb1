//! The checks the forms make before asking the server, mirroring its policy
//! (`tessera-domain`'s `Username` and `Password`, whose limits both read from
//! [`tessera_api::policy`]) and its messages, so the user learns about a mistake while
//! typing. The server stays the judge: it also refuses what only it can tell (common
//! passwords, invisible characters), and its own message is then shown next to the field
//! instead.

use tessera_api::policy::{PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS, USERNAME_MAX_CHARS};

/// Why a username cannot be registered, or `None` when the server may accept it.
///
/// Characters are counted as Unicode scalar values, as the server does after NFC
/// normalisation; text typed in decomposed form can count longer here than there, a
/// corner case in which the user sees our message before the server's.
pub fn new_username(raw: &str) -> Option<String> {
    if raw.is_empty() {
        return Some("username must not be empty".into());
    }
    if raw.chars().count() > USERNAME_MAX_CHARS {
        return Some(at_most("username", USERNAME_MAX_CHARS));
    }
    if raw.starts_with(char::is_whitespace) || raw.ends_with(char::is_whitespace) {
        return Some("username must not start or end with a space".into());
    }
    if raw.contains(':') {
        return Some("username must not contain a colon (:)".into());
    }
    control_characters("username", raw)
}

/// What Create account says under the username before anything is typed.
pub fn new_username_hint() -> String {
    format!("Up to {USERNAME_MAX_CHARS} characters; no colon, no spaces at either end.")
}

/// Why a password cannot be chosen for a new account, or `None` when the server may
/// accept it.
pub fn new_password(raw: &str) -> Option<String> {
    let chars = raw.chars().take(PASSWORD_MAX_CHARS + 1).count();
    if chars < PASSWORD_MIN_CHARS {
        return Some(format!(
            "password must be at least {PASSWORD_MIN_CHARS} characters"
        ));
    }
    if chars > PASSWORD_MAX_CHARS {
        return Some(at_most("password", PASSWORD_MAX_CHARS));
    }
    control_characters("password", raw)
}

/// What the forms that choose a password say under it before anything is typed.
pub fn new_password_hint() -> String {
    format!("At least {PASSWORD_MIN_CHARS} characters. Common passwords are refused.")
}

/// The server's message for a `field` longer than `max` characters.
fn at_most(field: &str, max: usize) -> String {
    format!("{field} must be at most {max} characters")
}

/// The server's message for a `field` holding a control character, if `raw` does.
fn control_characters(field: &str, raw: &str) -> Option<String> {
    raw.chars()
        .any(char::is_control)
        .then(|| format!("{field} must not contain control characters such as tabs or line breaks"))
}

/// Signing in checks only that something was typed: accounts made under an older policy
/// (or imported) must still be able to sign in.
pub fn sign_in_username(raw: &str) -> Option<String> {
    raw.is_empty().then(|| "enter your username".into())
}

/// See [`sign_in_username`].
pub fn sign_in_password(raw: &str) -> Option<String> {
    raw.is_empty().then(|| "enter your password".into())
}

/// `message` as a sentence: the server's messages start in lower case so they can be
/// embedded in other text; on their own they read better capitalised.
pub fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_name_the_limits() {
        assert_eq!(
            new_username_hint(),
            "Up to 32 characters; no colon, no spaces at either end."
        );
        assert_eq!(
            new_password_hint(),
            "At least 8 characters. Common passwords are refused."
        );
    }

    #[test]
    fn username_length_is_counted_in_characters() {
        assert!(new_username("a").is_none());
        assert!(
            new_username(&"é".repeat(USERNAME_MAX_CHARS)).is_none(),
            "twice as many bytes as characters"
        );
        assert_eq!(
            new_username(&"a".repeat(USERNAME_MAX_CHARS + 1)).as_deref(),
            Some("username must be at most 32 characters")
        );
        assert_eq!(
            new_username("").as_deref(),
            Some("username must not be empty")
        );
    }

    #[test]
    fn username_refuses_what_the_server_refuses() {
        for (raw, message) in [
            (" ann", "username must not start or end with a space"),
            ("ann\u{a0}", "username must not start or end with a space"),
            ("ann:smith", "username must not contain a colon (:)"),
            (
                "ann\tsmith",
                "username must not contain control characters such as tabs or line breaks",
            ),
            (
                "ann\0",
                "username must not contain control characters such as tabs or line breaks",
            ),
        ] {
            assert_eq!(new_username(raw).as_deref(), Some(message), "{raw:?}");
        }
        assert!(new_username("Ann Smith").is_none(), "inner spaces are fine");
        assert!(new_username("Zoë 🦀").is_none());
    }

    #[test]
    fn password_length_bounds_match_the_server() {
        let too_short = Some("password must be at least 8 characters");
        assert_eq!(
            new_password(&"x".repeat(PASSWORD_MIN_CHARS - 1)).as_deref(),
            too_short
        );
        assert_eq!(
            new_password(&"ä".repeat(PASSWORD_MIN_CHARS - 1)).as_deref(),
            too_short,
            "twice as many bytes are still too few characters"
        );
        assert!(new_password(&"x".repeat(PASSWORD_MIN_CHARS)).is_none());
        assert!(new_password("correct horse").is_none());
        assert!(new_password(&"x".repeat(PASSWORD_MAX_CHARS)).is_none());
        assert_eq!(
            new_password(&"x".repeat(PASSWORD_MAX_CHARS + 1)).as_deref(),
            Some("password must be at most 1024 characters")
        );
        assert_eq!(
            new_password("correct\nhorse").as_deref(),
            Some("password must not contain control characters such as tabs or line breaks")
        );
        assert!(new_password("  spaces count  ").is_none());
    }

    #[test]
    fn sign_in_only_needs_something_typed() {
        assert!(
            sign_in_username("a:b").is_none(),
            "no new-account policy at sign-in"
        );
        assert!(sign_in_password("short").is_none());
        assert_eq!(sign_in_username("").as_deref(), Some("enter your username"));
        assert_eq!(sign_in_password("").as_deref(), Some("enter your password"));
    }

    #[test]
    fn sentence_capitalises_the_first_letter_only() {
        assert_eq!(
            sentence("invalid username or password"),
            "Invalid username or password"
        );
        assert_eq!(sentence("élan (x)"), "Élan (x)");
        assert_eq!(sentence(""), "");
    }
}
