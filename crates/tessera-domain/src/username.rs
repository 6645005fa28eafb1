//! The username newtype: which names are accepted, how they are stored, and the key under
//! which they are unique.
//!
//! Policy, checked on the NFC-normalised name:
//! - 1 to [`Username::MAX_CHARS`] characters (Unicode scalar values), like the tutorial's
//!   `String(32)`;
//! - no leading or trailing whitespace: refused, never trimmed, so what the user typed is
//!   what is stored;
//! - no `:` anywhere, because HTTP Basic authentication (RFC 7617) cannot carry it in a
//!   user-id;
//! - no control characters (tab, line breaks, NUL, …);
//! - no invisible characters: format characters (general category Cf: zero-width joiners,
//!   bidi overrides, soft hyphens, …), default-ignorable code points (variation selectors,
//!   Hangul fillers, combining grapheme joiner, …) and whitespace other than U+0020, since
//!   they let two names look identical or reorder what is shown;
//! - no unassigned or private-use code points and no U+FFFD: their meaning is unknown or
//!   lost (U+FFFD is what a broken decoder leaves behind).
//!
//! - no name whose [comparison key](Username::canonical) is longer than
//!   [`Username::MAX_CANONICAL_CHARS`] characters: compatibility characters spell out to
//!   several (`ﷺ` to 18), and the key must fit the store's column.
//!
//! Letters of every script, combining marks, emoji and inner ASCII spaces are accepted.
//! Names are compared by a key in the spirit of RFC 8265's UsernameCaseMapped profile, so
//! width variants (`ａｄｍｉｎ`), compatibility forms (`Ⅸ`, `x¹`, `ﬁ`), letter case and runs
//! of inner spaces do not make a different user. Confusable look-alikes across scripts
//! (Latin "a" and Cyrillic "а") are not detected.

use std::fmt;

use icu_casemap::CaseMapperBorrowed;
use icu_normalizer::{ComposingNormalizerBorrowed, DecomposingNormalizerBorrowed};
use icu_properties::props::{DefaultIgnorableCodePoint, GeneralCategory, WhiteSpace};
use icu_properties::{CodePointMapData, CodePointSetData};

/// Why a string is not a valid username. The messages are shown to end users.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    /// Nothing was given.
    #[error("username must not be empty")]
    Empty,
    /// Longer than [`Username::MAX_CHARS`] characters after NFC normalisation.
    #[error("username must be at most {max} characters", max = Username::MAX_CHARS)]
    TooLong,
    /// Starts or ends with a space or other whitespace.
    #[error("username must not start or end with a space")]
    SurroundingWhitespace,
    /// Contains `:`, which HTTP Basic authentication cannot carry in a user-id.
    #[error("username must not contain a colon (:)")]
    Colon,
    /// Contains a control character such as NUL, a tab or a line break.
    #[error("username must not contain control characters such as tabs or line breaks")]
    ControlCharacter,
    /// Contains an invisible or formatting character, or whitespace other than U+0020.
    #[error(
        "username must not contain invisible characters or spaces other than the ordinary space (found U+{:04X})",
        u32::from(*.0)
    )]
    InvisibleCharacter(char),
    /// Contains an unassigned or private-use code point, or U+FFFD.
    #[error(
        "username must not contain unassigned, private-use or replacement characters (found U+{:04X})",
        u32::from(*.0)
    )]
    UnsupportedCharacter(char),
    /// Its comparison key ([`Username::canonical`]) would be longer than
    /// [`Username::MAX_CANONICAL_CHARS`] characters: it is made of characters that each
    /// stand for several (`ﷺ`, `㍿`, `ﬃ`).
    #[error(
        "username is too long: some of its characters (such as ﷺ or ㍿) stand for several, and spelled out it must be at most {max} characters",
        max = Username::MAX_CANONICAL_CHARS
    )]
    SpelledOutTooLong,
}

