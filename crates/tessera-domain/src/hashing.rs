//! Password hashing.
//!
//! New hashes use passlib's `bcrypt_sha256` version 2 format, so no byte of a password is
//! ever ignored (plain bcrypt reads only the first 72 bytes):
//!
//! ```text
//! $bcrypt-sha256$v=2,t=2b,r=<cost>$<salt: 22 chars>$<digest: 31 chars>
//! ```
//!
//! where the digest is the checksum part of `$2b$` bcrypt over
//! `base64(HMAC-SHA256(key = salt string as ASCII, message = password as UTF-8))` (standard
//! alphabet, padded: 44 bytes), with the same cost and salt. This follows
//! `passlib.handlers.bcrypt.bcrypt_sha256._calc_checksum` (passlib 1.7.4) and is checked
//! against vectors produced by passlib.
//!
//! [`PasswordHasher::verify`] also accepts, for accounts imported from elsewhere, plain
//! bcrypt (`$2a$`, `$2b$`, `$2y$`, which keeps bcrypt's 72-byte limit) and passlib's older
//! `bcrypt_sha256` version 1 (`$bcrypt-sha256$2b,<cost>$…`: plain SHA-256 instead of HMAC).
//! [`PasswordHasher::needs_rehash`] flags those, so they are replaced at the next login.
//!
//! It verifies, too, the SHA-crypt hashes (`$6$`, `$5$`) of passlib's `custom_app_context`
//! that the Flask tutorial stored (see `legacy_hash.rs`), which are likewise replaced.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use base64::Engine;
use base64::alphabet::BCRYPT;
use base64::engine::GeneralPurpose;
use base64::engine::general_purpose::{NO_PAD, STANDARD};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::Password;
use crate::hash_error::HashError;
use crate::hash_work::{HashWork, HashWorkCount};
use crate::legacy_hash::{CryptAlgorithm, CryptHash};

/// The formats [`PasswordHasher::verify`] understands, named as passlib names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashScheme {
    /// `$bcrypt-sha256$v=2,…`: what Tessera writes.
    BcryptSha256,
    /// `$bcrypt-sha256$2b,…`: passlib's version 1.
    BcryptSha256V1,
    /// `$2a$`, `$2b$`, `$2y$`.
    Bcrypt,
    /// `$5$`: the Flask tutorial's `custom_app_context` on 32-bit hosts.
    Sha256Crypt,
    /// `$6$`: the Flask tutorial's `custom_app_context`.
    Sha512Crypt,
}

impl HashScheme {
    /// passlib's name of the scheme, for reports and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            HashScheme::BcryptSha256 => "bcrypt_sha256",
            HashScheme::BcryptSha256V1 => "bcrypt_sha256 (v1)",
            HashScheme::Bcrypt => "bcrypt",
            HashScheme::Sha256Crypt => "sha256_crypt",
            HashScheme::Sha512Crypt => "sha512_crypt",
        }
    }

    /// True for the SHA-crypt schemes of the Flask tutorial.
    pub fn is_crypt(self) -> bool {
        matches!(self, HashScheme::Sha256Crypt | HashScheme::Sha512Crypt)
    }
}

impl std::fmt::Display for HashScheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Hashes new passwords and verifies candidates against stored hashes.
///
/// Cloning is cheap; clones share the dummy hash used by [`PasswordHasher::verify_dummy`].
#[derive(Clone)]
pub struct PasswordHasher {
    cost: u32,
    dummy_hash: Arc<OnceLock<String>>,
    work: Arc<HashWork>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("cost", &self.cost)
            .finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// Lowest bcrypt cost (2⁴ rounds): only for tests.
    pub const MIN_COST: u32 = tessera_api::policy::BCRYPT_MIN_COST;
    /// Highest bcrypt cost (2³¹ rounds).
    pub const MAX_COST: u32 = tessera_api::policy::BCRYPT_MAX_COST;

    /// A hasher producing hashes of the given bcrypt cost, clamped to
    /// [`PasswordHasher::MIN_COST`]..=[`PasswordHasher::MAX_COST`]. Validate configuration
    /// with [`PasswordHasher::try_new`] instead, so a typo is not silently "fixed".
    pub fn new(cost: u32) -> PasswordHasher {
        PasswordHasher {
            cost: cost.clamp(Self::MIN_COST, Self::MAX_COST),
            dummy_hash: Arc::new(OnceLock::new()),
            work: Arc::default(),
        }
    }

