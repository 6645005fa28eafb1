//! SHA-crypt password hashes, as the Flask tutorial stored them.
//!
//! The tutorial hashed with passlib's `custom_app_context`: `sha512_crypt` (`$6$`), or
//! `sha256_crypt` (`$5$`) on 32-bit hosts, 656000 and 535000 rounds by default:
//!
//! ```text
//! $6$rounds=656000$<salt: 1-16 chars>$<checksum: 86 chars>
//! $5$rounds=535000$<salt: 1-16 chars>$<checksum: 43 chars>
//! ```
//!
//! `rounds=` may be left out (then 5000). These hashes are only ever *verified*, and replaced
//! by the current scheme at the next successful sign-in; the computation and the
//! constant-time comparison are the `sha-crypt` crate's.
//!
//! The layout is checked here, strictly, before any work: rounds in decimal without leading
//! zeros within 1000..=1000000 (passlib's lower limit; the upper one is Tessera's cap, above
//! passlib's defaults, so no stored hash can make a sign-in cost minutes), a salt of
//! 1 to 16 characters of the crypt alphabet, a checksum of exactly the right length.
//! Anything else is an unknown format, never a guess. Empty salts, which passlib can parse
//! but never writes, are refused too.
//!
//! SHA-crypt's cost grows with the candidate's length (every round hashes it again), so a
//! candidate longer than [`MAX_CANDIDATE_BYTES`] is never checked against such a hash: it
//! does not match, at no cost. No passphrase a person typed into the tutorial is that long.

use sha_crypt::{PasswordHashRef, PasswordVerifier, ShaCrypt};

use crate::hash_error::HashError;
use crate::hash_work::HashWork;

/// passlib's lower bound on `rounds=`, and Tessera's cap (passlib's defaults are 656,000
/// and 535,000).
const MIN_ROUNDS: u32 = 1_000;
pub(crate) const MAX_ROUNDS: u32 = 1_000_000;
/// Longest candidate checked against a SHA-crypt hash, in bytes.
pub(crate) const MAX_CANDIDATE_BYTES: usize = 256;
/// Rounds when the hash names none.
const IMPLICIT_ROUNDS: u32 = 5_000;
const MAX_SALT_CHARS: usize = 16;

/// The two SHA-crypt variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CryptAlgorithm {
    /// `$5$`: SHA-256, 43-character checksum.
    Sha256,
    /// `$6$`: SHA-512, 86-character checksum.
    Sha512,
}

impl CryptAlgorithm {
    fn prefix(self) -> &'static str {
        match self {
            CryptAlgorithm::Sha256 => "$5$",
            CryptAlgorithm::Sha512 => "$6$",
        }
    }

    fn checksum_chars(self) -> usize {
        match self {
            CryptAlgorithm::Sha256 => 43,
            CryptAlgorithm::Sha512 => 86,
        }
    }
}

/// A well-formed SHA-crypt hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CryptHash<'a> {
    pub algorithm: CryptAlgorithm,
    pub rounds: u32,
    stored: &'a str,
}

impl<'a> CryptHash<'a> {
    /// `Ok(None)` when `stored` is not SHA-crypt at all; [`HashError::UnknownFormat`] when it
    /// claims to be (`$5$`, `$6$`) but is malformed.
    pub fn parse(stored: &'a str) -> Result<Option<CryptHash<'a>>, HashError> {
        let (algorithm, rest) = if let Some(rest) = stored.strip_prefix("$6$") {
            (CryptAlgorithm::Sha512, rest)
        } else if let Some(rest) = stored.strip_prefix("$5$") {
            (CryptAlgorithm::Sha256, rest)
        } else {
            return Ok(None);
        };
        let (rounds, rest) = match rest.strip_prefix("rounds=") {
            Some(rest) => {
                let (digits, rest) = rest.split_once('$').ok_or(HashError::UnknownFormat)?;
                (parse_rounds(digits).ok_or(HashError::UnknownFormat)?, rest)
            }
            None => (IMPLICIT_ROUNDS, rest),
        };
        let (salt, checksum) = rest.split_once('$').ok_or(HashError::UnknownFormat)?;
        let well_formed = (1..=MAX_SALT_CHARS).contains(&salt.len())
            && salt.bytes().all(is_crypt_char)
            && checksum.len() == algorithm.checksum_chars()
            && checksum.bytes().all(is_crypt_char);
        if !well_formed {
            return Err(HashError::UnknownFormat);
        }
        Ok(Some(CryptHash {
            algorithm,
            rounds,
            stored,
        }))
    }

    /// Recomputes the hash over `candidate` (as UTF-8, like passlib) and compares checksums in
    /// constant time.
    /// A candidate over [`MAX_CANDIDATE_BYTES`] does not match, and costs nothing.
    pub fn matches(&self, candidate: &str, work: &HashWork) -> Result<bool, HashError> {
        let hash = PasswordHashRef::new(self.stored).map_err(|_| HashError::UnknownFormat)?;
        if candidate.len() > MAX_CANDIDATE_BYTES {
            return Ok(false);
        }
        work.count_sha_crypt();
        match ShaCrypt::default().verify_password(candidate.as_bytes(), hash) {
            Ok(()) => Ok(true),
            Err(sha_crypt::password_hash::Error::PasswordInvalid) => Ok(false),
            // Only a checksum with stray bits in its last character gets this far.
            Err(_) => Err(HashError::UnknownFormat),
        }
    }

    /// Does the work of checking `candidate` against a hash of this algorithm and rounds, and
    /// discards the result: the timing defence for accounts that do not have such a hash.
    pub fn verify_dummy(&self, candidate: &str, work: &HashWork) {
        let zeros = ".".repeat(self.algorithm.checksum_chars());
        let dummy = format!(
            "{}rounds={}$tesseradummysalt${zeros}",
            self.algorithm.prefix(),
            self.rounds
        );
        if let Ok(Some(dummy)) = CryptHash::parse(&dummy) {
            let _ = dummy.matches(candidate, work);
        }
    }
}

fn parse_rounds(digits: &str) -> Option<u32> {
    if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let rounds: u32 = digits.parse().ok()?;
    (MIN_ROUNDS..=MAX_ROUNDS)
        .contains(&rounds)
        .then_some(rounds)
}

/// The crypt base64 alphabet: `./0-9A-Za-z`.
fn is_crypt_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'.' || byte == b'/'
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const PASSWORD: &str = "correct horse battery staple";

