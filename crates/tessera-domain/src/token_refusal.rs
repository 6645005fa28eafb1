//! Why a presented token is refused: its own module, so the domain's `Error` can carry it
//! without depending on the token check.

use tessera_token::ErrorKind;

/// Which kind of token was presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenFormat {
    /// A Tessera JWT.
    Jwt,
    /// The Flask tutorial's itsdangerous token.
    Legacy,
}

impl TokenFormat {
    /// `"jwt"` or `"legacy"`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenFormat::Jwt => "jwt",
            TokenFormat::Legacy => "legacy",
        }
    }
}

/// Why a token is refused. The messages are for the client; [`TokenRefusal::code`] is a
/// stable name for scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefusal {
    /// The signature, algorithm, format or time claims are wrong.
    #[error("{}", describe_kind(*.1))]
    Rejected(TokenFormat, ErrorKind),
    /// A JWT without a session id: Tessera issues none.
    #[error("the token names no session")]
    NoSession,
    /// `sub` (or a legacy `id`) is not a canonical user id.
    #[error("the token names no user")]
    NoUser,
    /// The token's session was ended.
    #[error("the session has ended")]
    SessionEnded,
    /// The user was deleted.
    #[error("the token's user no longer exists")]
    UserGone,
    /// A session-less token issued before the user's last password change or sign-out.
    #[error("the token was revoked")]
    Superseded,
    /// The token names another issuer (`iss`).
    #[error("the token was issued by someone else")]
    WrongIssuer,
    /// The token is for other audiences (`aud`).
    #[error("the token is not meant for this service")]
    WrongAudience,
    /// A service client's token where a user's is needed.
    #[error("the token is a service client's, not a user's")]
    ClientToken,
}

impl TokenRefusal {
    /// A stable snake_case name: the token library's kind, or this refusal's own.
    pub fn code(self) -> &'static str {
        match self {
            TokenRefusal::Rejected(_, kind) => kind.as_str(),
            TokenRefusal::NoSession => "no_session",
            TokenRefusal::NoUser => "no_user",
            TokenRefusal::SessionEnded => "session_ended",
            TokenRefusal::UserGone => "user_gone",
            TokenRefusal::Superseded => "revoked",
            TokenRefusal::WrongIssuer => "wrong_issuer",
            TokenRefusal::WrongAudience => "wrong_audience",
            TokenRefusal::ClientToken => "client_token",
        }
    }
}

fn describe_kind(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Expired => "the token has expired",
        ErrorKind::NotYetValid => "the token is not valid yet",
        ErrorKind::Malformed => "the token is malformed",
        ErrorKind::UnsupportedAlgorithm => "the token's algorithm is not accepted",
        ErrorKind::UnknownKey | ErrorKind::BadSignature => "the token's signature is invalid",
        #[allow(unreachable_patterns)]
        _ => "the token is not valid",
    }
}