    /// A hasher of the given bcrypt cost, or [`HashError::CostOutOfRange`].
    pub fn try_new(cost: u32) -> Result<PasswordHasher, HashError> {
        if (Self::MIN_COST..=Self::MAX_COST).contains(&cost) {
            Ok(Self::new(cost))
        } else {
            Err(HashError::CostOutOfRange(cost))
        }
    }

    /// The configured bcrypt cost.
    pub fn cost(&self) -> u32 {
        self.cost
    }

    /// How much hashing this hasher and its clones have done.
    pub fn work(&self) -> HashWorkCount {
        self.work.count()
    }

    /// Hashes a new password (`bcrypt_sha256` version 2, random salt).
    pub fn hash(&self, password: &Password) -> Result<String, HashError> {
        self.hash_unchecked(password.expose())
    }

    /// Hashes a password without applying the new-password policy: for a password that
    /// just verified against an older hash, which may predate the policy.
    pub fn hash_unchecked(&self, password: &str) -> Result<String, HashError> {
        let mut salt = [0_u8; 16];
        getrandom::fill(&mut salt).map_err(|e| HashError::Randomness(e.to_string()))?;
        hash_v2(password, self.cost, salt, &self.work)
    }

    /// Checks a candidate password against a stored hash in any supported format.
    ///
    /// `Ok(false)` means a wrong password; [`HashError::UnknownFormat`] means the stored
    /// hash is unsupported or corrupt. Never panics, whatever `stored` holds.
    pub fn verify(&self, candidate: &str, stored: &str) -> Result<bool, HashError> {
        if let Some(crypt) = CryptHash::parse(stored)? {
            return crypt.matches(candidate, &self.work);
        }
        StoredHash::parse(stored)?.matches(candidate, &self.work)
    }

    /// The format of a stored hash, checked as strictly as [`PasswordHasher::verify`] checks
    /// it but without computing anything: [`HashError::UnknownFormat`] for any hash that
    /// `verify` would refuse.
    pub fn scheme(&self, stored: &str) -> Result<HashScheme, HashError> {
        if let Some(crypt) = CryptHash::parse(stored)? {
            return Ok(match crypt.algorithm {
                CryptAlgorithm::Sha256 => HashScheme::Sha256Crypt,
                CryptAlgorithm::Sha512 => HashScheme::Sha512Crypt,
            });
        }
        Ok(match StoredHash::parse(stored)?.scheme {
            Scheme::BcryptSha256V2 => HashScheme::BcryptSha256,
            Scheme::BcryptSha256V1 => HashScheme::BcryptSha256V1,
            Scheme::Bcrypt => HashScheme::Bcrypt,
        })
    }

    /// Does the work of verifying `candidate` against a hash of the same scheme and cost as
    /// `sample`, and discards the result; nothing when `sample` is in no known format.
    ///
    /// For accounts whose own hash is of another kind: with SHA-crypt hashes imported from
    /// the Flask tutorial next to bcrypt ones, a failed sign-in does the work of both kinds
    /// whoever it names, so its timing does not tell which kind of account (if any) exists.
    pub fn verify_dummy_like(&self, candidate: &str, sample: &str) {
        match CryptHash::parse(sample) {
            Ok(Some(crypt)) => crypt.verify_dummy(candidate, &self.work),
            Ok(None) => {
                if let Ok(parsed) = StoredHash::parse(sample) {
                    let _ =
                        bcrypt_checksum(candidate.as_bytes(), parsed.cost, [0x5A; 16], &self.work);
                }
            }
            Err(_) => {}
        }
    }

    /// Does the work of [`PasswordHasher::verify`] against a hash of the configured cost and
    /// discards the result: for unknown users, so timing does not tell which names exist.
    ///
    /// The dummy hash is computed on first use and shared by clones;
    /// [`PasswordHasher::warm_up`], called when the server starts, computes it so no request
    /// pays for it.
    pub fn verify_dummy(&self, candidate: &str) {
        let _ = self.verify(candidate, self.dummy());
    }

