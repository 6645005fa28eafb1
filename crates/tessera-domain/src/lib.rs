//! Tessera's domain: the use cases every entry point calls ([`Auth`]), and the rules they
//! apply — who a user is, what a valid username and password are, how passwords are hashed,
//! sessions and their revocation, rate limits, which tokens are good — with the repository
//! traits the store implements.
//!
//! Nothing here knows about HTTP or SQL. Every function is synchronous; callers decide on
//! which thread pool password hashing and storage run.

mod accounts;
mod auth;
mod clients;
mod error;
mod forward_auth;
mod hash_error;
mod hash_work;
mod hashing;
mod ids;
mod import;
mod legacy_hash;
mod limits;
mod password;
mod random;
mod repository;
mod session;
mod session_keys;
mod session_origin;
mod signing_keys;
mod store_error;
mod throttle;
mod token_refusal;
mod tokens;
mod user_cache;
mod username;

pub use accounts::Accounts;
pub use auth::{
    ActiveToken, Auth, Authenticated, ClientGrant, Credential, SessionKind, SignedIn, TokenCheck,
    TokenInspection,
};
pub use clients::{
    ClientCredentials, ClientRepository, ClientSecret, Clients, ServiceClient, StoredClient,
};
pub use error::{Error, RotationRefusal};
pub use forward_auth::{ForwardAuthPolicy, ForwardDecision, HostPattern, HostRule};
pub use hash_error::HashError;
pub use hash_work::HashWorkCount;
pub use hashing::{HashScheme, PasswordHasher};
pub use ids::{SessionId, UserId};
pub use import::{ImportRecord, ImportReport, Imported, RejectReason, Rejected, Skipped};
pub use limits::Limits;
pub use password::{Password, PasswordError};
pub use random::random_token;
pub use repository::{ImportOutcome, ImportedUser, NewUser, User, UserRepository};
pub use session::{
    DEFAULT_MAX_SESSIONS_PER_USER, DEFAULT_REFRESH_REUSE_INTERVAL_SECONDS, RefreshRefusal,
    RefreshToken, RevokedSessions, Session, SessionPolicy, SessionRepository, Sessions,
    StoredSession,
};
pub use session_keys::SessionKeys;
pub use session_origin::{Client, SessionOrigin};
pub use signing_keys::{
    KeyPolicy, KeyState, Rotation, SigningKeyInfo, SigningKeyRepository, SigningKeys,
    StoredSigningKey,
};
pub use store_error::StoreError;
pub use throttle::{Limit, Throttle, ThrottleRepository, ThrottleState, Verdict};
pub use token_refusal::{TokenFormat, TokenRefusal};
pub use tokens::{IssuerAndAudience, TokenIssuer, TokenSource, VerifiedToken};
pub use user_cache::UserCache;
pub use username::{Username, UsernameError};