/// A valid username, stored NFC-normalised with its case preserved.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    /// Longest accepted username, in characters after NFC normalisation (the tutorial's
    /// `String(32)`).
    pub const MAX_CHARS: usize = tessera_api::policy::USERNAME_MAX_CHARS;

    /// Longest possible [`Username::canonical`] key, in characters. Compatibility mapping
    /// and case folding can turn one character into up to 18 (`ﷺ`), so no bound follows
    /// from [`Username::MAX_CHARS`]: [`Username::parse`] refuses names whose key would be
    /// longer ([`UsernameError::SpelledOutTooLong`]). It is the size of the store's
    /// `username_key` column (`VARCHAR(128)` on PostgreSQL and MySQL/MariaDB); 32 of the
    /// longest case folds (`ﬃ` → `ffi`, 96 characters) still fit.
    pub const MAX_CANONICAL_CHARS: usize = 128;

    /// No input longer than this can normalise to `MAX_CHARS` characters (NFC composes at
    /// most a handful of code points into one), so it is refused before normalising.
    const MAX_RAW_BYTES: usize = 1024;

    /// Normalises `raw` to NFC and checks it against the policy in the module docs.
    pub fn parse(raw: &str) -> Result<Username, UsernameError> {
        if raw.is_empty() {
            return Err(UsernameError::Empty);
        }
        if raw.len() > Self::MAX_RAW_BYTES {
            return Err(UsernameError::TooLong);
        }
        let name = ComposingNormalizerBorrowed::new_nfc()
            .normalize(raw)
            .into_owned();
        if name.chars().count() > Self::MAX_CHARS {
            return Err(UsernameError::TooLong);
        }
        let starts_or_ends_with_space =
            name.starts_with(char::is_whitespace) || name.ends_with(char::is_whitespace);
        if starts_or_ends_with_space {
            return Err(UsernameError::SurroundingWhitespace);
        }
        name.chars().try_for_each(check_char)?;
        if canonical_key(&name).chars().count() > Self::MAX_CANONICAL_CHARS {
            return Err(UsernameError::SpelledOutTooLong);
        }
        Ok(Username(name))
    }

    /// The name as stored: NFC-normalised, case preserved.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key under which uniqueness is enforced (the store's `username_key`): two names
    /// share it when they differ only in letter case, Unicode normalisation, width or
    /// other compatibility forms, or the length of runs of inner spaces.
    ///
    /// It is Unicode *compatibility caseless matching* (Unicode §3.13, D146),
    /// `NFKD(fold(NFKD(fold(NFD(name)))))`, composed to NFC, with every run of U+0020
    /// collapsed to one. `fold` is full case folding (`CaseFolding.txt`, statuses C and F,
    /// not the Turkic mappings): unlike lowercasing it also equates `ß`/`ss`/`ẞ` and final
    /// and medial sigma. The compatibility decomposition is what RFC 8265's
    /// UsernameCaseMapped profile does with width mapping, and more: `ａｄｍｉｎ`/`admin`,
    /// `Ⅸ`/`IX`, `x¹`/`x1`, `ﬁ`/`fi`, `㍿`/`株式会社`. Folding twice is what makes the key
    /// stable: the key of a key is the key itself.
    ///
    /// The key is at most [`Username::MAX_CANONICAL_CHARS`] characters long (longer ones are
    /// refused by [`Username::parse`]) and is not itself a display name.
    pub fn canonical(&self) -> String {
        canonical_key(&self.0)
    }
}

/// See [`Username::canonical`]. Total: defined (and idempotent) on any string, valid
/// username or not.
fn canonical_key(name: &str) -> String {
    let nfd = DecomposingNormalizerBorrowed::new_nfd();
    let nfkd = DecomposingNormalizerBorrowed::new_nfkd();
    let fold = CaseMapperBorrowed::new();
    let decomposed = nfd.normalize(name);
    let folded = fold.fold_string(&decomposed);
    let decomposed = nfkd.normalize(&folded);
    let folded = fold.fold_string(&decomposed);
    let decomposed = nfkd.normalize(&folded);
    let key = ComposingNormalizerBorrowed::new_nfc().normalize(&decomposed);
    collapse_spaces(&key)
}