    /// Computes the dummy hash for [`PasswordHasher::verify_dummy`] now instead of on first
    /// use.
    pub fn warm_up(&self) {
        self.dummy();
    }

    /// True when a stored hash should be replaced after a successful login: it is not
    /// `bcrypt_sha256` version 2, or its cost is not the configured one.
    pub fn needs_rehash(&self, stored: &str) -> bool {
        !matches!(
            StoredHash::parse(stored),
            Ok(StoredHash { scheme: Scheme::BcryptSha256V2, cost, .. }) if cost == self.cost
        )
    }

    fn dummy(&self) -> &str {
        self.dummy_hash.get_or_init(|| {
            // Fixed salt: the dummy protects nothing, it only has to cost what a real hash
            // costs. It cannot fail, the cost being clamped.
            hash_v2("tessera dummy password", self.cost, [0x5A; 16], &self.work).unwrap_or_default()
        })
    }
}

const V2_PREFIX: &str = "$bcrypt-sha256$v=2,t=2b,r=";
const V1_PREFIX: &str = "$bcrypt-sha256$";
const SALT_CHARS: usize = 22;
const CHECKSUM_CHARS: usize = 31;

/// bcrypt's own base64 alphabet, unpadded, refusing stray bits in the last character.
const BCRYPT_BASE64: GeneralPurpose = GeneralPurpose::new(&BCRYPT, NO_PAD);

/// Which construction turns a password into bcrypt's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    /// HMAC-SHA256 keyed with the salt string, base64: passlib `bcrypt_sha256` v2.
    BcryptSha256V2,
    /// SHA-256, base64: passlib `bcrypt_sha256` v1.
    BcryptSha256V1,
    /// The password itself: plain bcrypt.
    Bcrypt,
}

/// A stored hash, parsed and decoded; whatever gets this far is well-formed.
#[derive(Debug)]
struct StoredHash<'a> {
    scheme: Scheme,
    cost: u32,
    /// The salt as written, which keys the HMAC of version 2.
    salt_chars: &'a str,
    salt: [u8; 16],
    checksum: [u8; 23],
}

impl<'a> StoredHash<'a> {
    fn parse(stored: &'a str) -> Result<StoredHash<'a>, HashError> {
        let (scheme, cost, salt_chars, checksum_chars) =
            split(stored).ok_or(HashError::UnknownFormat)?;
        Ok(StoredHash {
            scheme,
            cost,
            salt_chars,
            salt: decode_bcrypt_base64(salt_chars)?,
            checksum: decode_bcrypt_base64(checksum_chars)?,
        })
    }

    /// Recomputes bcrypt over the candidate with the stored cost and salt, and compares
    /// checksums in constant time.
    fn matches(&self, candidate: &str, work: &HashWork) -> Result<bool, HashError> {
        let secret = match self.scheme {
            Scheme::BcryptSha256V2 => Cow::Owned(hmac_key(self.salt_chars, candidate)),
            Scheme::BcryptSha256V1 => Cow::Owned(sha256_key(candidate)),
            Scheme::Bcrypt => Cow::Borrowed(candidate.as_bytes()),
        };
        let actual: [u8; 23] =
            decode_bcrypt_base64(&bcrypt_checksum(&secret, self.cost, self.salt, work)?)?;
        Ok(actual.ct_eq(&self.checksum).into())
    }
}

/// Splits a stored hash into scheme, cost, salt and checksum, checking only the layout.
fn split(stored: &str) -> Option<(Scheme, u32, &str, &str)> {
    if let Some(rest) = stored.strip_prefix(V2_PREFIX) {
        let (cost, salt, checksum) = split_cost_salt_checksum(rest)?;
        return Some((Scheme::BcryptSha256V2, cost, salt, checksum));
    }
    if let Some(rest) = stored.strip_prefix(V1_PREFIX) {
        let rest = rest
            .strip_prefix("2a,")
            .or_else(|| rest.strip_prefix("2b,"))?;
        let (cost, salt, checksum) = split_cost_salt_checksum(rest)?;
        return Some((Scheme::BcryptSha256V1, cost, salt, checksum));
    }
    // `$2x$` (crypt_blowfish's sign-extension bug) and `$2$` are left out on purpose.
    let rest = ["$2a$", "$2b$", "$2y$"]
        .iter()
        .find_map(|ident| stored.strip_prefix(ident))?;
    let (cost, salt_and_checksum) = rest.split_once('$')?;
    // Checked for ASCII first, so splitting at a byte index cannot panic.
    if cost.len() != 2
        || !salt_and_checksum.is_ascii()
        || salt_and_checksum.len() != SALT_CHARS + CHECKSUM_CHARS
    {
        return None;
    }
    let cost = parse_cost(cost.trim_start_matches('0'))?;
    let (salt, checksum) = salt_and_checksum.split_at(SALT_CHARS);
    Some((Scheme::Bcrypt, cost, salt, checksum))
}

/// `<cost>$<salt>$<checksum>` as passlib writes it: cost in decimal without leading zeros.
fn split_cost_salt_checksum(rest: &str) -> Option<(u32, &str, &str)> {
    let mut parts = rest.split('$');
    let (cost, salt, checksum) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || cost.len() > 2 || cost.starts_with('0') {
        return None;
    }
    if salt.len() != SALT_CHARS || checksum.len() != CHECKSUM_CHARS {
        return None;
    }
    Some((parse_cost(cost)?, salt, checksum))
}

fn parse_cost(digits: &str) -> Option<u32> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let cost: u32 = digits.parse().ok()?;
    (PasswordHasher::MIN_COST..=PasswordHasher::MAX_COST)
        .contains(&cost)
        .then_some(cost)
}

