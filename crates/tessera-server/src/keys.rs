//! The token signing key: from configuration, or in development generated once and kept
//! in the data directory so tokens survive restarts.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use sha2::{Digest, Sha256};
use tessera_token::{Key, KeySet, Secret};

use crate::config::{Config, Environment};

/// Shortest signing secret accepted, in bytes (RFC 7518 section 3.2 for HS256), in every
/// environment: a short HMAC key is a guessable one, and development databases get copied.
pub const MIN_SECRET_BYTES: usize = 32;

/// Why no key set could be made. Messages name where a secret came from, never the secret.
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
    #[error(
        "the signing secret from {origin} is {len} bytes; at least {MIN_SECRET_BYTES} are \
         required (`tessera keygen` makes one)"
    )]
    TooShort {
        /// Where the secret came from: the setting and, for a file, its path.
        origin: String,
        /// Its length in bytes.
        len: usize,
    },
    /// The kept development secret is an empty file.
    #[error(
        "the development signing secret {path} is empty (a first start interrupted by a full \
         disk, or an editor, can leave it so) and is not used as a key: delete it to have a \
         new one generated, or configure TESSERA_SECRET_KEY_FILE"
    )]
    EmptyFile {
        /// The file.
        path: String,
    },
    /// `secret_keys` is not a list of `ID:SECRET` entries.
    #[error(
        "secret_keys must be ID:SECRET entries separated by commas or newlines, ids of letters, \
         digits, - and _, each id once: {0}"
    )]
    BadKeyList(String),
    /// The key file cannot be read or written. The I/O error is part of the message, not a
    /// `source()`, so an error chain printed with `{:#}` says it once.
    #[error("secret key file {path}: {error}")]
    File {
        /// The file.
        path: String,
        /// What went wrong.
        error: std::io::Error,
    },
    /// The operating system gave no randomness for a new secret.
    #[error("cannot generate a secret: {0}")]
    NoRandomness(String),
}

/// The key set tokens are signed and verified with: `secret_keys` when configured (the
/// first signs, all verify), else the single `secret_key`.
pub fn key_set(config: &Config) -> Result<KeySet, KeyError> {
    key_set_and_ids(config).map(|(keys, _)| keys)
}

/// [`key_set`] and the ids of its keys, the signing key first: what the start-up log shows
/// (ids are fingerprints or operator-chosen names, never secrets).
pub fn key_set_and_ids(config: &Config) -> Result<(KeySet, Vec<String>), KeyError> {
    if let Some((keys, origin)) = configured_keys(config)? {
        return key_list(&keys, &origin);
    }
    let (secret, origin) = match configured_secret(config)? {
        Some(configured) => configured,
        None if config.env == Environment::Production => return Err(KeyError::Missing),
        None => development_secret(&config.data_dir)?,
    };
    check_length(&secret, &origin)?;
    let key_id = key_id(&secret);
    Ok((
        KeySet::new(Key::new(key_id.clone(), Secret::new(secret))),
        vec![key_id],
    ))
}

fn check_length(secret: &[u8], origin: &str) -> Result<(), KeyError> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(KeyError::TooShort {
            origin: origin.to_owned(),
            len: secret.len(),
        });
    }
    Ok(())
}

/// The configured single secret and where it came from.
fn configured_secret(config: &Config) -> Result<Option<(Vec<u8>, String)>, KeyError> {
    if let Some(path) = &config.secret_key_file {
        let contents = std::fs::read(path).map_err(|error| KeyError::File {
            path: path.display().to_string(),
            error,
        })?;
        // Editors add a trailing newline; it is never part of the secret.
        let trimmed = contents.strip_suffix(b"\n").unwrap_or(&contents);
        let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
        let origin = format!(
            "secret_key_file (TESSERA_SECRET_KEY_FILE) {}",
            path.display()
        );
        return Ok(Some((trimmed.to_vec(), origin)));
    }
    Ok(config.secret_key.as_ref().map(|s| {
        (
            s.expose().as_bytes().to_vec(),
            "secret_key (TESSERA_SECRET_KEY)".to_owned(),
        )
    }))
}