/// `key` with every run of U+0020 replaced by one. Removing a space next to a space
/// changes no composition, so an NFC string stays NFC.
fn collapse_spaces(key: &str) -> String {
    let mut collapsed = String::with_capacity(key.len());
    let mut previous_was_space = false;
    for c in key.chars() {
        let is_space = c == ' ';
        if !(is_space && previous_was_space) {
            collapsed.push(c);
        }
        previous_was_space = is_space;
    }
    collapsed
}

fn check_char(c: char) -> Result<(), UsernameError> {
    if c == ':' {
        return Err(UsernameError::Colon);
    }
    if c == ' ' {
        return Ok(());
    }
    let category = CodePointMapData::<GeneralCategory>::new().get(c);
    match category {
        GeneralCategory::Control => Err(UsernameError::ControlCharacter),
        GeneralCategory::Unassigned | GeneralCategory::PrivateUse | GeneralCategory::Surrogate => {
            Err(UsernameError::UnsupportedCharacter(c))
        }
        _ if c == char::REPLACEMENT_CHARACTER => Err(UsernameError::UnsupportedCharacter(c)),
        GeneralCategory::Format => Err(UsernameError::InvisibleCharacter(c)),
        _ if CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)
            || CodePointSetData::new::<WhiteSpace>().contains(c) =>
        {
            Err(UsernameError::InvisibleCharacter(c))
        }
        _ => Ok(()),
    }
}

impl AsRef<str> for Username {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn parse_err(raw: &str) -> UsernameError {
        Username::parse(raw).expect_err(raw)
    }

    #[test]
    fn accepts_ordinary_names_unchanged() {
        for raw in ["alice", "Bob_42", "jean-luc.picard", "Ann Lee", "a"] {
            assert_eq!(Username::parse(raw).unwrap().as_str(), raw);
        }
    }

    #[test]
    fn accepts_other_scripts_mixed_scripts_and_emoji() {
        for raw in [
            "Ζωή",
            "Дмитрий",
            "山田太郎",
            "ผู้ใช้",
            "مستخدم",
            "Petr山田",
            "cat🐈",
            "😀",
        ] {
            assert_eq!(Username::parse(raw).unwrap().as_str(), raw);
        }
    }

    #[test]
    fn refuses_emoji_zwj_sequences_for_their_joiner() {
        assert_eq!(
            parse_err("cat🐈\u{200D}⬛"),
            UsernameError::InvisibleCharacter('\u{200D}')
        );
    }

    #[test]
    fn refuses_empty() {
        assert_eq!(parse_err(""), UsernameError::Empty);
    }

    #[test]
    fn refuses_whitespace_only_and_surrounding_whitespace_without_trimming() {
        for raw in [
            " ",
            "   ",
            " alice",
            "alice ",
            "\u{3000}alice",
            "alice\u{A0}",
            "\u{2003}",
        ] {
            assert_eq!(
                parse_err(raw),
                UsernameError::SurroundingWhitespace,
                "{raw:?}"
            );
        }
    }

