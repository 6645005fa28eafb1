#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod claims;
mod compact;
mod error;
mod keys;
pub mod legacy;
mod strict_json;

pub use claims::Claims;
pub use compact::{MAX_TOKEN_LEN, decode_unverified};
pub use error::{Error, ErrorKind};
pub use keys::{Key, KeySet, Secret};
