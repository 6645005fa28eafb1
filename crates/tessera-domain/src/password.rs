//! The password newtype: the policy a *new* password must meet.
//!
//! Policy:
//! - [`Password::MIN_CHARS`] to [`Password::MAX_CHARS`] characters (Unicode scalar values),
//!   so 64 characters of any script fit easily, while megabyte "passwords" are refused;
//! - taken exactly as given: never trimmed, truncated or normalised, so leading and trailing
//!   spaces count, and the hash is of the bytes typed (which keeps hashes imported from
//!   passlib verifiable);
//! - no control characters (NUL, tab, line breaks, …) and no U+FFFD, which only appear when
//!   input was pasted badly or decoded with the wrong encoding;
//! - not predictable: not only whitespace, not one character repeated, and not a run of
//!   consecutive characters such as `12345678` or `hgfedcba`;
//! - not one of the 10,000 most common passwords (`data/common-passwords.txt`), compared
//!   after NFKC normalisation and lowercasing, so `PassWord` and fullwidth `ｐａｓｓｗｏｒｄ`
//!   count as `password`;
//! - with [`Password::parse_for`], not the username itself (compared the same way).
//!
//! Verifying an existing password applies none of this: see
//! [`crate::PasswordHasher::verify`].

use std::collections::HashSet;
use std::sync::LazyLock;

use icu_normalizer::ComposingNormalizerBorrowed;

use crate::Username;

/// Why a string is not an acceptable new password. The messages are shown to end users.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Fewer than [`Password::MIN_CHARS`] characters.
    #[error("password must be at least {min} characters", min = Password::MIN_CHARS)]
    TooShort,
    /// More than [`Password::MAX_CHARS`] characters.
    #[error("password must be at most {max} characters", max = Password::MAX_CHARS)]
    TooLong,
    /// Contains a control character such as NUL, a tab or a line break.
    #[error("password must not contain control characters such as tabs or line breaks")]
    ControlCharacter,
    /// Contains U+FFFD, the mark of text decoded with the wrong encoding.
    #[error(
        "password must not contain the replacement character \u{FFFD} (U+FFFD); it was probably garbled in transit"
    )]
    ReplacementCharacter,
    /// Only whitespace, one character repeated, or consecutive characters.
    #[error(
        "password must not be only spaces, one repeated character or a simple sequence such as 12345678"
    )]
    Predictable,
    /// One of the most common passwords (compared regardless of case).
    #[error("this password is one of the most commonly used; choose a less common one")]
    Common,
    /// The same as the username (compared regardless of case).
    #[error("password must not be the same as the username")]
    SameAsUsername,
}

/// A new password that meets the policy. Its `Debug` never shows the secret.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Shortest accepted password, in characters.
    pub const MIN_CHARS: usize = tessera_api::policy::PASSWORD_MIN_CHARS;

    /// Longest accepted password, in characters (at most 4096 bytes of UTF-8). Far above
    /// any passphrase, and low enough that hashing and checking stay cheap.
    pub const MAX_CHARS: usize = tessera_api::policy::PASSWORD_MAX_CHARS;

    /// Longest password in bytes; see [`Password::check_candidate`].
    pub const MAX_BYTES: usize = tessera_api::policy::PASSWORD_MAX_BYTES;

    /// The bound on a candidate password, checked before any hashing on every path that
    /// verifies one (sign-in, password confirmation): at most [`Password::MAX_CHARS`]
    /// characters and [`Password::MAX_BYTES`] bytes. No password Tessera accepts is longer,
    /// and a longer one would only buy an attacker hashing time.
    pub fn check_candidate(raw: &str) -> Result<(), PasswordError> {
        if raw.len() > Self::MAX_BYTES || raw.chars().nth(Self::MAX_CHARS).is_some() {
            return Err(PasswordError::TooLong);
        }
        Ok(())
    }

    /// Checks a new password against the policy in the module docs.
    pub fn parse(raw: &str) -> Result<Password, PasswordError> {
        let chars = raw.chars().take(Self::MAX_CHARS + 1).count();
        if chars < Self::MIN_CHARS {
            return Err(PasswordError::TooShort);
        }
        if chars > Self::MAX_CHARS {
            return Err(PasswordError::TooLong);
        }
        if raw.chars().any(char::is_control) {
            return Err(PasswordError::ControlCharacter);
        }
        if raw.contains(char::REPLACEMENT_CHARACTER) {
            return Err(PasswordError::ReplacementCharacter);
        }
        let key = comparison_key(raw);
        if is_predictable(&key) {
            return Err(PasswordError::Predictable);
        }
        if COMMON_PASSWORDS.contains(key.as_str()) {
            return Err(PasswordError::Common);
        }
        Ok(Password(raw.to_owned()))
    }

    /// Like [`Password::parse`], and also refuses the username as password.
    pub fn parse_for(raw: &str, username: &Username) -> Result<Password, PasswordError> {
        let password = Self::parse(raw)?;
        if comparison_key(raw) == comparison_key(username.as_str()) {
            return Err(PasswordError::SameAsUsername);
        }
        Ok(password)
    }

    /// The secret itself, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Lowercase NFKC: compatibility variants (fullwidth, mathematical digits, ligatures) and
