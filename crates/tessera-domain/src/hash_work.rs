//! Counts of the hashing work done, so the timing defence can be seen to do its work.

use std::sync::atomic::{AtomicU64, Ordering};

/// How many bcrypt and SHA-crypt computations a hasher (and its clones) has run, real and
/// dummy alike: counted where the computation starts, so the timing defence can be seen to
/// do its work.
#[derive(Debug, Default)]
pub struct HashWork {
    bcrypt: AtomicU64,
    sha_crypt: AtomicU64,
}

/// How many bcrypt and SHA-crypt computations a hasher has run: see
/// [`crate::PasswordHasher::work`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HashWorkCount {
    /// bcrypt computations (any bcrypt-based scheme).
    pub bcrypt: u64,
    /// SHA-crypt computations (`$5$`, `$6$`).
    pub sha_crypt: u64,
}

impl HashWork {
    /// The counts so far.
    pub fn count(&self) -> HashWorkCount {
        HashWorkCount {
            bcrypt: self.bcrypt.load(Ordering::Relaxed),
            sha_crypt: self.sha_crypt.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn count_bcrypt(&self) {
        self.bcrypt.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_sha_crypt(&self) {
        self.sha_crypt.fetch_add(1, Ordering::Relaxed);
    }
}
