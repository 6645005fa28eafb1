//! The `tessera` binary's library: configuration, key loading, composition of the layers
//! and the command-line subcommands. `main.rs` only parses arguments and dispatches.

pub mod commands;
pub mod config;
pub mod import;
pub mod keys;
pub mod startup;

pub use config::Config;
pub use startup::Application;
