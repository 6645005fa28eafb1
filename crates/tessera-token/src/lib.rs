#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod algorithm;
mod claims;
mod compact;
mod error;
mod jwk;
mod keys;
mod keyset;
pub mod legacy;
mod strict_json;

pub use algorithm::Algorithm;
pub use claims::{Audience, Claims};
pub use compact::{MAX_TOKEN_LEN, decode_unverified};
pub use error::{Error, ErrorKind};
pub use jwk::{Jwk, Jwks, MAX_JWKS_KEYS, MAX_JWKS_LEN};
pub use keys::{Key, Secret};
pub use keyset::KeySet;