/// The configured key list and where it came from.
fn configured_keys(config: &Config) -> Result<Option<(String, String)>, KeyError> {
    if let Some(path) = &config.secret_keys_file {
        return std::fs::read_to_string(path)
            .map(|keys| {
                let origin = format!(
                    "secret_keys_file (TESSERA_SECRET_KEYS_FILE) {}",
                    path.display()
                );
                Some((keys, origin))
            })
            .map_err(|error| KeyError::File {
                path: path.display().to_string(),
                error,
            });
    }
    Ok(config.secret_keys.as_ref().map(|keys| {
        (
            keys.expose().to_owned(),
            "secret_keys (TESSERA_SECRET_KEYS)".to_owned(),
        )
    }))
}

/// Parses `ID:SECRET` entries (commas or newlines between them); the first signs.
fn key_list(entries: &str, origin: &str) -> Result<(KeySet, Vec<String>), KeyError> {
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
        check_length(secret.as_bytes(), &format!("key {id:?} of {origin}"))?;
        keys.push(Key::new(id, Secret::new(secret.as_bytes().to_vec())));
    }
    let ids = keys.iter().map(|key| key.id().to_owned()).collect();
    let mut keys = keys.into_iter();
    let first = keys
        .next()
        .ok_or_else(|| KeyError::BadKeyList("no keys".to_owned()))?;
    Ok((
        keys.fold(KeySet::new(first), KeySet::with_verification_key),
        ids,
    ))
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

/// The development secret kept in `<data_dir>/secret.key`, generated on first use, and
/// where it came from.
///
/// The file appears whole or not at all: the secret is written to a temporary file in the
/// same directory (mode 0600), flushed to disk, then linked into place, and the directory
/// is flushed too. A start that fails part-way (a full disk) leaves at most the temporary
/// file, never an empty or truncated `secret.key`. An empty `secret.key` (left by an older
/// version, or by hand) is refused rather than replaced: whether tokens were ever signed
/// with whatever it held is the operator's call, not ours.
fn development_secret(data_dir: &Path) -> Result<(Vec<u8>, String), KeyError> {
    let path = data_dir.join("secret.key");
    let file_error = |error| KeyError::File {
        path: path.display().to_string(),
        error,
    };
    match read_development_secret(&path) {
        Ok(found) => return found,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(file_error(e)),
    }
    let mut directory = std::fs::DirBuilder::new();
    directory.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut directory, 0o700);
    directory.create(data_dir).map_err(file_error)?;
    let secret = generate_secret()?;
    let suffix =
        tessera_domain::random_token::<9>().map_err(|e| KeyError::NoRandomness(e.to_string()))?;
    let temporary = data_dir.join(format!(".secret.key.{suffix}.tmp"));
    let published = write_whole(&temporary, secret.as_bytes()).and_then(|()| {
        let published = publish(&temporary, &path);
        // Once linked, the temporary name is a second name of the same file.
        let removed = std::fs::remove_file(&temporary);
        let published = published?;
        removed.or_else(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Ok(()),
            _ => Err(e),
        })?;
        std::fs::File::open(data_dir)?.sync_all()?;
        Ok(published)
    });
    match published {
        Ok(true) => {
            tracing::info!(path = %path.display(), "generated a development signing secret");
            Ok((secret.into_bytes(), origin_of(&path)))
        }
        // Another process created it first: use theirs, so both sign alike.
        Ok(false) => read_development_secret(&path).map_err(file_error)?,
        Err(e) => {
            let _ = std::fs::remove_file(&temporary);
            Err(file_error(e))
        }
    }
}

fn origin_of(path: &Path) -> String {
    format!("the development secret file {}", path.display())
}

/// The kept development secret, refused when empty; an I/O error as it is.
fn read_development_secret(path: &Path) -> std::io::Result<Result<(Vec<u8>, String), KeyError>> {
    let contents = std::fs::read(path)?;
    if contents.is_empty() {
        return Ok(Err(KeyError::EmptyFile {
            path: path.display().to_string(),
        }));
    }
    Ok(Ok((contents, origin_of(path))))
}