/// The 44-byte bcrypt input of version 2: the salt *string* keys the HMAC, as in passlib.
fn hmac_key(salt: &str, password: &str) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(salt.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(password.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes()).into_bytes()
}

/// The 44-byte bcrypt input of version 1.
fn sha256_key(password: &str) -> Vec<u8> {
    STANDARD
        .encode(Sha256::digest(password.as_bytes()))
        .into_bytes()
}

fn hash_v2(
    password: &str,
    cost: u32,
    salt: [u8; 16],
    work: &HashWork,
) -> Result<String, HashError> {
    let salt_chars = BCRYPT_BASE64.encode(salt);
    let checksum = bcrypt_checksum(&hmac_key(&salt_chars, password), cost, salt, work)?;
    Ok(format!("{V2_PREFIX}{cost}${salt_chars}${checksum}"))
}

/// The 31-character checksum part of `$2b$` bcrypt.
fn bcrypt_checksum(
    secret: &[u8],
    cost: u32,
    salt: [u8; 16],
    work: &HashWork,
) -> Result<String, HashError> {
    work.count_bcrypt();
    let parts = bcrypt::hash_with_salt(secret, cost, salt).map_err(|e| match e {
        bcrypt::BcryptError::CostNotAllowed(cost) => HashError::CostOutOfRange(cost),
        other => HashError::Bcrypt(other.to_string()),
    })?;
    // `$2b$NN$`, salt, checksum: 60 ASCII characters, so any split is on a char boundary.
    let mut full = parts.format_for_version(bcrypt::Version::TwoB);
    Ok(full.split_off(full.len().saturating_sub(CHECKSUM_CHARS)))
}