    // Made with passlib 1.7.4 in target/py:
    //   sha512_crypt.using(rounds=…, salt=…).hash(password), likewise sha256_crypt.
    const PASSLIB: [(&str, &str); 5] = [
        (
            PASSWORD,
            "$6$rounds=1000$saltstringsaltst$nXN191qkTCuB18FhSVNLEuVeo3vnUjKoWfZrZQq8zfAVWCF0OoM1/rKAVqSmNx5E4udezOEL78fROp070zqFZ.",
        ),
        (
            // rounds=5000 is implicit: passlib leaves it out.
            PASSWORD,
            "$6$abc$ahFduufWqlLbksqxwzfC1qYzLSyha4pPG7EaqNTDSjXfU3ImPI0.07rEaTSUoZ7JvkhHFizh1dRAMa6N6LUvq/",
        ),
        (
            PASSWORD,
            "$5$rounds=1000$saltstringsaltst$w7bWQ2Z/gtN581UKhVr4sVAsyzC6APuMGxRY0fR8Wg7",
        ),
        (
            PASSWORD,
            "$5$./09AZaz$DcNW/yie2VT43yDkUP/yIMrs19/N09Bm9A.AkdQI1.8",
        ),
        (
            "пароль 山田 🐈",
            "$6$rounds=1234$pOuAkV1E$dlEzTtNEsRUPif5Pv/4kpMXKygFh0HeCHxyrIscFKAaU4Z.fvU34PdkIsRC0Cft0T.RDZ3qdKd8zKdL4aJbrR1",
        ),
    ];

    /// `custom_app_context.hash(PASSWORD)`: the tutorial's own scheme, 656000 rounds.
    const CUSTOM_APP_CONTEXT: &str = "$6$rounds=656000$M0qcJ7asJ7AjZtEK$.A9fYkJhJq5f3l.kCPvkYsNGDtwYZR8Q90FotAfgA5hjIl8DGQSUrNjFdATELixco3GknMgG71GcfRDexB/.w.";

    fn work() -> HashWork {
        HashWork::default()
    }