/// Creates `path` (mode 0600, never an existing file) holding `contents`, on disk.
fn write_whole(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Gives the finished `temporary` file its final name unless `path` exists: `false` when
/// another process got there first. A hard link, unlike `rename`, never replaces an
/// existing file, so two processes starting at once end up with one secret. On file
/// systems without hard links, `rename` after a check (a narrow race, development only).
fn publish(temporary: &Path, path: &Path) -> std::io::Result<bool> {
    match std::fs::hard_link(temporary, path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(_) if path.exists() => Ok(false),
        Err(_) => std::fs::rename(temporary, path).map(|()| true),
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
        let kept = std::fs::read(dir.path().join("secret.key")).unwrap();
        assert!(kept.len() >= MIN_SECRET_BYTES, "{} bytes", kept.len());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["secret.key"], "no temporary file is left behind");
    }

    #[test]
    fn an_empty_kept_secret_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        std::fs::write(&path, "").unwrap();
        let error = key_set(&config_in(dir.path())).unwrap_err();
        assert!(matches!(error, KeyError::EmptyFile { .. }), "{error}");
        let message = error.to_string();
        assert!(
            message.contains(&path.display().to_string()) && message.contains("empty"),
            "{message}"
        );
        assert!(std::fs::read(&path).unwrap().is_empty(), "not replaced");
    }

    #[test]
    fn development_refuses_short_secrets_too() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = config_in(dir.path());
        config.secret_key = Some(SecretString::new("abc"));
        let error = key_set(&config).unwrap_err();
        assert!(
            matches!(error, KeyError::TooShort { len: 3, .. }),
            "{error}"
        );
        let message = error.to_string();
        assert!(message.contains("TESSERA_SECRET_KEY"), "{message}");
        assert!(!message.contains("abc"), "never the secret: {message}");

        let file = dir.path().join("short.key");
        std::fs::write(&file, "abcdef\n").unwrap();
        config.secret_key_file = Some(file.clone());
        let message = key_set(&config).unwrap_err().to_string();
        assert!(
            message.contains("TESSERA_SECRET_KEY_FILE")
                && message.contains(&file.display().to_string())
                && message.contains("6 bytes"),
            "{message}"
        );

        // A hand-written development secret file is held to the same length.
        let kept = tempfile::tempdir().unwrap();
        std::fs::write(kept.path().join("secret.key"), "short").unwrap();
        let message = key_set(&config_in(kept.path())).unwrap_err().to_string();
        assert!(message.contains("secret.key"), "{message}");

        let listed = Config {
            secret_keys: Some(SecretString::new("k1:abc")),
            ..config_in(dir.path())
        };
        assert!(matches!(
            key_set(&listed),
            Err(KeyError::TooShort { len: 3, .. })
        ));
    }

    #[test]
    fn ids_name_every_key_and_never_a_secret() {
        let secret = "s".repeat(32);
        let config = Config {
            secret_keys: Some(SecretString::new(format!(
                "new:{secret},old:{}",
                "o".repeat(32)
            ))),
            ..Config::default()
        };
        let (_, ids) = key_set_and_ids(&config).unwrap();
        assert_eq!(ids, ["new", "old"]);
        let config = Config {
            secret_key: Some(SecretString::new(secret.clone())),
            ..Config::default()
        };
        let (keys, ids) = key_set_and_ids(&config).unwrap();
        assert_eq!(ids, [keys.signing_key_id().unwrap()]);
        assert!(!ids[0].contains(&secret[..8]));
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
        assert!(matches!(
            key_set(&config),
            Err(KeyError::TooShort { len: 9, .. })
        ));
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
        assert_eq!(rotated.signing_key_id(), Some("new"), "the first key signs");
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
        let error = key_set(&with_keys("short:abc")).unwrap_err();
        assert!(matches!(error, KeyError::TooShort { len: 3, .. }));
        let message = error.to_string();
        assert!(
            message.contains("\"short\"") && message.contains("TESSERA_SECRET_KEYS"),
            "names the key and the setting: {message}"
        );
        assert!(!message.contains("abc"), "never the secret: {message}");
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
        assert_eq!(keys.signing_key_id(), Some("new"));
        assert!(
            keys.verify(
                &token(&key_set(&with_keys(OLD)).unwrap()),
                chrono::Utc::now()
            )
            .is_ok()
        );
    }
}