    #[test]
    fn accepts_inner_ascii_space_but_no_other_whitespace() {
        assert!(Username::parse("ann lee").is_ok());
        for space in [
            '\u{A0}', '\u{2009}', '\u{3000}', '\u{2028}', '\u{2029}', '\u{1680}',
        ] {
            let raw = format!("ann{space}lee");
            assert_eq!(
                parse_err(&raw),
                UsernameError::InvisibleCharacter(space),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn counts_characters_not_bytes_at_the_32_character_limit() {
        let ascii_32 = "a".repeat(32);
        assert_eq!(Username::parse(&ascii_32).unwrap().as_str(), ascii_32);
        assert_eq!(parse_err(&"a".repeat(33)), UsernameError::TooLong);

        // 32 characters of 3 bytes (96 bytes) and of 4 bytes (128 bytes) are fine.
        assert!(Username::parse(&"山".repeat(32)).is_ok());
        assert!(Username::parse(&"🐈".repeat(32)).is_ok());
        assert_eq!(parse_err(&"山".repeat(33)), UsernameError::TooLong);
        assert_eq!(parse_err(&"🐈".repeat(33)), UsernameError::TooLong);
    }

    #[test]
    fn counts_length_after_nfc_normalisation() {
        // 32 "é" typed as e + combining acute are 64 code points, but 32 characters in NFC.
        let decomposed = "e\u{301}".repeat(32);
        let name = Username::parse(&decomposed).unwrap();
        assert_eq!(name.as_str(), "é".repeat(32));
        assert_eq!(parse_err(&"e\u{301}".repeat(33)), UsernameError::TooLong);
        // A combining mark with no precomposed form stays a character of its own.
        let uncomposable = format!("{}x", "q\u{301}".repeat(16));
        assert_eq!(parse_err(&uncomposable), UsernameError::TooLong);
    }

    #[test]
    fn refuses_huge_input() {
        assert_eq!(parse_err(&"a".repeat(1 << 20)), UsernameError::TooLong);
        assert_eq!(
            parse_err(&"e\u{301}".repeat(1 << 18)),
            UsernameError::TooLong
        );
    }

    #[test]
    fn refuses_colon_anywhere() {
        for raw in [":", ":alice", "al:ice", "alice:", "a::b"] {
            assert_eq!(parse_err(raw), UsernameError::Colon, "{raw:?}");
        }
        // Fullwidth and other look-alike colons are not the Basic-auth separator.
        assert!(Username::parse("a\u{FF1A}b").is_ok());
    }

    #[test]
    fn refuses_nul_and_other_control_characters() {
        for c in [
            '\0', '\t', '\n', '\r', '\u{7}', '\u{1B}', '\u{7F}', '\u{85}', '\u{9F}',
        ] {
            let raw = format!("al{c}ice");
            assert_eq!(parse_err(&raw), UsernameError::ControlCharacter, "{raw:?}");
        }
    }

    #[test]
    fn refuses_invisible_and_bidi_formatting_characters() {
        let invisible = [
            '\u{200B}',  // zero width space
            '\u{200C}',  // zero width non-joiner
            '\u{200D}',  // zero width joiner
            '\u{200E}',  // left-to-right mark
            '\u{202E}',  // right-to-left override
            '\u{2066}',  // left-to-right isolate
            '\u{2060}',  // word joiner
            '\u{00AD}',  // soft hyphen
            '\u{FEFF}',  // byte order mark
            '\u{034F}',  // combining grapheme joiner
            '\u{FE0F}',  // variation selector 16
            '\u{3164}',  // Hangul filler
            '\u{E0041}', // tag latin capital letter A
        ];
        for c in invisible {
            let raw = format!("al{c}ice");
            assert_eq!(
                parse_err(&raw),
                UsernameError::InvisibleCharacter(c),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn refuses_unassigned_private_use_and_replacement_characters() {
        for c in [
            '\u{E000}',
            '\u{F8FF}',
            '\u{F0000}',
            '\u{FFFF}',
            '\u{FDD0}',
            '\u{50000}',
        ] {
            let raw = format!("al{c}ice");
            assert_eq!(
                parse_err(&raw),
                UsernameError::UnsupportedCharacter(c),
                "{raw:?}"
            );
        }
        // What a lossy decoder makes of invalid UTF-8 is refused, not stored.
        let lossy = String::from_utf8_lossy(b"al\xffice");
        assert_eq!(
            parse_err(&lossy),
            UsernameError::UnsupportedCharacter('\u{FFFD}')
        );
    }

    #[test]
    fn stores_nfc_so_normalisation_variants_are_one_name() {
        let composed = Username::parse("Zoë").unwrap();
        let decomposed = Username::parse("Zoe\u{308}").unwrap();
        assert_eq!(composed, decomposed);
        assert_eq!(decomposed.as_str(), "Zoë");
        // The Kelvin sign and the Ångström sign are canonically K and Å.
        assert_eq!(Username::parse("\u{212A}elvin").unwrap().as_str(), "Kelvin");
        assert_eq!(Username::parse("\u{212B}sa").unwrap().as_str(), "Åsa");
    }

    #[test]
    fn canonical_is_shared_by_names_differing_in_case_or_normalisation() {
        let groups: &[&[&str]] = &[
            &["alice", "Alice", "ALICE", "aLiCe"],
            &["Zoë", "zoe\u{308}", "ZOË", "ZOE\u{308}"],
            &["straße", "STRASSE", "Strasse", "STRAẞE"],
            &["ΟΔΟΣ", "οδος", "οδοσ", "Οδος"],
            &["ﬁle", "file", "FILE"],
            &["ǅemal", "ǆemal", "Ǆemal"],
            &["Дмитрий", "ДМИТРИЙ"],
        ];
        for group in groups {
            let first = Username::parse(group[0]).unwrap().canonical();
            for raw in &group[1..] {
                let other = Username::parse(raw).unwrap().canonical();
                assert_eq!(other, first, "{raw:?} vs {:?}", group[0]);
            }
        }
    }

    #[test]
    fn canonical_keeps_distinct_names_distinct() {
        let names = [
            "alice", "alice2", "álice", "alíce", "ann lee", "annlee", "οδος", "οδός",
        ];
        let keys: std::collections::HashSet<String> = names
            .iter()
            .map(|raw| Username::parse(raw).unwrap().canonical())
            .collect();
        assert_eq!(keys.len(), names.len());
        // Different scripts stay different even where the letters look alike.
        assert_ne!(
            Username::parse("alice").unwrap().canonical(),
            Username::parse("аlice").unwrap().canonical()
        );
    }

    #[test]
    fn look_alike_names_share_the_key() {
        let groups: &[&[&str]] = &[
            // Width (RFC 8265's width mapping), with case on top.
            &["admin", "ａｄｍｉｎ", "ＡＤＭＩＮ", "Ａdmin", "ADMIN"],
            &["ｱﾄﾞﾐﾝ", "アドミン"],
            // Compatibility forms: Roman numerals, super- and subscripts, letterlike symbols.
            &["Ⅸ", "ⅸ", "IX", "ix", "Ⅰx"],
            &["x¹", "x1", "X₁", "x\u{2081}", "Ｘ１"],
            &["ℌello", "Hello", "ℍello"],
            &["㍿", "株式会社"],
            &["ﬃ", "ffi", "FFI", "Ｆﬁ"],
            // Runs of inner spaces count as one.
            &["a b", "a  b", "A   B", "ａ  ｂ"],
            &["ann lee x", "Ann    Lee  X"],
        ];
        for group in groups {
            let first = Username::parse(group[0]).unwrap().canonical();
            for raw in &group[1..] {
                let name = Username::parse(raw).unwrap();
                assert_eq!(name.canonical(), first, "{raw:?} vs {:?}", group[0]);
            }
        }
        assert_eq!(Username::parse("ａｄｍｉｎ").unwrap().canonical(), "admin");
        assert_eq!(Username::parse("Ⅸ").unwrap().canonical(), "ix");
        assert_eq!(Username::parse("x¹").unwrap().canonical(), "x1");
        assert_eq!(Username::parse("a  b").unwrap().canonical(), "a b");
    }

    #[test]
    fn look_alikes_keep_their_own_spelling() {
        // Only the key is mapped: the stored name stays as typed (NFC, case preserved).
        for raw in ["ａｄｍｉｎ", "Ⅸ", "x¹", "a  b", "ﬁle", "㍿"] {
            assert_eq!(Username::parse(raw).unwrap().as_str(), raw);
        }
    }

    #[test]
    fn space_collapsing_keeps_names_with_and_without_spaces_apart() {
        let key = |raw: &str| Username::parse(raw).unwrap().canonical();
        assert_ne!(key("a b"), key("ab"));
        assert_ne!(key("a  b"), key("ab"));
        assert_eq!(key("a        b"), "a b");
        let spaced = format!("a{}b", " ".repeat(30));
        assert_eq!(key(&spaced), "a b");
    }

    #[test]
    fn the_key_is_stable_and_nfc() {
        for raw in [
            "ａｄｍｉｎ",
            "Ⅸ",
            "x¹",
            "a  b",
            "ﷺ",
            "ΐ",
            "ǅemal",
            "ᾈ",
            "İstanbul",
            "ﬅ",
        ] {
            let key = Username::parse(raw).unwrap().canonical();
            assert_eq!(canonical_key(&key), key, "{raw:?}");
            assert!(
                ComposingNormalizerBorrowed::new_nfc().is_normalized(&key),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn keys_longer_than_the_column_are_refused() {
        // U+FDFA spells out to 18 characters: 32 of them would need 576.
        assert_eq!(canonical_key("\u{FDFA}").chars().count(), 18);
        assert_eq!(
            parse_err(&"\u{FDFA}".repeat(Username::MAX_CHARS)),
            UsernameError::SpelledOutTooLong
        );
        // 7 × 18 + 2 = 128 fits exactly; one more character does not.
        let at_limit = format!("{}ab", "\u{FDFA}".repeat(7));
        let key = Username::parse(&at_limit).unwrap().canonical();
        assert_eq!(key.chars().count(), Username::MAX_CANONICAL_CHARS);
        assert_eq!(
            parse_err(&format!("{at_limit}c")),
            UsernameError::SpelledOutTooLong
        );
        // ㍿ is 4 characters spelled out: 32 of them are exactly 128.
        let squares = Username::parse(&"㍿".repeat(Username::MAX_CHARS)).unwrap();
        assert_eq!(
            squares.canonical().chars().count(),
            Username::MAX_CANONICAL_CHARS
        );
        // The longest case folds (ﬃ → ffi) still fit at 32 characters.
        let name = Username::parse(&"ﬃ".repeat(Username::MAX_CHARS)).unwrap();
        assert_eq!(name.canonical(), "ffi".repeat(Username::MAX_CHARS));
        // Character errors come first: what is wrong with the name is named.
        assert_eq!(
            parse_err(&format!("{}\u{200B}", "\u{FDFA}".repeat(8))),
            UsernameError::InvisibleCharacter('\u{200B}')
        );
    }

    /// The key as computed before compatibility mapping (Unicode D145), which existing
    /// databases hold.
    fn old_key(name: &str) -> String {
        let decomposed = DecomposingNormalizerBorrowed::new_nfd().normalize(name);
        let folded = CaseMapperBorrowed::new().fold_string(&decomposed);
        ComposingNormalizerBorrowed::new_nfc()
            .normalize(&folded)
            .into_owned()
    }

    #[test]
    fn every_accepted_character_has_a_stable_key_of_at_most_18_characters() {
        // Exhaustive over Unicode. The key of a key is the key; the new key of an old key
        // is the new key (so the store's rekeying finds every old key's new one); and no
        // character spells out to more than U+FDFA's 18.
        let mut longest = (0, '\0');
        for c in (0..=0x10FFFF_u32).filter_map(char::from_u32) {
            let name = c.encode_utf8(&mut [0; 4]).to_owned();
            // Characters refused at the edges of a name (spaces) are checked inside one.
            let name = format!("a{name}b");
            let Ok(username) = Username::parse(&name) else {
                continue;
            };
            let key = username.canonical();
            assert_eq!(canonical_key(&key), key, "U+{:04X}", u32::from(c));
            assert_eq!(
                canonical_key(&old_key(&name)),
                key,
                "U+{:04X}",
                u32::from(c)
            );
            let spelled_out = key.chars().count() - 2;
            if spelled_out > longest.0 {
                longest = (spelled_out, c);
            }
        }
        assert_eq!(longest, (18, '\u{FDFA}'));
    }

    #[test]
    fn error_messages_name_the_limit_and_the_character() {
        assert_eq!(
            UsernameError::TooLong.to_string(),
            "username must be at most 32 characters"
        );
        assert!(
            UsernameError::InvisibleCharacter('\u{200D}')
                .to_string()
                .contains("U+200D")
        );
        assert!(
            UsernameError::UnsupportedCharacter('\u{E0000}')
                .to_string()
                .contains("U+E0000")
        );
        assert!(UsernameError::Colon.to_string().contains(':'));
        assert!(
            UsernameError::SpelledOutTooLong
                .to_string()
                .contains("at most 128 characters")
        );
    }

    #[test]
    fn display_and_as_ref_show_the_stored_name() {
        let name = Username::parse("Zoe\u{308}").unwrap();
        assert_eq!(name.to_string(), "Zoë");
        assert_eq!(name.as_ref(), "Zoë");
    }

    proptest! {
        #[test]
        fn parse_never_panics(raw in any::<String>()) {
            let _ = Username::parse(&raw);
        }

        #[test]
        fn accepted_names_are_nfc_within_limits_and_reparse_to_themselves(raw in "\\PC{1,40}") {
            if let Ok(name) = Username::parse(&raw) {
                let count = name.as_str().chars().count();
                prop_assert!((1..=Username::MAX_CHARS).contains(&count));
                prop_assert_eq!(Username::parse(name.as_str()), Ok(name.clone()));
                prop_assert!(name.canonical().chars().count() <= Username::MAX_CANONICAL_CHARS);
            }
        }

        #[test]
        fn canonical_is_idempotent(raw in any::<String>()) {
            let once = canonical_key(&raw);
            prop_assert_eq!(canonical_key(&once), once.clone());
        }

        #[test]
        fn canonical_is_idempotent_on_compatibility_characters(
            raw in "[a-zA-Z0-9 ａ-ｚＡ-Ｚ０-９ｦ-ﾟⅠ-ↈ⁰-₟①-⓿ﬀ-ﬆ㌀-㏿ﷺﷻßẞΣσςΐİı\u{300}-\u{36F}]{1,32}"
        ) {
            let once = canonical_key(&raw);
            prop_assert_eq!(canonical_key(&once), once.clone());
            prop_assert_eq!(canonical_key(&old_key(&raw)), once.clone());
            prop_assert!(ComposingNormalizerBorrowed::new_nfc().is_normalized(&once));
            prop_assert!(!once.contains("  "));
            if let Ok(name) = Username::parse(&raw) {
                prop_assert_eq!(name.canonical(), once);
                prop_assert!(name.canonical().chars().count() <= Username::MAX_CANONICAL_CHARS);
            }
        }

        #[test]
        fn fullwidth_names_share_the_key_of_their_ascii_form(raw in "[!-~]{1,32}") {
            let fullwidth: String = raw
                .chars()
                .map(|c| char::from_u32(u32::from(c) - 0x21 + 0xFF01).unwrap())
                .collect();
            if let (Ok(ascii), Ok(wide)) = (Username::parse(&raw), Username::parse(&fullwidth)) {
                prop_assert_eq!(wide.canonical(), ascii.canonical());
            }
        }

        #[test]
        fn canonical_ignores_case_and_normalisation(raw in "[a-zA-ZÀ-ÿͰ-ϿЀ-ӿ ]{1,32}") {
            if let Ok(name) = Username::parse(&raw) {
                let nfd = DecomposingNormalizerBorrowed::new_nfd().normalize(&raw).into_owned();
                for variant in [raw.to_uppercase(), raw.to_lowercase(), nfd] {
                    if let Ok(other) = Username::parse(&variant) {
                        prop_assert_eq!(other.canonical(), name.canonical());
                    }
                }
            }
        }
    }
}