/// case do not make a common password uncommon.
fn comparison_key(raw: &str) -> String {
    ComposingNormalizerBorrowed::new_nfkc()
        .normalize(raw)
        .to_lowercase()
}

/// Only whitespace, or every character one step (-1, 0 or +1 code point) from the last.
fn is_predictable(key: &str) -> bool {
    if key.chars().all(char::is_whitespace) {
        return true;
    }
    let code_points: Vec<i64> = key.chars().map(|c| i64::from(u32::from(c))).collect();
    let mut steps = code_points.windows(2).map(|pair| pair[1] - pair[0]);
    match steps.next() {
        Some(first) if first.abs() <= 1 => steps.all(|step| step == first),
        _ => false,
    }
}

/// Source and licence: `data/README.md`. Lowercase ASCII, one per line.
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../data/common-passwords.txt")
        .lines()
        .collect()
});

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn parse_err(raw: &str) -> PasswordError {
        match Password::parse(raw) {
            Ok(_) => panic!("{raw:?} was accepted"),
            Err(error) => error,
        }
    }

    #[test]
    fn accepts_a_good_password_exactly_as_given() {
        for raw in [
            "correct horse battery staple",
            "  spaces  around  ",
            "Tr0ub4dor&3x",
        ] {
            assert_eq!(Password::parse(raw).unwrap().expose(), raw);
        }
    }

    #[test]
    fn refuses_empty_and_seven_characters_accepts_eight() {
        assert_eq!(parse_err(""), PasswordError::TooShort);
        assert_eq!(parse_err("kq7#vLz"), PasswordError::TooShort);
        assert!(Password::parse("kq7#vLzw").is_ok());
    }

    #[test]
    fn counts_characters_not_bytes() {
        // 7 two-byte characters (14 bytes) are too short; 8 of them are fine.
        assert_eq!(parse_err("žščřďťň"), PasswordError::TooShort);
        assert!(Password::parse("žščřďťňé").is_ok());
        assert_eq!(parse_err("🐈🐕🐎🐄🐖🐑🐓"), PasswordError::TooShort);
        assert!(Password::parse("🐈🐕🐎🐄🐖🐑🐓🦆").is_ok());
    }

    #[test]
    fn accepts_64_cjk_characters_and_other_scripts() {
        let cjk: String = ('\u{4E00}'..).step_by(7).take(64).collect();
        assert_eq!(cjk.len(), 192);
        assert_eq!(Password::parse(&cjk).unwrap().expose(), cjk);
        for raw in [
            "пароль-не-угадать",
            "كلمة سر طويلة",
            "パスワードです、ね",
            "Ωμέγα λάμδα",
        ] {
            assert!(Password::parse(raw).is_ok(), "{raw:?}");
        }
    }

    #[test]
    fn accepts_up_to_1024_characters_and_refuses_more() {
        let longest: String = ('\u{4E00}'..)
            .step_by(3)
            .take(Password::MAX_CHARS)
            .collect();
        assert!(Password::parse(&longest).is_ok());
        let too_long: String = ('\u{4E00}'..)
            .step_by(3)
            .take(Password::MAX_CHARS + 1)
            .collect();
        assert_eq!(parse_err(&too_long), PasswordError::TooLong);
    }

    #[test]
    fn refuses_a_megabyte() {
        let huge: String = ('!'..='~').cycle().take(1 << 20).collect();
        assert_eq!(parse_err(&huge), PasswordError::TooLong);
    }

    #[test]
    fn refuses_nul_and_other_control_characters() {
        for c in ['\0', '\t', '\n', '\r', '\u{1B}', '\u{7F}', '\u{85}'] {
            let raw = format!("kq7#v{c}Lzw");
            assert_eq!(parse_err(&raw), PasswordError::ControlCharacter, "{raw:?}");
        }
    }

    #[test]
    fn refuses_what_a_lossy_decoder_leaves_behind() {
        let lossy = String::from_utf8_lossy(b"kq7#v\xff\xfeLzw");
        assert_eq!(parse_err(&lossy), PasswordError::ReplacementCharacter);
    }

    #[test]
    fn accepts_invisible_and_combining_characters() {
        // Unlike usernames, nobody reads a password, so joiners and marks are fine.
        for raw in [
            "👨\u{200D}👩\u{200D}👧 family!",
            "e\u{301}e\u{301}e\u{301}e\u{301}x",
        ] {
            assert_eq!(Password::parse(raw).unwrap().expose(), raw);
        }
    }

    #[test]
    fn refuses_whitespace_repeats_and_sequences() {
        for raw in [
            "        ",
            " \u{3000} \u{3000} \u{3000} \u{3000}",
            "aaaaaaaaaa",
            "AAAAaaaa",
            "88888888",
            "abcdefghij",
            "ABCDEFGH",
            "87654321",
            "hgfedcba",
            "αβγδεζηθ",
            "１２３４５６７８",
        ] {
            assert_eq!(parse_err(raw), PasswordError::Predictable, "{raw:?}");
        }
        assert!(Password::parse("abcdefgi").is_ok());
        assert!(Password::parse("acegikmo").is_ok());
    }

    #[test]
    fn refuses_common_passwords_regardless_of_case_and_width() {
        for raw in [
            "password", "PASSWORD", "PassWord", "iloveyou", "trustno1", "1qaz2wsx",
        ] {
            assert_eq!(parse_err(raw), PasswordError::Common, "{raw:?}");
        }
        assert_eq!(parse_err("ｐａｓｓｗｏｒｄ"), PasswordError::Common);
        assert_eq!(parse_err("𝐩𝐚𝐬𝐬𝐰𝐨𝐫𝐝"), PasswordError::Common);
        // A space makes it a different password; it is not trimmed away.
        assert!(Password::parse(" password ").is_ok());
    }

    #[test]
    fn common_password_list_is_well_formed() {
        let list = include_str!("../data/common-passwords.txt");
        let entries: Vec<&str> = list.lines().collect();
        assert_eq!(entries.len(), 10_000);
        assert_eq!(COMMON_PASSWORDS.len(), 10_000, "duplicates in the list");
        for entry in entries {
            assert!(
                entry.chars().count() >= Password::MIN_CHARS,
                "{entry:?} is too short"
            );
            assert_eq!(entry, entry.to_lowercase());
            assert!(entry.chars().all(|c| c.is_ascii_graphic()), "{entry:?}");
        }
    }

    #[test]
    fn parse_for_refuses_the_username_regardless_of_case() {
        let username = Username::parse("Zoë Example").unwrap();
        assert_eq!(
            Password::parse_for("zoë example", &username).unwrap_err(),
            PasswordError::SameAsUsername
        );
        assert_eq!(
            Password::parse_for("ZOE\u{308} EXAMPLE", &username).unwrap_err(),
            PasswordError::SameAsUsername
        );
        assert!(Password::parse_for("zoë example!", &username).is_ok());
        // The ordinary policy still comes first.
        let short = Username::parse("bob").unwrap();
        assert_eq!(
            Password::parse_for("bob", &short).unwrap_err(),
            PasswordError::TooShort
        );
    }

    #[test]
    fn candidates_are_bounded_in_characters_and_bytes() {
        assert_eq!(Password::check_candidate(&"a".repeat(1024)), Ok(()));
        assert_eq!(
            Password::check_candidate(&"a".repeat(1025)),
            Err(PasswordError::TooLong)
        );
        // 1,024 four-byte characters: 4,096 bytes, the byte bound exactly.
        assert_eq!(Password::check_candidate(&"🐈".repeat(1024)), Ok(()));
        assert_eq!(
            Password::check_candidate(&"🐈".repeat(1025)),
            Err(PasswordError::TooLong)
        );
        assert_eq!(
            Password::check_candidate(&"x".repeat(16 * 1024)),
            Err(PasswordError::TooLong)
        );
        assert_eq!(Password::check_candidate(""), Ok(()), "empty is only wrong");
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let password = Password::parse("kq7#vLzw-secret").unwrap();
        let shown = format!("{password:?} {:#?}", password);
        assert!(!shown.contains("kq7"), "{shown}");
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn error_messages_name_the_limits() {
        assert_eq!(
            PasswordError::TooShort.to_string(),
            "password must be at least 8 characters"
        );
        assert_eq!(
            PasswordError::TooLong.to_string(),
            "password must be at most 1024 characters"
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics(raw in any::<String>()) {
            let _ = Password::parse(&raw);
        }

        #[test]
        fn accepted_passwords_are_kept_byte_for_byte(raw in "\\PC{8,80}") {
            if let Ok(password) = Password::parse(&raw) {
                prop_assert_eq!(password.expose(), raw.as_str());
            }
        }
    }
}