/// Decodes bcrypt base64 of exactly `N` bytes; stray bits in the last character, which
/// bcrypt implementations treat differently, make it malformed.
fn decode_bcrypt_base64<const N: usize>(text: &str) -> Result<[u8; N], HashError> {
    let bytes = BCRYPT_BASE64
        .decode(text)
        .map_err(|_| HashError::UnknownFormat)?;
    bytes.try_into().map_err(|_| HashError::UnknownFormat)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const COST: u32 = 4;
    const PASSWORD: &str = "correct horse battery staple";

    fn hasher() -> PasswordHasher {
        PasswordHasher::new(COST)
    }

    /// Decodes a 22-character salt string, for the vectors made with a chosen salt.
    fn salt_bytes(salt: &str) -> [u8; 16] {
        decode_bcrypt_base64(salt).unwrap()
    }

    // Made with passlib 1.7.4 (bcrypt 4.0.1 backend) in a throwaway venv:
    //   bcrypt_sha256.using(rounds=4, salt="KnownAnswerVectorSalt.").hash(password)
    const KNOWN_SALT: &str = "KnownAnswerVectorSalt.";
    const PASSLIB_V2_FIXED_SALT: [(&str, &str); 3] = [
        (
            PASSWORD,
            "$bcrypt-sha256$v=2,t=2b,r=4$KnownAnswerVectorSalt.$wmU3AnDL7mmb4gq.I69PyIYwVgCcJWC",
        ),
        (
            "пароль 山田 🐈 e\u{301}",
            "$bcrypt-sha256$v=2,t=2b,r=4$KnownAnswerVectorSalt.$2wQLJfAjhHoio9z2pkRKpvDoNV7nDTi",
        ),
        (
            // 100 bytes: passlib reads all of them, unlike plain bcrypt.
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx-tail-one-yyyyyyyyyyyyyyyyyy",
            "$bcrypt-sha256$v=2,t=2b,r=4$KnownAnswerVectorSalt.$mWOf1xqiFK9d9eWGLRqP4JZfUWF2XLa",
        ),
    ];

    #[test]
    fn hashes_exactly_like_passlib_for_the_same_salt() {
        for (password, expected) in PASSLIB_V2_FIXED_SALT {
            assert_eq!(
                hash_v2(password, COST, salt_bytes(KNOWN_SALT), &HashWork::default()).unwrap(),
                expected
            );
        }
    }

    #[test]
    fn verifies_passlib_v2_hashes() {
        for (password, stored) in PASSLIB_V2_FIXED_SALT {
            assert!(hasher().verify(password, stored).unwrap(), "{stored}");
            assert!(
                !hasher()
                    .verify("correct horse battery stapler", stored)
                    .unwrap()
            );
        }
        // bcrypt_sha256.using(rounds=5).hash(PASSWORD), random salt.
        let stored =
            "$bcrypt-sha256$v=2,t=2b,r=5$V2nQCNMuLpLPQHJJXZu7JO$e9cHaWKT6JUhQhKCVx7Fy7usnIN8bD.";
        assert!(hasher().verify(PASSWORD, stored).unwrap());
        assert!(
            !hasher()
                .verify("Correct horse battery staple", stored)
                .unwrap()
        );
    }

    #[test]
    fn passlib_verifies_our_hashes() {
        // Made by `hash_unchecked(PASSWORD)` at cost 4 (random salt); passlib 1.7.4's
        // bcrypt_sha256.verify(PASSWORD, stored) returned True, and False for "wrong".
        let stored =
            "$bcrypt-sha256$v=2,t=2b,r=4$ambryd2AsDtB4DiKY9A1ye$p7sTieHBIxHPkZdFqZOBgRI9PznRosC";
        assert!(hasher().verify(PASSWORD, stored).unwrap());
        assert!(!hasher().verify("wrong", stored).unwrap());
    }

    #[test]
    fn verifies_passlib_v1_hashes() {
        // bcrypt_sha256.using(version=1, rounds=4[, ident="2a"]).hash(PASSWORD)
        for stored in [
            "$bcrypt-sha256$2b,4$1hcMFqIr0QJyKnJLMLIC9e$rRY0dwlJN9PsxEd9kRxq4t4yBkbjHbm",
            "$bcrypt-sha256$2a,4$bfp0FN/IM5CLwVQIV5NFMu$lMk3Hl3O2ugsOQQpC5Dctcfw2XDGgyO",
        ] {
            assert!(hasher().verify(PASSWORD, stored).unwrap(), "{stored}");
            assert!(!hasher().verify("wrong password", stored).unwrap());
            assert!(hasher().needs_rehash(stored));
        }
    }

    #[test]
    fn verifies_plain_bcrypt_imports() {
        // passlib.hash.bcrypt.using(rounds=4, ident=...).hash(PASSWORD)
        for stored in [
            "$2a$04$PAxzy1oWRhOfU1vjgyPSVeAuDWvI2hZr1TKuyjPJlPWuIfT7wlhGq",
            "$2b$04$ocf8woFD9eBaYopag8/c9OdMQVfmU9fC8T22Oqb8TaalS4DYb6OL2",
            "$2y$04$O/.NzPxvg3ZRKquGo/qp2eEbur0uWsMv0d8F7fhulMFNv6GVQzZEy",
        ] {
            assert!(hasher().verify(PASSWORD, stored).unwrap(), "{stored}");
            assert!(!hasher().verify("wrong password", stored).unwrap());
            assert!(hasher().needs_rehash(stored));
        }
    }

    #[test]
    fn round_trips_with_a_fresh_salt_each_time() {
        let password = Password::parse(PASSWORD).unwrap();
        let first = hasher().hash(&password).unwrap();
        let second = hasher().hash(&password).unwrap();
        assert_ne!(first, second);
        for stored in [&first, &second] {
            assert!(hasher().verify(PASSWORD, stored).unwrap());
            assert!(
                !hasher()
                    .verify("correct horse battery stapl", stored)
                    .unwrap()
            );
            assert!(!hasher().needs_rehash(stored));
        }
    }

    #[test]
    fn writes_the_bcrypt_sha256_v2_format() {
        let stored = hasher().hash_unchecked(PASSWORD).unwrap();
        let rest = stored.strip_prefix("$bcrypt-sha256$v=2,t=2b,r=4$").unwrap();
        let (salt, checksum) = rest.split_once('$').unwrap();
        assert_eq!(salt.len(), 22);
        assert_eq!(checksum.len(), 31);
        // passlib refuses salts whose last character carries stray bits.
        assert!(salt.ends_with(['.', 'O', 'e', 'u']), "{salt}");
        let bcrypt64 = |s: &str| {
            s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"./".contains(&b))
        };
        assert!(bcrypt64(salt) && bcrypt64(checksum));
    }

    #[test]
    fn bytes_after_the_72nd_still_count() {
        let base = "p".repeat(72);
        let stored = hasher().hash_unchecked(&format!("{base}-first")).unwrap();
        assert!(hasher().verify(&format!("{base}-first"), &stored).unwrap());
        assert!(!hasher().verify(&format!("{base}-other"), &stored).unwrap());
        assert!(!hasher().verify(&base, &stored).unwrap());
        // Also at the boundary itself: 72 versus 73 bytes, and multi-byte characters.
        let at_72 = hasher().hash_unchecked(&base).unwrap();
        assert!(!hasher().verify(&format!("{base}p"), &at_72).unwrap());
        let cjk = "山".repeat(24); // 72 bytes
        let stored = hasher().hash_unchecked(&format!("{cjk}田")).unwrap();
        assert!(!hasher().verify(&format!("{cjk}川"), &stored).unwrap());
    }

    #[test]
    fn plain_bcrypt_reads_only_72_bytes_which_is_why_imports_are_rehashed() {
        let base = "p".repeat(72);
        let stored = bcrypt::hash(format!("{base}-first"), COST).unwrap();
        assert!(hasher().verify(&format!("{base}-other"), &stored).unwrap());
        assert!(hasher().needs_rehash(&stored));
    }

    #[test]
    fn verifies_huge_and_odd_candidates_without_error() {
        let stored = hasher().hash_unchecked(PASSWORD).unwrap();
        for candidate in ["", "\0", &"a".repeat(1 << 20), "\u{FFFD}", "$2b$04$"] {
            assert!(!hasher().verify(candidate, &stored).unwrap());
        }
        let with_nul = hasher().hash_unchecked("before\0after").unwrap();
        assert!(hasher().verify("before\0after", &with_nul).unwrap());
        assert!(!hasher().verify("before", &with_nul).unwrap());
    }

    #[test]
    fn refuses_unknown_and_malformed_hashes_without_panicking() {
        let good = hasher().hash_unchecked(PASSWORD).unwrap();
        let (prefix, checksum) = good.rsplit_once('$').unwrap();
        let bad = [
            String::new(),
            "plaintext".into(),
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".into(),
            "pbkdf2:sha256:600000$salt$0123456789abcdef".into(),
            "$2x$04$ocf8woFD9eBaYopag8/c9OdMQVfmU9fC8T22Oqb8TaalS4DYb6OL2".into(),
            "$2$04$ocf8woFD9eBaYopag8/c9OdMQVfmU9fC8T22Oqb8TaalS4DYb6OL2".into(),
            "$2b$03$ocf8woFD9eBaYopag8/c9OdMQVfmU9fC8T22Oqb8TaalS4DYb6OL2".into(),
            "$2b$32$ocf8woFD9eBaYopag8/c9OdMQVfmU9fC8T22Oqb8TaalS4DYb6OL2".into(),
            "$2b$4$ocf8woFD9eBaYopag8/c9OdMQVfmU9fC8T22Oqb8TaalS4DYb6OL2".into(),
            "$2b$04$ocf8woFD9eBaYopag8/c9OdMQVfmU9fC8T22Oqb8TaalS4DYb6OL".into(),
            "$2b$04$ocf8woFD9eBaYopag8/c9OdMQVfmU9fC8T22Oqb8TaalS4DYb6OL22".into(),
            "$2b$04$ocf8woFD9eBaYopag8/c9OdMQVfmU9fC8T22Oqb8TaalS4DYb6€".into(),
            "$2b$04$ocf8woFD9eBaYopag8/c9OdMQVfmU9fC8T22Oqb8TaalS4DYb6O+2".into(),
            format!("{prefix}$"),
            format!("{prefix}${checksum}$"),
            format!("{prefix}${}", &checksum[1..]),
            format!("{prefix}${checksum}x"),
            format!("{prefix}$€{}", &checksum[3..]),
            good.replace("r=4$", "r=04$"),
            good.replace("r=4$", "r=3$"),
            good.replace("r=4$", "r=$"),
            good.replace("r=4$", "r=+4$"),
            good.replace("v=2", "v=3"),
            good.replace("t=2b", "t=2a"),
            good.replace("$bcrypt-sha256$", "$bcrypt-sha512$"),
            good.to_uppercase(),
            format!(" {good}"),
            format!("{good}\n"),
        ];
        for stored in &bad {
            assert_eq!(
                hasher().verify(PASSWORD, stored),
                Err(HashError::UnknownFormat),
                "{stored}"
            );
            assert!(hasher().needs_rehash(stored), "{stored}");
        }
    }

    #[test]
    fn refuses_salts_with_stray_bits_like_passlib() {
        let good = hasher().hash_unchecked(PASSWORD).unwrap();
        let (head, checksum) = good.rsplit_once('$').unwrap();
        let (prefix, salt) = head.rsplit_once('$').unwrap();
        // Only ".Oeu" leave the last 4 bits clear; "P" is "O" plus one stray bit.
        let dirty = format!("{prefix}${}P${checksum}", &salt[..21]);
        assert_eq!(
            hasher().verify(PASSWORD, &dirty),
            Err(HashError::UnknownFormat)
        );
    }

    #[test]
    fn needs_rehash_when_the_cost_differs() {
        let stored = hasher().hash_unchecked(PASSWORD).unwrap();
        assert!(!PasswordHasher::new(4).needs_rehash(&stored));
        assert!(PasswordHasher::new(5).needs_rehash(&stored));
        let stronger = PasswordHasher::new(5).hash_unchecked(PASSWORD).unwrap();
        assert!(hasher().needs_rehash(&stronger));
        assert!(hasher().verify(PASSWORD, &stronger).unwrap());
    }

    #[test]
    fn clamps_or_refuses_costs_outside_4_to_31() {
        assert_eq!(PasswordHasher::new(0).cost(), 4);
        assert_eq!(PasswordHasher::new(3).cost(), 4);
        assert_eq!(PasswordHasher::new(31).cost(), 31);
        assert_eq!(PasswordHasher::new(u32::MAX).cost(), 31);
        assert_eq!(
            PasswordHasher::try_new(3).unwrap_err(),
            HashError::CostOutOfRange(3)
        );
        assert_eq!(
            PasswordHasher::try_new(32).unwrap_err(),
            HashError::CostOutOfRange(32)
        );
        assert_eq!(PasswordHasher::try_new(12).unwrap().cost(), 12);
    }

    #[test]
    fn dummy_hash_has_the_configured_cost_and_is_shared_by_clones() {
        let hasher = PasswordHasher::new(5);
        let clone = hasher.clone();
        assert!(hasher.dummy_hash.get().is_none(), "computed before use");
        clone.verify_dummy(PASSWORD);
        let dummy = hasher
            .dummy_hash
            .get()
            .expect("computed once, for all clones");
        assert!(dummy.starts_with("$bcrypt-sha256$v=2,t=2b,r=5$"), "{dummy}");
        assert!(
            !hasher.needs_rehash(dummy),
            "same format and cost as a real hash"
        );
        assert_eq!(hasher.verify("tessera dummy password", dummy), Ok(true));

        let fresh = PasswordHasher::new(4);
        fresh.warm_up();
        assert!(fresh.dummy_hash.get().is_some());
    }

    // passlib: sha512_crypt.using(rounds=1000, salt="saltstringsaltst").hash(PASSWORD), and
    // sha256_crypt likewise.
    const SHA512_CRYPT: &str = "$6$rounds=1000$saltstringsaltst$nXN191qkTCuB18FhSVNLEuVeo3vnUjKoWfZrZQq8zfAVWCF0OoM1/rKAVqSmNx5E4udezOEL78fROp070zqFZ.";
    const SHA256_CRYPT: &str =
        "$5$rounds=1000$saltstringsaltst$w7bWQ2Z/gtN581UKhVr4sVAsyzC6APuMGxRY0fR8Wg7";

    #[test]
    fn verifies_the_flask_tutorials_crypt_hashes_and_replaces_them() {
        for stored in [SHA512_CRYPT, SHA256_CRYPT] {
            assert_eq!(hasher().verify(PASSWORD, stored), Ok(true), "{stored}");
            assert_eq!(
                hasher().verify("Correct horse battery staple", stored),
                Ok(false)
            );
            assert!(hasher().needs_rehash(stored), "{stored}");
        }
        assert_eq!(
            hasher().verify(PASSWORD, &SHA512_CRYPT.replace("rounds=1000", "rounds=999")),
            Err(HashError::UnknownFormat)
        );
    }

    #[test]
    fn names_the_scheme_of_every_supported_format_without_verifying() {
        let v2 = hasher().hash_unchecked(PASSWORD).unwrap();
        let cases = [
            (v2.as_str(), HashScheme::BcryptSha256),
            (
                "$2b$04$ocf8woFD9eBaYopag8/c9OdMQVfmU9fC8T22Oqb8TaalS4DYb6OL2",
                HashScheme::Bcrypt,
            ),
            (SHA512_CRYPT, HashScheme::Sha512Crypt),
            (SHA256_CRYPT, HashScheme::Sha256Crypt),
        ];
        for (stored, scheme) in cases {
            assert_eq!(hasher().scheme(stored), Ok(scheme), "{stored}");
        }
        assert!(HashScheme::Sha512Crypt.is_crypt() && !HashScheme::Bcrypt.is_crypt());
        for unknown in [
            "",
            "plaintext",
            "$1$salt$abc",
            "pbkdf2:sha256:1$s$h",
            "$6$x",
        ] {
            assert_eq!(
                hasher().scheme(unknown),
                Err(HashError::UnknownFormat),
                "{unknown}"
            );
        }
    }

    #[test]
    fn dummy_work_like_a_sample_never_panics_on_anything() {
        let v2 = hasher().hash_unchecked(PASSWORD).unwrap();
        for sample in [
            SHA512_CRYPT,
            SHA256_CRYPT,
            v2.as_str(),
            "",
            "$6$",
            "garbage",
        ] {
            hasher().verify_dummy_like(PASSWORD, sample);
        }
    }

    #[test]
    fn debug_shows_the_cost_only() {
        let hasher = hasher();
        hasher.warm_up();
        assert_eq!(format!("{hasher:?}"), "PasswordHasher { cost: 4, .. }");
    }

    proptest! {
        #[test]
        fn verify_never_panics_on_arbitrary_stored_values(
            candidate in any::<String>(),
            stored in any::<String>(),
        ) {
            let _ = hasher().verify(&candidate, &stored);
            let _ = hasher().needs_rehash(&stored);
        }

        #[test]
        fn verify_never_panics_on_near_miss_hashes(
            prefix in prop::sample::select(vec![
                "$bcrypt-sha256$v=2,t=2b,r=4$", "$bcrypt-sha256$2b,4$", "$2b$04$", "$2y$05$",
            ]),
            tail in "[./A-Za-z0-9$€]{0,60}",
        ) {
            let stored = format!("{prefix}{tail}");
            let result = hasher().verify(PASSWORD, &stored);
            prop_assert!(result == Ok(false) || result == Err(HashError::UnknownFormat));
        }
    }
}
