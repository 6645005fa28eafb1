//! Browser tests: the real `tessera` binary serving the real web bundle (`web/dist`, built
//! by `make web`) in headless Chromium, driven over WebDriver as a person would use it.
//! Each test has its own server, SQLite database, chromedriver and browser profile.
//!
//! Without the bundle or Chromium these tests fail when `CI` is set and are skipped (with a
//! message) otherwise. Screenshots land in `target/e2e/`; without axe-core
//! (`scripts/install-deps.sh test`) the accessibility checks do the same.

mod harness;

mod accessibility;
mod account_pages;
mod accounts;
mod forward_auth;
mod navigation;
mod password;
mod refresh;
mod session;
mod sign_out;
