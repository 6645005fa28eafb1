//! Integration tests of the public API; one binary, one module per concern.

// clippy's allow-unwrap-in-tests covers `#[test]` functions but not the helpers
// they share; a failing helper is a failing test all the same.
#![allow(clippy::unwrap_used)]

mod algorithms;
mod hostile;
mod interop;
mod jwk;
mod legacy;
mod properties;
mod rotation;
mod support;