    fn parsed(stored: &str) -> CryptHash<'_> {
        CryptHash::parse(stored).unwrap().unwrap()
    }

    #[test]
    fn verifies_passlib_hashes_and_refuses_near_misses() {
        for (password, stored) in PASSLIB {
            let hash = parsed(stored);
            assert_eq!(hash.matches(password, &work()), Ok(true), "{stored}");
            let mut wrong = password.to_owned();
            wrong.push(' ');
            assert_eq!(hash.matches(&wrong, &work()), Ok(false), "{stored}");
            assert_eq!(hash.matches("", &work()), Ok(false), "{stored}");
        }
    }

    #[test]
    fn verifies_a_real_custom_app_context_hash() {
        let hash = parsed(CUSTOM_APP_CONTEXT);
        assert_eq!(
            (hash.algorithm, hash.rounds),
            (CryptAlgorithm::Sha512, 656_000)
        );
        assert_eq!(hash.matches(PASSWORD, &work()), Ok(true));
    }

    #[test]
    fn reads_algorithm_and_rounds() {
        assert_eq!(
            (parsed(PASSLIB[0].1).algorithm, parsed(PASSLIB[0].1).rounds),
            (CryptAlgorithm::Sha512, 1000)
        );
        assert_eq!(parsed(PASSLIB[1].1).rounds, 5000);
        assert_eq!(parsed(PASSLIB[3].1).algorithm, CryptAlgorithm::Sha256);
    }

    #[test]
    fn other_formats_are_not_crypt() {
        for stored in [
            "",
            "$2b$04$ocf8woFD9eBaYopag8/c9OdMQVfmU9fC8T22Oqb8TaalS4DYb6OL2",
            "$1$salt$hash",
            "6$rounds=1000$salt$x",
        ] {
            assert_eq!(CryptHash::parse(stored), Ok(None), "{stored}");
        }
    }

    #[test]
    fn malformed_crypt_hashes_are_unknown_formats() {
        let good = PASSLIB[0].1;
        let (head, checksum) = good.rsplit_once('$').unwrap();
        let bad = [
            "$6$".to_owned(),
            "$6$rounds=1000$".to_owned(),
            "$6$rounds=1000$salt".to_owned(),
            good.replace("rounds=1000", "rounds=999"),
            good.replace("rounds=1000", "rounds=01000"),
            good.replace("rounds=1000", "rounds=+1000"),
            good.replace("rounds=1000", "rounds="),
            good.replace("rounds=1000", "rounds=1000001"),
            good.replace("rounds=1000", "rounds=999999999"),
            good.replace("rounds=1000", "rounds=99999999999999999999"),
            good.replace("rounds=1000", "ROUNDS=1000"),
            good.replace("saltstringsaltst", ""),
            good.replace("saltstringsaltst", "saltstringsaltstr"),
            good.replace("saltstringsaltst", "salt_string"),
            good.replace("saltstringsaltst", "sält"),
            format!("{head}${}", &checksum[1..]),
            format!("{head}${checksum}."),
            format!("{head}${checksum}$"),
            format!("{head}$€{}", &checksum[3..]),
            good.replacen("$6$", "$5$", 1),
            format!("{good}\n"),
        ];
        for stored in &bad {
            assert_eq!(
                CryptHash::parse(stored),
                Err(HashError::UnknownFormat),
                "{stored}"
            );
        }
    }

    #[test]
    fn the_rounds_cap_is_the_largest_accepted() {
        let good = PASSLIB[0].1;
        let capped = good.replace("rounds=1000", &format!("rounds={MAX_ROUNDS}"));
        assert_eq!(parsed(&capped).rounds, MAX_ROUNDS);
    }

    #[test]
    fn a_candidate_over_the_bound_does_not_match_and_costs_nothing() {
        let long = "x".repeat(MAX_CANDIDATE_BYTES + 1);
        let hash = parsed(PASSLIB[0].1);
        let work = HashWork::default();
        assert_eq!(hash.matches(&long, &work), Ok(false));
        hash.verify_dummy(&long, &work);
        assert_eq!(work.count().sha_crypt, 0, "no SHA-crypt computed");
        let at_bound = "x".repeat(MAX_CANDIDATE_BYTES);
        assert_eq!(hash.matches(&at_bound, &work), Ok(false));
        assert_eq!(work.count().sha_crypt, 1);
    }

    #[test]
    fn a_checksum_with_stray_bits_is_refused_not_accepted() {
        // The last of 86 characters carries 2 bits; "z" sets the 4 unused ones.
        let good = PASSLIB[0].1;
        let dirty = format!("{}z", &good[..good.len() - 1]);
        let hash = parsed(&dirty);
        assert_ne!(hash.matches(PASSWORD, &work()), Ok(true));
    }

    #[test]
    fn the_dummy_runs_without_matching() {
        let hash = parsed(PASSLIB[2].1);
        let work = HashWork::default();
        hash.verify_dummy(PASSWORD, &work);
        assert_eq!(work.count().sha_crypt, 1);
        let dummy = format!("$5$rounds=1000$tesseradummysalt${}", ".".repeat(43));
        assert_eq!(parsed(&dummy).matches(PASSWORD, &work), Ok(false));
    }

    proptest! {
        #[test]
        fn never_panics_on_near_miss_input(
            prefix in prop::sample::select(vec!["$5$", "$6$", "$6$rounds=1000$", "$5$rounds="]),
            tail in "[./A-Za-z0-9$=€]{0,100}",
            candidate in any::<String>(),
        ) {
            let stored = format!("{prefix}{tail}");
            if let Ok(Some(hash)) = CryptHash::parse(&stored) {
                prop_assert!(hash.rounds >= MIN_ROUNDS);
                let _ = hash.matches(&candidate, &work());
            }
        }
    }
}
