//! The one source of random identifiers and secrets: session ids, refresh secrets, token ids.

use base64::Engine;

use crate::Error;

/// `N` random bytes from the operating system, URL-safe base64 without padding. Fails,
/// rather than panicking or handing out a predictable value, when the OS has no entropy.
pub fn random_token<const N: usize>() -> Result<String, Error> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Internal(format!("no randomness from the OS: {e}")))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The hex SHA-256 under which a random secret (a refresh or client secret) is stored. The
/// secrets carry 256 random bits, so a fast hash suffices: nothing can be guessed from it.
pub(crate) fn secret_digest(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_url_safe_sized_and_distinct() {
        let a = random_token::<16>().unwrap();
        let b = random_token::<16>().unwrap();
        assert_eq!(a.len(), 22);
        assert_ne!(a, b);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_ne!(a, "A".repeat(22), "not all zeros");
    }
}
