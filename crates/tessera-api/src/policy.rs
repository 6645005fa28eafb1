//! The account policy's numbers, defined once: the server's `Username` and `Password`
//! types, the bcrypt configuration, the DTOs' OpenAPI schema and the web app's form checks
//! all read them from here.

/// Longest username, in characters after NFC normalisation (the tutorial's `String(32)`).
pub const USERNAME_MAX_CHARS: usize = 32;

/// Shortest new password, in characters.
pub const PASSWORD_MIN_CHARS: usize = 8;

/// Longest password, in characters: new ones, and every candidate checked at sign-in.
/// Far above any passphrase, and low enough that hashing and checking stay cheap.
pub const PASSWORD_MAX_CHARS: usize = 1024;

/// Longest password in bytes of UTF-8 (1,024 characters of at most 4 bytes). A candidate
/// over this bound is refused before anything is hashed.
pub const PASSWORD_MAX_BYTES: usize = 4 * PASSWORD_MAX_CHARS;

/// Lowest accepted bcrypt cost (2⁴ rounds): for tests only.
pub const BCRYPT_MIN_COST: u32 = 4;

/// Highest accepted bcrypt cost (2³¹ rounds).
pub const BCRYPT_MAX_COST: u32 = 31;

/// Longest `User-Agent` a session keeps, in characters: enough to tell browsers and
/// devices apart, and a bound on what a hostile client can make the store hold.
pub const USER_AGENT_MAX_CHARS: usize = 256;

/// Longest forgotten-password note an operator may configure, in characters.
pub const FORGOT_PASSWORD_NOTE_MAX_CHARS: usize = 1000;
