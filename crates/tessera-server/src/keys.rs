//! The token signing key: from configuration, or in development generated once and kept
//! in the data directory so tokens survive restarts.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use sha2::{Digest, Sha256};
use tessera_token::{Key, KeySet, Secret};

use crate::config::{Config, Environment};

/// Shortest secret accepted in production, in bytes (RFC 7518 section 3.2 for HS256).
pub const MIN_SECRET_BYTES: usize = 32;

/// Why no key set could be made.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Production without a configured secret.
    #[error(
        "TESSERA_ENV=production needs a signing secret: set TESSERA_SECRET_KEY, \
         TESSERA_SECRET_KEY_FILE or TESSERA_SECRET_KEYS (at least {MIN_SECRET_BYTES} bytes each; \
         `tessera keygen` makes one)"
    )]
    Missing,
    /// A secret that is too short to resist guessing.
    #[error("the signing secret is {0} bytes; at least {MIN_SECRET_BYTES} are required")]
    TooShort(usize),
    /// `secret_keys` is not a list of `ID:SECRET` entries.
    #[error(
        "secret_keys must be ID:SECRET entries separated by commas or newlines, ids of letters, \
         digits, - and _, each id once: {0}"
    )]
    BadKeyList(String),
    /// The key file cannot be read or written.
    #[error("secret key file {path}: {source}")]
    File {
        /// The file.
        path: String,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The operating system gave no randomness for a new secret.
    #[error("cannot generate a secret: {0}")]
    NoRandomness(String),
}

/// The key set tokens are signed and verified with: `secret_keys` when configured (the
/// first signs, all verify), else the single `secret_key`.
pub fn key_set(config: &Config) -> Result<KeySet, KeyError> {
    if let Some(keys) = configured_keys(config)? {
        return key_list(&keys, config.env);
    }
    let secret = match configured_secret(config)? {
        Some(secret) => secret,
        None if config.env == Environment::Production => return Err(KeyError::Missing),
        None => development_secret(&config.data_dir)?,
    };
    // Short secrets are refused everywhere except for a development-only convenience:
    // a developer may set any secret by hand outside production.
    if config.env == Environment::Production && secret.len() < MIN_SECRET_BYTES {
        return Err(KeyError::TooShort(secret.len()));
    }
    let key_id = key_id(&secret);
    Ok(KeySet::new(Key::new(key_id, Secret::new(secret))))
}

fn configured_secret(config: &Config) -> Result<Option<Vec<u8>>, KeyError> {
    if let Some(path) = &config.secret_key_file {
        let contents = std::fs::read(path).map_err(|source| KeyError::File {
            path: path.display().to_string(),
            source,
        })?;
        // Editors add a trailing newline; it is never part of the secret.
        let trimmed = contents.strip_suffix(b"\n").unwrap_or(&contents);
        let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
        return Ok(Some(trimmed.to_vec()));
    }
    Ok(config
        .secret_key
        .as_ref()
        .map(|s| s.expose().as_bytes().to_vec()))
}

fn configured_keys(config: &Config) -> Result<Option<String>, KeyError> {
    if let Some(path) = &config.secret_keys_file {
        return std::fs::read_to_string(path)
            .map(Some)
            .map_err(|source| KeyError::File {
                path: path.display().to_string(),
                source,
            });
    }
    Ok(config
        .secret_keys
        .as_ref()
        .map(|keys| keys.expose().to_owned()))
}

/// Parses `ID:SECRET` entries (commas or newlines between them); the first signs.
fn key_list(entries: &str, env: Environment) -> Result<KeySet, KeyError> {
    let mut keys = Vec::new();
    for entry in entries
        .split([',', '\n'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        let (id, secret) = entry
            .split_once(':')
            .ok_or_else(|| KeyError::BadKeyList("an entry has no ':'".to_owned()))?;
        let id_ok = !id.is_empty()
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b));
        if !id_ok || keys.iter().any(|key: &Key| key.id() == id) {
            return Err(KeyError::BadKeyList(format!("bad or repeated id {id:?}")));
        }
        if env == Environment::Production && secret.len() < MIN_SECRET_BYTES {
            return Err(KeyError::TooShort(secret.len()));
        }
        keys.push(Key::new(id, Secret::new(secret.as_bytes().to_vec())));
    }
    let mut keys = keys.into_iter();
    let first = keys
        .next()
        .ok_or_else(|| KeyError::BadKeyList("no keys".to_owned()))?;
    Ok(keys.fold(KeySet::new(first), KeySet::with_verification_key))
}

/// The key id: a short fingerprint, so a token signed with another secret is reported as
/// an unknown key rather than a forgery. 48 bits of SHA-256 reveal nothing usable.
fn key_id(secret: &[u8]) -> String {
    let digest = Sha256::new()
        .chain_update(b"tessera key id\0")
        .chain_update(secret)
        .finalize();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..6])
}

/// A fresh 256-bit secret, URL-safe base64.
pub fn generate_secret() -> Result<String, KeyError> {
    tessera_domain::random_token::<32>().map_err(|e| KeyError::NoRandomness(e.to_string()))
}

