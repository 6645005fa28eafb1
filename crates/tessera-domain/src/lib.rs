//! Tessera's domain: who a user is, what a valid username and password are, how passwords
//! are hashed, and what the store must be able to do (the repository traits).
//!
//! Nothing here knows about HTTP or SQL. Every function is synchronous; callers decide on
//! which thread pool password hashing and storage run.

mod accounts;
mod error;
mod hashing;
mod password;
mod repository;
mod username;

pub use accounts::Accounts;
pub use error::Error;
pub use hashing::{HashError, PasswordHasher};
pub use password::{Password, PasswordError};
pub use repository::{NewUser, StoreError, User, UserId, UserRepository};
pub use username::{Username, UsernameError};
