use chrono::{DateTime, Utc};

use crate::hash_error::HashError;
use crate::store_error::StoreError;
use crate::token_refusal::TokenRefusal;
use crate::{PasswordError, UsernameError};

/// Everything a domain operation can fail with. The HTTP layer maps each variant to exactly
/// one status; internal causes are kept for the log, never shown to clients.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The username breaks the policy.
    #[error(transparent)]
    InvalidUsername(#[from] UsernameError),
    /// The new password breaks the policy.
    #[error(transparent)]
    InvalidPassword(#[from] PasswordError),
    /// Another account already has this username (compared regardless of case).
    #[error("this username is already taken")]
    UsernameTaken,
    /// Unknown user or wrong password: deliberately one variant.
    #[error("invalid username or password")]
    InvalidCredentials,
    /// The password given to confirm a change (password change, account deletion) is
    /// wrong.
    #[error("the password is wrong")]
    WrongPassword,
    /// Too many attempts on this account or from this address; try again after this long.
    #[error("too many attempts; try again later")]
    TooManyAttempts(chrono::Duration),
    /// A presented access token is refused.
    #[error(transparent)]
    InvalidToken(#[from] TokenRefusal),
    /// A refresh token that is unknown, spent, expired or of an ended session.
    #[error("the refresh token is not valid; sign in again")]
    InvalidRefreshToken,
    /// The user does not exist (any more).
    #[error("no such user")]
    UserNotFound,
    /// No such session of this user.
    #[error("no such session")]
    SessionNotFound,
    /// A service client's id and secret do not match a client: deliberately one variant.
    #[error("client authentication failed")]
    InvalidClient,
    /// No service client has this id.
    #[error("no such client")]
    ClientNotFound,
    /// A setting breaks the rules (a service client's name, audience or scope; a forward-auth
    /// domain or rule); the message says which.
    #[error("{0}")]
    InvalidSetting(String),
    /// A scope asked for that the client may not have.
    #[error("the client may not ask for scope {0:?}")]
    InvalidScope(String),
    /// A token that revocation does not end: a service client's own access token, which
    /// has no session and lives only minutes.
    #[error("this kind of token cannot be revoked; it expires on its own")]
    UnsupportedTokenType,
    /// The store cannot be reached; the request may succeed later.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// A signing-key rotation by hand that would hurt verifiers, or has nothing to rotate.
    #[error(transparent)]
    RotationRefused(#[from] RotationRefusal),
    /// A bug or an unexpected state; the message is for the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::UsernameTaken => Error::UsernameTaken,
            StoreError::Unavailable(cause) => Error::Unavailable(cause),
            StoreError::Internal(cause) => Error::Internal(cause),
        }
    }
}

impl From<HashError> for Error {
    fn from(error: HashError) -> Self {
        Error::Internal(error.to_string())
    }
}

/// Why a rotation by hand was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RotationRefusal {
    /// HS256 keys come from the configuration.
    #[error(
        "the signing algorithm is HS256: its keys come from the configuration \
         (rotate them with secret_keys); set TESSERA_SIGNING_ALG=EdDSA or ES256 for keys \
         Tessera rotates"
    )]
    Symmetric,
    /// The next key has not been published long enough.
    #[error(
        "the next key {kid} was published at {published}; verifiers may not have fetched it \
         until {ready} (the JWKS cache lifetime). Rotate then, or use --force and accept that \
         verifiers caching the JWKS may briefly meet an unknown key"
    )]
    NextTooNew {
        /// The next key.
        kid: String,
        /// When it was published.
        published: DateTime<Utc>,
        /// When it may sign.
        ready: DateTime<Utc>,
    },
    /// Another process rotated at the same moment.
    #[error("another process rotated the keys at the same moment; run `tessera keys list`")]
    Lost,
}