fn development_secret(data_dir: &Path) -> Result<Vec<u8>, KeyError> {
    let path = data_dir.join("secret.key");
    let file_error = |source| KeyError::File {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read(&path) {
        Ok(contents) => return Ok(contents),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(file_error(e)),
    }
    std::fs::create_dir_all(data_dir).map_err(file_error)?;
    let secret = generate_secret()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(&path) {
        Ok(mut file) => {
            file.write_all(secret.as_bytes()).map_err(file_error)?;
            tracing::info!(path = %path.display(), "generated a development signing secret");
            Ok(secret.into_bytes())
        }
        // Another process created it first: use theirs, so both sign alike.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::read(&path).map_err(file_error)
        }
        Err(e) => Err(file_error(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SecretString;

    fn config_in(dir: &Path) -> Config {
        Config {
            data_dir: dir.to_path_buf(),
            ..Config::default()
        }
    }

    #[test]
    fn development_generates_a_private_secret_once() {
        let dir = tempfile::tempdir().unwrap();
        let first = key_set(&config_in(dir.path())).unwrap();
        let second = key_set(&config_in(dir.path())).unwrap();
        let claims =
            tessera_token::Claims::new("1", "j", chrono::Utc::now(), chrono::Duration::minutes(1));
        let token = first.sign(&claims).unwrap();
        assert!(
            second.verify(&token, chrono::Utc::now()).is_ok(),
            "the kept secret is reused"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("secret.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn production_refuses_missing_and_short_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config {
            env: Environment::Production,
            ..config_in(dir.path())
        };
        assert!(matches!(key_set(&config), Err(KeyError::Missing)));
        assert!(
            !dir.path().join("secret.key").exists(),
            "production never generates one"
        );
        config.secret_key = Some(SecretString::new("too-short"));
        assert!(matches!(key_set(&config), Err(KeyError::TooShort(9))));
        config.secret_key = Some(SecretString::new("x".repeat(32)));
        assert!(key_set(&config).is_ok());
    }

    #[test]
    fn key_file_wins_and_its_newline_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("key");
        std::fs::write(&file, format!("{}\n", "k".repeat(40))).unwrap();
        let config = Config {
            env: Environment::Production,
            secret_key_file: Some(file),
            secret_key: Some(SecretString::new("ignored")),
            ..config_in(dir.path())
        };
        let from_file = key_set(&config).unwrap();
        let direct = KeySet::new(Key::new(key_id(&[b'k'; 40]), Secret::new(vec![b'k'; 40])));
        let claims =
            tessera_token::Claims::new("1", "j", chrono::Utc::now(), chrono::Duration::minutes(1));
        assert!(
            direct
                .verify(&from_file.sign(&claims).unwrap(), chrono::Utc::now())
                .is_ok()
        );
    }
}

#[cfg(test)]
mod rotation_tests {
    use super::*;
    use crate::config::SecretString;

    fn with_keys(keys: &str) -> Config {
        Config {
            env: Environment::Production,
            secret_keys: Some(SecretString::new(keys)),
            ..Config::default()
        }
    }

    fn token(keys: &KeySet) -> String {
        let claims =
            tessera_token::Claims::new("1", "j", chrono::Utc::now(), chrono::Duration::minutes(5));
        keys.sign(&claims).unwrap()
    }

    const OLD: &str = "old:0123456789abcdef0123456789abcdef";
    const NEW: &str = "new:fedcba9876543210fedcba9876543210";

    #[test]
    fn a_retired_key_verifies_until_it_is_removed() {
        let before = key_set(&with_keys(OLD)).unwrap();
        let old_token = token(&before);
        let rotated = key_set(&with_keys(&format!("{NEW},{OLD}"))).unwrap();
        assert_eq!(rotated.signing_key_id(), "new", "the first key signs");
        assert!(
            rotated.verify(&old_token, chrono::Utc::now()).is_ok(),
            "the old key still verifies"
        );
        let new_token = token(&rotated);
        assert!(before.verify(&new_token, chrono::Utc::now()).is_err());
        let after = key_set(&with_keys(NEW)).unwrap();
        let error = after.verify(&old_token, chrono::Utc::now()).unwrap_err();
        assert_eq!(error.kind(), tessera_token::ErrorKind::UnknownKey);
        assert!(after.verify(&new_token, chrono::Utc::now()).is_ok());
    }

    #[test]
    fn bad_key_lists_are_refused_with_a_reason() {
        for bad in [
            "",
            "nocolon",
            "a:0123456789abcdef0123456789abcdef,a:0123456789abcdef0123456789abcdef",
            "b@d:0123456789abcdef0123456789abcdef",
        ] {
            assert!(
                matches!(key_set(&with_keys(bad)), Err(KeyError::BadKeyList(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            key_set(&with_keys("short:abc")),
            Err(KeyError::TooShort(3))
        ));
    }

    #[test]
    fn a_key_file_holds_one_entry_per_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        std::fs::write(&path, format!("{NEW}\n{OLD}\n")).unwrap();
        let config = Config {
            env: Environment::Production,
            secret_keys_file: Some(path),
            ..Config::default()
        };
        let keys = key_set(&config).unwrap();
        assert_eq!(keys.signing_key_id(), "new");
        assert!(
            keys.verify(
                &token(&key_set(&with_keys(OLD)).unwrap()),
                chrono::Utc::now()
            )
            .is_ok()
        );
    }
}
