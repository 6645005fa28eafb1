//! The checks the forms make before asking the server, mirroring its policy
//! (`tessera-domain`'s `Username` and `Password`) and its messages, so the user learns
//! about a mistake while typing. The server stays the judge: it also refuses what only it
//! can tell (common passwords, invisible characters), and its own message is then shown
//! next to the field instead.

/// Longest username the server accepts, in characters.
pub const USERNAME_MAX_CHARS: usize = 32;
/// Shortest password the server accepts for a new account, in characters.
pub const PASSWORD_MIN_CHARS: usize = 8;
/// Longest password the server accepts, in characters.
pub const PASSWORD_MAX_CHARS: usize = 1024;

/// Why a username cannot be registered, or `None` when the server may accept it.
///
/// Characters are counted as Unicode scalar values, as the server does after NFC
/// normalisation; text typed in decomposed form can count longer here than there, a
/// corner case in which the user sees our message before the server's.
pub fn new_username(raw: &str) -> Option<&'static str> {
    if raw.is_empty() {
        return Some("username must not be empty");
    }
    if raw.chars().count() > USERNAME_MAX_CHARS {
        return Some("username must be at most 32 characters");
    }
    if raw.starts_with(char::is_whitespace) || raw.ends_with(char::is_whitespace) {
        return Some("username must not start or end with a space");
    }
    if raw.contains(':') {
        return Some("username must not contain a colon (:)");
    }
    if raw.chars().any(char::is_control) {
        return Some("username must not contain control characters such as tabs or line breaks");
    }
    None
}

/// Why a password cannot be chosen for a new account, or `None` when the server may
/// accept it.
pub fn new_password(raw: &str) -> Option<&'static str> {
    let chars = raw.chars().take(PASSWORD_MAX_CHARS + 1).count();
    if chars < PASSWORD_MIN_CHARS {
        return Some("password must be at least 8 characters");
    }
    if chars > PASSWORD_MAX_CHARS {
        return Some("password must be at most 1024 characters");
    }
    if raw.chars().any(char::is_control) {
        return Some("password must not contain control characters such as tabs or line breaks");
    }
    None
}

/// Signing in checks only that something was typed: accounts made under an older policy
/// (or imported) must still be able to sign in.
pub fn sign_in_username(raw: &str) -> Option<&'static str> {
    raw.is_empty().then_some("enter your username")
}

/// See [`sign_in_username`].
pub fn sign_in_password(raw: &str) -> Option<&'static str> {
    raw.is_empty().then_some("enter your password")
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
    fn username_length_is_counted_in_characters() {
        assert!(new_username("a").is_none());
        assert!(
            new_username(&"é".repeat(32)).is_none(),
            "64 bytes, 32 characters"
        );
        assert_eq!(
            new_username(&"a".repeat(33)),
            Some("username must be at most 32 characters")
        );
        assert_eq!(new_username(""), Some("username must not be empty"));
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
            assert_eq!(new_username(raw), Some(message), "{raw:?}");
        }
        assert!(new_username("Ann Smith").is_none(), "inner spaces are fine");
        assert!(new_username("Zoë 🦀").is_none());
    }

    #[test]
    fn password_length_bounds_match_the_server() {
        assert_eq!(
            new_password("1234567"),
            Some("password must be at least 8 characters")
        );
        assert_eq!(
            new_password("äöüäöüä"),
            Some("password must be at least 8 characters"),
            "14 bytes are still 7 characters"
        );
        assert!(new_password("correct horse").is_none());
        assert!(new_password(&"x".repeat(1024)).is_none());
        assert_eq!(
            new_password(&"x".repeat(1025)),
            Some("password must be at most 1024 characters")
        );
        assert_eq!(
            new_password("correct\nhorse"),
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
        assert_eq!(sign_in_username(""), Some("enter your username"));
        assert_eq!(sign_in_password(""), Some("enter your password"));
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
