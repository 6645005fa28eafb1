//! The ids that name users and sessions, in tokens and in the store.

/// A user's stable numeric id; the `sub` claim of their tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub i64);

impl UserId {
    /// The id a token's `sub` names: a positive decimal without sign or leading zeros, so
    /// one user has exactly one spelling (`"01"` names nobody).
    pub fn from_claim(sub: &str) -> Option<UserId> {
        let canonical =
            !sub.is_empty() && !sub.starts_with('0') && sub.bytes().all(|b| b.is_ascii_digit());
        if !canonical {
            return None;
        }
        sub.parse().ok().map(UserId)
    }
}

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A session's id: 128 random bits, URL-safe base64. Also the `sid` claim of its tokens.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub String);

impl std::fmt::Display for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
