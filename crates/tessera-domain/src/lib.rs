//! Tessera's domain: who a user is, what a valid username and password are, how passwords
//! are hashed, and what the store must be able to do (the repository traits).
//!
//! Nothing here knows about HTTP or SQL. Every function is synchronous; callers decide on
//! which thread pool password hashing and storage run.

mod accounts;
mod error;
mod hashing;
mod import;
mod legacy_hash;
mod password;
mod repository;
mod session;
mod throttle;
mod username;

pub use accounts::Accounts;
pub use error::Error;
pub use hashing::{HashError, HashScheme, PasswordHasher};
pub use import::{ImportRecord, ImportReport, Imported, RejectReason, Rejected, Skipped};
pub use password::{Password, PasswordError};
pub use repository::{
    ImportOutcome, ImportedUser, NewUser, StoreError, User, UserId, UserRepository,
};
pub use session::{
    RefreshRefusal, RefreshToken, RevokedSessions, Session, SessionId, SessionPolicy,
    SessionRepository, Sessions, StoredSession,
};
pub use throttle::{Limit, Throttle, ThrottleRepository, ThrottleState, Verdict};
pub use username::{Username, UsernameError};
