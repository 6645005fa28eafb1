//! Configuration, layered: built-in defaults → `tessera.toml` (optional) → `TESSERA_*`
//! environment variables and `DATABASE_URL` → command-line flags.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Data, Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Shortest legacy (Flask `SECRET_KEY`) secret accepted in production, in bytes: 128 bits
/// at best. Lower than the signing secret's 32 because it is an existing secret Tessera
/// cannot choose, but anyone who guesses it can mint a token for any user id.
pub const MIN_LEGACY_SECRET_BYTES: usize = 16;

/// Shortest key rotation period, seconds: a next key must be published a JWKS cache
/// lifetime and a revocation sync interval before it signs.
pub const MIN_KEY_ROTATION_SECONDS: f64 = 10.0;

/// The forgotten-password note of the Sign in page until an operator sets their own.
pub const DEFAULT_FORGOT_PASSWORD_NOTE: &str = "Tessera cannot email you a new password. Ask the \
     administrator of this service to set a new one for you.";

/// Where the server runs: development generates what is missing, production refuses to
/// start without it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// Convenient defaults: a generated secret kept in the data directory.
    #[default]
    Development,
    /// Strict: an explicit secret of at least 32 bytes is required, and a legacy secret,
    /// when set, must have at least [`MIN_LEGACY_SECRET_BYTES`].
    Production,
}

impl Environment {
    /// The name as configured: `development` or `production`.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Development => "development",
            Environment::Production => "production",
        }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// How access tokens are signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum SigningAlg {
    /// HMAC-SHA256 with the configured secret: only holders of the secret can verify.
    #[default]
    HS256,
    /// Ed25519 keys Tessera makes, rotates and publishes in its JWKS.
    EdDSA,
    /// P-256 ECDSA keys Tessera makes, rotates and publishes in its JWKS.
    ES256,
}

impl SigningAlg {
    /// The token library's algorithm.
    pub fn algorithm(self) -> tessera_token::Algorithm {
        match self {
            SigningAlg::HS256 => tessera_token::Algorithm::HS256,
            SigningAlg::EdDSA => tessera_token::Algorithm::EdDSA,
            SigningAlg::ES256 => tessera_token::Algorithm::ES256,
        }
    }
}

/// A secret string from configuration. Its `Debug` and `Serialize` never show it.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> SecretString {
        SecretString(secret.into())
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"<redacted>\"")
    }
}

impl Serialize for SecretString {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("<redacted>")
    }
}

/// The effective configuration. Field names are the `tessera.toml` keys; the environment
/// variable is the name upper-cased with the `TESSERA_` prefix.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// `development` or `production`.
    pub env: Environment,
    /// Address to listen on.
    pub bind: String,
    /// Directory for the SQLite database and the generated development secret.
    pub data_dir: PathBuf,
    /// `sqlite://PATH`, `postgres://…` or `mysql://…`; default SQLite in `data_dir`.
    /// Serialized (`tessera config`) with its password replaced by `***`.
    #[serde(serialize_with = "serialize_redacted_url")]
    pub database_url: Option<String>,
    /// Most open database connections.
    pub database_max_connections: u32,
    /// Seconds a request waits for the database before answering 503.
    pub database_timeout: u64,
    /// The token signing secret.
    pub secret_key: Option<SecretString>,
    /// A file holding the token signing secret (takes precedence over `secret_key`).
    pub secret_key_file: Option<PathBuf>,
    /// Several signing keys, `ID:SECRET` separated by commas: the first signs, all verify
    /// (rotation without signing anyone out). Wins over `secret_key`.
    pub secret_keys: Option<SecretString>,
    /// A file of `ID:SECRET` lines, as `secret_keys`; wins over it.
    pub secret_keys_file: Option<PathBuf>,
    /// The Flask tutorial's `SECRET_KEY`, as the raw string: while set, tokens its
    /// itsdangerous serializer minted are accepted until they expire (a migration bridge).
    pub legacy_secret_key: Option<SecretString>,
    /// A file holding the Flask `SECRET_KEY` (takes precedence over `legacy_secret_key`).
    pub legacy_secret_key_file: Option<PathBuf>,
    /// Longest lifetime (`exp − iat`) of an accepted Flask token, seconds: the longest
    /// `expires_in` the Flask app used (the tutorial's is 600, itsdangerous' default 3600).
    pub legacy_token_max_lifetime: u64,
    /// Access token lifetime, seconds (the tutorial used 600).
    pub token_ttl: u64,
    /// `HS256` (the configured secrets), `EdDSA` or `ES256` (keys Tessera makes, stores
    /// sealed, rotates and publishes at `/.well-known/jwks.json`).
    pub signing_alg: SigningAlg,
    /// Days an asymmetric key signs before it rotates on its own (fractions allowed); 0:
    /// only by hand (`tessera keys rotate`).
    pub key_rotation_days: f64,
    /// `iss` of every token and the OAuth metadata's issuer: an `https://` URL in
    /// production; in development, `http://` and the listening address by default.
    pub issuer: Option<String>,
    /// `aud` of every token, when set; tokens naming other audiences are refused.
    pub audience: Option<String>,
    /// Longest a sign-in session lasts, however often it is refreshed, seconds.
    pub session_lifetime: u64,
    /// A session whose refresh token is unused this long ends, seconds.
    pub session_idle_timeout: u64,
    /// Live sessions per user; a new sign-in past it ends the least recently used. 0: no cap.
    pub max_sessions_per_user: usize,
    /// Seconds after its rotation during which a refresh token presented again gets the
    /// session's current one (tabs refreshing at once, a retried request) instead of
    /// ending the session; 0 ends it on any reuse. At most 60.
    pub refresh_reuse_interval: u64,
    /// The session cookie's `Domain` (e.g. `example.com`), so that forward auth signs a
    /// browser in on every app under it; unset keeps the cookie to Tessera's own host.
    pub cookie_domain: Option<String>,
    /// Hosts forward auth guards and may send users back to after sign-in: comma-separated,
    /// `*.example.com` for every name under `example.com`. Empty: none.
    pub forward_auth_domains: String,
    /// Whether forward auth hands the upstream a 60-second access token (`Remote-Token`).
    pub forward_auth_token: bool,
    /// Per-host rules of forward auth (file only): `[[forward_auth_rules]]` with `host`
    /// (a pattern as in `forward_auth_domains`) and `users`, the only users let in.
    pub forward_auth_rules: Vec<ForwardAuthRule>,
    /// How often each process fetches sessions revoked by others, seconds: the bound on
    /// how long a revoked token keeps working on another process.
    pub revocation_sync_interval: u64,
    /// Consecutive failed sign-ins on one account before it is locked for a while (the lock
    /// grows with further failures, 15 minutes at most); 0 turns throttling off (benchmarks
    /// only). A client address may fail five times as often.
    pub login_max_failures: u32,
    /// Registrations per client address per hour; 0 turns the limit off.
    pub register_max_per_hour: u32,
    /// Addresses and CIDR networks of the reverse proxies in front: when the peer is one,
    /// the client is the rightmost `X-Forwarded-For` entry that is not. Empty (the default)
    /// believes no header.
    pub trusted_proxies: tessera_http::TrustedProxies,
    /// bcrypt cost for new password hashes (4–31).
    pub bcrypt_cost: u32,
    /// Password hashes computed at once; 0 means one per core.
    pub hashing_concurrency: usize,
    /// Browser origins allowed to call the API: comma-separated, or `*`; empty for none.
    pub cors_origins: String,
    /// Largest accepted JSON body, bytes.
    pub max_body_bytes: usize,
    /// Seconds the whole request body may take to arrive after the head (1–3600); later,
    /// the answer is 408 and the connection closes.
    pub request_body_timeout: u64,
    /// Most open connections from one client address (IPv4 address or IPv6 /64); more
    /// are closed at once. Trusted proxies are exempt; 0 turns the cap off.
    pub max_connections_per_address: usize,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// `text` or `json`.
    pub log_format: LogFormat,
    /// The built web app; served when it holds an `index.html`.
    pub web_dir: PathBuf,
    /// What the web app's Sign in page says under "Forgot your password?": plain text (shown
    /// as text, never as HTML), at most 1000 characters, no control characters (so no line
    /// breaks); empty shows no note.
    pub forgot_password_note: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            env: Environment::Development,
            bind: "127.0.0.1:8080".to_owned(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            database_max_connections: 8,
            database_timeout: 5,
            secret_key: None,
            secret_key_file: None,
            secret_keys: None,
            secret_keys_file: None,
            legacy_secret_key: None,
            legacy_secret_key_file: None,
            // One hour: tessera-token's default, itsdangerous' own default `expires_in`.
            legacy_token_max_lifetime: tessera_token::legacy::LegacyVerifier::DEFAULT_MAX_LIFETIME
                .num_seconds()
                .unsigned_abs(),
            token_ttl: 600,
            signing_alg: SigningAlg::HS256,
            key_rotation_days: 30.0,
            issuer: None,
            audience: None,
            session_lifetime: 30 * 86_400,
            session_idle_timeout: 7 * 86_400,
            max_sessions_per_user: tessera_domain::DEFAULT_MAX_SESSIONS_PER_USER,
            refresh_reuse_interval: tessera_domain::DEFAULT_REFRESH_REUSE_INTERVAL_SECONDS
                .unsigned_abs(),
            cookie_domain: None,
            forward_auth_domains: String::new(),
            forward_auth_token: false,
            forward_auth_rules: Vec::new(),
            revocation_sync_interval: 2,
            login_max_failures: 10,
            register_max_per_hour: 20,
            trusted_proxies: tessera_http::TrustedProxies::default(),
            bcrypt_cost: 12,
            hashing_concurrency: 0,
            cors_origins: String::new(),
            max_body_bytes: 16 * 1024,
            request_body_timeout: 30,
            max_connections_per_address: 64,
            workers: 0,
            log_format: LogFormat::Text,
            web_dir: PathBuf::from("web/dist"),
            forgot_password_note: DEFAULT_FORGOT_PASSWORD_NOTE.to_owned(),
        }
    }
}

/// One `[[forward_auth_rules]]` entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardAuthRule {
    /// The hosts it is for: `app.example.com` or `*.example.com`.
    pub host: String,
    /// The only users let in (compared as usernames are: without case or width).
    pub users: Vec<String>,
}

/// A database URL as `tessera config` prints it: without its password.
fn serialize_redacted_url<S: serde::Serializer>(
    url: &Option<String>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match url {
        Some(url) => serializer.serialize_some(&tessera_store::redact_url(url)),
        None => serializer.serialize_none(),
    }
}

/// Keys of `tessera.toml` that are gone; [`Config::from_figment`] explains each.
const RETIRED_KEYS: [&str; 1] = ["trust_forwarded_for"];

/// Values given on the command line; `None` leaves the lower layers' value.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    /// `--bind`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
    /// `--database-url`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// `--data-dir`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
}

/// Why the configuration cannot be used. Each message says everything, and no variant
/// has a `source()`: an error chain printed with `{:#}` would say it twice.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A layer could not be read or holds a value of the wrong type.
    #[error("invalid configuration: {0}")]
    Invalid(Box<figment::Error>),
    /// The file named by `--config` (or `TESSERA_CONFIG`) cannot be read.
    #[error("configuration file {path} (--config, TESSERA_CONFIG): {error}")]
    MissingFile {
        /// The file.
        path: String,
        /// Why it cannot be read.
        error: std::io::Error,
    },
    /// The configuration file has a key that is no setting (a typo would otherwise be
    /// ignored without a word).
    #[error("unknown setting `{key}` in {file}{hint}; docs/configuration.md lists every setting")]
    UnknownKey {
        /// The key.
        key: String,
        /// The file it is in.
        file: String,
        /// `" (did you mean `…`?)"` for a near miss, else empty.
        hint: String,
    },
    /// A value is out of range.
    #[error("invalid configuration: {0}")]
    OutOfRange(String),
    /// A secret file cannot be read.
    #[error("{setting} {path}: {error}")]
    SecretFile {
        /// The setting naming the file.
        setting: &'static str,
        /// The file.
        path: String,
        /// Why it cannot be read.
        error: std::io::Error,
    },
}

impl Config {
    /// Loads the layers. `file` is `--config`, which must exist; without it
    /// `./tessera.toml` is read when it exists. A key of the file that is no setting is an
    /// error naming it.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
        if let Some(path) = file {
            let readable = std::fs::File::open(path).and_then(|opened| {
                if opened.metadata()?.is_dir() {
                    Err(std::io::Error::other("a directory, not a file"))
                } else {
                    Ok(())
                }
            });
            readable.map_err(|error| ConfigError::MissingFile {
                path: path.display().to_string(),
                error,
            })?;
        }
        check_file_keys(file)?;
        Self::from_figment(Self::figment(file, overrides))
    }

    /// The layered sources, before extraction (tests add their own layers on top).
    pub fn figment(file: Option<&Path>, overrides: &Overrides) -> Figment {
        Figment::from(Serialized::defaults(Config::default()))
            .merge(file_layer(file))
            .merge(Env::prefixed("TESSERA_").ignore(&["CONFIG"]))
            .merge(Env::raw().only(&["DATABASE_URL"]))
            .merge(Serialized::defaults(overrides))
    }

    /// Extracts and checks a configuration.
    pub fn from_figment(figment: Figment) -> Result<Config, ConfigError> {
        // Ignoring it would silently turn a proxy's addresses into every client's.
        if figment.contains("trust_forwarded_for") {
            return Err(ConfigError::OutOfRange(
                "trust_forwarded_for (TESSERA_TRUST_FORWARDED_FOR) is gone: set trusted_proxies \
                 (TESSERA_TRUSTED_PROXIES) to your proxies' addresses, e.g. 127.0.0.1"
                    .to_owned(),
            ));
        }
        let config: Config = figment
            .extract()
            .map_err(|e| ConfigError::Invalid(Box::new(e)))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if !(4..=31).contains(&self.bcrypt_cost) {
            return Err(ConfigError::OutOfRange(format!(
                "bcrypt_cost must be between 4 and 31, not {}",
                self.bcrypt_cost
            )));
        }
        if self.token_ttl == 0 || self.token_ttl > 86_400 * 365 {
            return Err(ConfigError::OutOfRange(
                "token_ttl must be between 1 second and a year".to_owned(),
            ));
        }
        if self.legacy_token_max_lifetime == 0 || self.legacy_token_max_lifetime > 86_400 * 365 {
            return Err(ConfigError::OutOfRange(
                "legacy_token_max_lifetime must be between 1 second and a year".to_owned(),
            ));
        }
        if self.request_body_timeout == 0 || self.request_body_timeout > 3600 {
            return Err(ConfigError::OutOfRange(
                "request_body_timeout must be between 1 and 3600 seconds".to_owned(),
            ));
        }
        if self.revocation_sync_interval == 0 || self.revocation_sync_interval > 60 {
            return Err(ConfigError::OutOfRange(
                "revocation_sync_interval must be between 1 and 60 seconds".to_owned(),
            ));
        }
        if self.session_idle_timeout == 0 || self.session_lifetime < self.session_idle_timeout {
            return Err(ConfigError::OutOfRange(
                "session_idle_timeout must be at least 1 second and at most session_lifetime"
                    .to_owned(),
            ));
        }
        if !(self.key_rotation_days == 0.0
            || (MIN_KEY_ROTATION_SECONDS / 86_400.0..=3650.0).contains(&self.key_rotation_days))
        {
            return Err(ConfigError::OutOfRange(format!(
                "key_rotation_days must be 0 (by hand only) or between {} seconds and 3650 days",
                MIN_KEY_ROTATION_SECONDS
            )));
        }
        self.validate_issuer()?;
        if self
            .audience
            .as_deref()
            .is_some_and(|aud| aud.trim().is_empty())
        {
            return Err(ConfigError::OutOfRange(
                "audience must not be empty when set".to_owned(),
            ));
        }
        if self.refresh_reuse_interval > 60 {
            return Err(ConfigError::OutOfRange(
                "refresh_reuse_interval must be between 0 and 60 seconds".to_owned(),
            ));
        }
        self.forward_auth_policy()?;
        self.validate_cookie_domain()?;
        if !self.forward_auth_domains.trim().is_empty() && self.issuer_for("").is_none() {
            return Err(ConfigError::OutOfRange(
                "forward_auth_domains needs issuer (TESSERA_ISSUER): forward auth sends users \
                 to its /login page"
                    .to_owned(),
            ));
        }
        if self.database_max_connections == 0 {
            return Err(ConfigError::OutOfRange(
                "database_max_connections must be at least 1".to_owned(),
            ));
        }
        self.validate_forgot_password_note()?;
        Ok(())
    }

    /// The note is plain text of one paragraph: within its bound, without control
    /// characters (line breaks, tabs, terminal escapes). The value is not echoed: it may be
    /// long.
    fn validate_forgot_password_note(&self) -> Result<(), ConfigError> {
        let max = tessera_api::policy::FORGOT_PASSWORD_NOTE_MAX_CHARS;
        let note = &self.forgot_password_note;
        let length = note.chars().count();
        if length > max {
            return Err(ConfigError::OutOfRange(format!(
                "forgot_password_note (TESSERA_FORGOT_PASSWORD_NOTE) is {length} characters; \
                 at most {max} are allowed"
            )));
        }
        if let Some(position) = note.chars().position(char::is_control) {
            return Err(ConfigError::OutOfRange(format!(
                "forgot_password_note (TESSERA_FORGOT_PASSWORD_NOTE) must be plain text on one \
                 line: character {} is a control character (a line break, tab or the like)",
                position + 1
            )));
        }
        Ok(())
    }

    /// What the web app's pages show as configured (`GET /api/v1/web-settings`).
    pub fn web_settings(&self) -> tessera_api::WebSettings {
        tessera_api::WebSettings {
            forgot_password_note: self.forgot_password_note.clone(),
        }
    }

    /// An issuer must be a URL without query or fragment (RFC 8414), `https://` in
    /// production; production with asymmetric keys needs one, since verifiers check it.
    fn validate_issuer(&self) -> Result<(), ConfigError> {
        let production = self.env == Environment::Production;
        let Some(issuer) = &self.issuer else {
            if production && self.signing_alg != SigningAlg::HS256 {
                return Err(ConfigError::OutOfRange(
                    "TESSERA_ENV=production with asymmetric signing keys needs issuer \
                     (TESSERA_ISSUER), the https:// URL verifiers reach Tessera at"
                        .to_owned(),
                ));
            }
            return Ok(());
        };
        let refuse = |why: &str| {
            Err(ConfigError::OutOfRange(format!(
                "issuer (TESSERA_ISSUER) {why}, e.g. https://auth.example.com"
            )))
        };
        let Ok(url) = url::Url::parse(issuer) else {
            return refuse("must be an absolute URL");
        };
        match url.scheme() {
            "https" => {}
            "http" if !production => {}
            "http" => return refuse("must be an https:// URL in production"),
            _ => return refuse("must be an http(s):// URL"),
        }
        if url.query().is_some() || url.fragment().is_some() || url.host().is_none() {
            return refuse("must have a host and no query or fragment");
        }
        // Every token and the metadata would publish it.
        if !url.username().is_empty() || url.password().is_some() {
            return refuse("must not hold a user name or password");
        }
        Ok(())
    }

    /// The issuer tokens name: the configured one (without a trailing slash), else in
    /// development `http://` and `bound` (the address actually listened on). `None` in
    /// production with HS256 and no issuer: tokens then carry no `iss`, as before.
    pub fn issuer_for(&self, bound: &str) -> Option<String> {
        match &self.issuer {
            Some(issuer) => Some(issuer.trim_end_matches('/').to_owned()),
            None if self.env == Environment::Development => Some(format!("http://{bound}")),
            None => None,
        }
    }

    /// The key rotation period; `None` rotates by hand only.
    pub fn key_rotation(&self) -> Option<chrono::Duration> {
        (self.key_rotation_days > 0.0).then(|| {
            // In range by validation: at most 3650 days of milliseconds fits an i64.
            #[allow(clippy::cast_possible_truncation)]
            let millis = (self.key_rotation_days * 86_400_000.0).round() as i64;
            chrono::Duration::milliseconds(millis)
        })
    }

    /// The verifier of the Flask tutorial's tokens, when `legacy_secret_key(_file)` is set.
    ///
    /// The secret is used exactly as given (a file loses one trailing line break, which
    /// editors add), since itsdangerous keys the HMAC with the string's UTF-8 bytes. An empty
    /// secret is refused: anyone could mint tokens with it; so is, in production, one shorter
    /// than [`MIN_LEGACY_SECRET_BYTES`]. Tokens living longer than
    /// `legacy_token_max_lifetime` are refused.
    pub fn legacy_verifier(
        &self,
    ) -> Result<Option<tessera_token::legacy::LegacyVerifier>, ConfigError> {
        let (setting, variable) = if self.legacy_secret_key_file.is_some() {
            ("legacy_secret_key_file", "TESSERA_LEGACY_SECRET_KEY_FILE")
        } else {
            ("legacy_secret_key", "TESSERA_LEGACY_SECRET_KEY")
        };
        let secret = if let Some(path) = &self.legacy_secret_key_file {
            let contents = std::fs::read(path).map_err(|error| ConfigError::SecretFile {
                setting: "legacy_secret_key_file",
                path: path.display().to_string(),
                error,
            })?;
            let trimmed = contents.strip_suffix(b"\n").unwrap_or(&contents);
            let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
            trimmed.to_vec()
        } else if let Some(secret) = &self.legacy_secret_key {
            secret.expose().as_bytes().to_vec()
        } else {
            return Ok(None);
        };
        if secret.is_empty() {
            return Err(ConfigError::OutOfRange(
                "the legacy secret key is empty; unset TESSERA_LEGACY_SECRET_KEY instead".into(),
            ));
        }
        // As for the signing secret (`keys::key_set`): short secrets are refused except in
        // development, where a developer may set any secret by hand.
        if self.env == Environment::Production && secret.len() < MIN_LEGACY_SECRET_BYTES {
            return Err(ConfigError::OutOfRange(format!(
                "{setting} ({variable}) is {} bytes; TESSERA_ENV=production needs a legacy \
                 secret key of at least {MIN_LEGACY_SECRET_BYTES} bytes",
                secret.len()
            )));
        }
        // Validated to at most a year; an unvalidated larger value means no bound.
        let max_lifetime = i64::try_from(self.legacy_token_max_lifetime)
            .ok()
            .and_then(chrono::Duration::try_seconds)
            .unwrap_or(chrono::Duration::MAX);
        Ok(Some(
            tessera_token::legacy::LegacyVerifier::new(tessera_token::Secret::new(secret))
                .with_max_lifetime(max_lifetime),
        ))
    }

    /// The database URL, defaulting to SQLite inside the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("tessera.db").display()),
        }
    }

    /// What forward auth guards, from `forward_auth_domains`, `forward_auth_rules` and
    /// `forward_auth_token`.
    pub fn forward_auth_policy(&self) -> Result<tessera_domain::ForwardAuthPolicy, ConfigError> {
        let invalid = |e: tessera_domain::Error| ConfigError::OutOfRange(e.to_string());
        let domains = self
            .forward_auth_domains
            .split(',')
            .map(str::trim)
            .filter(|domain| !domain.is_empty())
            .map(|domain| tessera_domain::HostPattern::parse(domain).map_err(invalid))
            .collect::<Result<_, _>>()?;
        let rules = self
            .forward_auth_rules
            .iter()
            .map(|rule| tessera_domain::HostRule::new(&rule.host, &rule.users).map_err(invalid))
            .collect::<Result<_, _>>()?;
        Ok(tessera_domain::ForwardAuthPolicy::new(
            domains,
            rules,
            self.forward_auth_token,
        ))
    }

    /// A cookie domain is a plain host name (a leading dot is dropped, as browsers do).
    fn validate_cookie_domain(&self) -> Result<(), ConfigError> {
        let Some(domain) = &self.cookie_domain else {
            return Ok(());
        };
        let domain = domain.trim_start_matches('.');
        if domain.starts_with('*') || tessera_domain::HostPattern::parse(domain).is_err() {
            return Err(ConfigError::OutOfRange(format!(
                "cookie_domain (TESSERA_COOKIE_DOMAIN) {domain:?} must be a host name such as \
                 example.com"
            )));
        }
        Ok(())
    }

    /// How browser sessions' cookies are set, and which origins may use them: the listed
    /// CORS origins, never `*`.
    pub fn cookie_settings(&self) -> tessera_http::CookieSettings {
        tessera_http::CookieSettings {
            domain: self
                .cookie_domain
                .as_deref()
                .map(|domain| domain.trim_start_matches('.').to_ascii_lowercase()),
            trusted_origins: match self.cors_policy() {
                tessera_http::CorsPolicy::Origins(origins) => origins,
                _ => Vec::new(),
            },
        }
    }

    /// The CORS policy `cors_origins` describes.
    pub fn cors_policy(&self) -> tessera_http::CorsPolicy {
        let origins: Vec<String> = self
            .cors_origins
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(|o| o.trim_end_matches('/').to_owned())
            .collect();
        if origins.iter().any(|o| o == "*") {
            tessera_http::CorsPolicy::AnyOrigin
        } else if origins.is_empty() {
            tessera_http::CorsPolicy::SameOrigin
        } else {
            tessera_http::CorsPolicy::Origins(origins)
        }
    }
}

/// The configuration file's layer: exactly `file` when given, else `tessera.toml` in the
/// working directory or the nearest parent holding one (figment's search), if any.
fn file_layer(file: Option<&Path>) -> Data<Toml> {
    match file {
        Some(path) => Toml::file_exact(path),
        None => Toml::file("tessera.toml"),
    }
}

/// Refuses a key of the configuration file that names no setting. A file that does not
/// parse passes here: extracting the configuration reports it, with its line.
fn check_file_keys(file: Option<&Path>) -> Result<(), ConfigError> {
    let layer = Figment::from(file_layer(file));
    let Ok(keys) = layer.extract::<std::collections::BTreeMap<String, figment::value::Value>>()
    else {
        return Ok(());
    };
    let known = match serde_json::to_value(Config::default()) {
        Ok(serde_json::Value::Object(fields)) => fields,
        _ => return Ok(()),
    };
    let Some(unknown) = keys
        .keys()
        .find(|key| !known.contains_key(*key) && !RETIRED_KEYS.contains(&key.as_str()))
    else {
        return Ok(());
    };
    let file = layer
        .find_metadata(unknown)
        .and_then(|metadata| metadata.source.as_ref())
        .map(ToString::to_string)
        .or_else(|| file.map(|path| path.display().to_string()))
        .unwrap_or_else(|| "tessera.toml".to_owned());
    let hint = known
        .keys()
        .map(|candidate| (edit_distance(unknown, candidate), candidate))
        .filter(|(distance, _)| *distance <= 2)
        .min()
        .map(|(_, candidate)| format!(" (did you mean `{candidate}`?)"))
        .unwrap_or_default();
    Err(ConfigError::UnknownKey {
        key: unknown.clone(),
        file,
        hint,
    })
}

/// Levenshtein distance, for "did you mean" on a mistyped key.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's `Jail` closures return its large error type
mod tests {
    use super::*;
    use figment::Jail;

    #[test]
    fn layers_apply_in_order() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "tessera.toml",
                "bind = \"0.0.0.0:1\"\ntoken_ttl = 60\nbcrypt_cost = 5",
            )?;
            jail.set_env("TESSERA_TOKEN_TTL", "120");
            jail.set_env("DATABASE_URL", "sqlite://from-env.db");
            let overrides = Overrides {
                bind: Some("127.0.0.1:9".into()),
                ..Overrides::default()
            };
            let config = Config::load(None, &overrides).map_err(|e| e.to_string())?;
            assert_eq!(config.bind, "127.0.0.1:9", "flags beat the file");
            assert_eq!(config.token_ttl, 120, "environment beats the file");
            assert_eq!(config.bcrypt_cost, 5, "the file beats defaults");
            assert_eq!(config.database_url(), "sqlite://from-env.db");
            Ok(())
        });
    }

    #[test]
    fn defaults_serve_sqlite_in_the_data_dir() {
        Jail::expect_with(|_| {
            let config = Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            assert_eq!(config.bind, "127.0.0.1:8080");
            assert_eq!(config.token_ttl, 600);
            assert_eq!(config.database_url(), "sqlite://./data/tessera.db");
            assert_eq!(config.cors_policy(), tessera_http::CorsPolicy::SameOrigin);
            Ok(())
        });
    }

    #[test]
    fn bad_values_are_refused_with_a_reason() {
        Jail::expect_with(|jail| {
            jail.set_env("TESSERA_BCRYPT_COST", "3");
            let error = Config::load(None, &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(error.contains("bcrypt_cost"), "{error}");
            jail.set_env("TESSERA_BCRYPT_COST", "twelve");
            let error = Config::load(None, &Overrides::default())
                .unwrap_err()
                .to_string();
            // figment names the environment variable as written: `BCRYPT_COST`.
            assert!(error.to_lowercase().contains("bcrypt_cost"), "{error}");
            Ok(())
        });
    }

    #[test]
    fn forward_auth_settings_are_checked_at_start() {
        Jail::expect_with(|jail| {
            let refused = |jail: &mut Jail, settings: &[(&str, &str)], expected: &str| {
                for (key, value) in settings {
                    jail.set_env(key, value);
                }
                let error = Config::load(None, &Overrides::default())
                    .unwrap_err()
                    .to_string();
                assert!(error.contains(expected), "{settings:?}: {error}");
                jail.clear_env();
            };
            let domains = "TESSERA_FORWARD_AUTH_DOMAINS";
            refused(jail, &[(domains, "a.test,*.com")], "top-level");
            refused(jail, &[(domains, "a/b.test")], "host name");
            refused(
                jail,
                &[("TESSERA_COOKIE_DOMAIN", "*.example.com")],
                "cookie_domain",
            );
            refused(
                jail,
                &[("TESSERA_REFRESH_REUSE_INTERVAL", "61")],
                "refresh_reuse_interval",
            );
            let production = [
                ("TESSERA_ENV", "production"),
                (
                    "TESSERA_SECRET_KEY",
                    "a production secret, thirty-two bytes",
                ),
                (domains, "app.example.com"),
            ];
            refused(jail, &production, "needs issuer");
            jail.create_file(
                "tessera.toml",
                "forward_auth_domains = \"*.example.com\"\n\
                 [[forward_auth_rules]]\nhost = \"admin.example.com\"\nusers = [\"a:b\"]\n",
            )?;
            let error = Config::load(None, &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(error.contains("\"a:b\""), "{error}");
            jail.create_file(
                "tessera.toml",
                "forward_auth_domains = \"*.example.com\"\n\
                 [[forward_auth_rules]]\nhost = \"admin.example.com\"\nusers = [\"alice\"]\n",
            )?;
            let config = Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            assert!(
                config
                    .forward_auth_policy()
                    .unwrap()
                    .allows_host("admin.example.com")
            );
            Ok(())
        });
    }

    #[test]
    fn the_config_file_must_exist_and_hold_only_settings() {
        Jail::expect_with(|jail| {
            let error = Config::load(Some(Path::new("missing.toml")), &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(error.contains("missing.toml"), "{error}");

            jail.create_file("tessera.toml", "tokn_ttl = 60")?;
            let error = Config::load(None, &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(error.contains("`tokn_ttl`"), "{error}");
            assert!(error.contains("did you mean `token_ttl`"), "{error}");

            jail.create_file("tessera.toml", "frobnicate = 1")?;
            let error = Config::load(None, &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(error.contains("`frobnicate`"), "{error}");
            assert!(
                !error.contains("did you mean"),
                "no far-fetched hint: {error}"
            );

            // A retired key keeps its own explanation.
            jail.create_file("tessera.toml", "trust_forwarded_for = true")?;
            let error = Config::load(None, &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(error.contains("trusted_proxies"), "{error}");

            jail.create_file("tessera.toml", "token_ttl = 60")?;
            let config = Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            assert_eq!(config.token_ttl, 60);
            Ok(())
        });
    }

    #[test]
    fn the_database_password_never_serializes() {
        let config = Config {
            database_url: Some("postgres://u:p%40ss@h/db?password=two".into()),
            ..Config::default()
        };
        let json = serde_json::to_string(&config).unwrap();
        assert!(!json.contains("p%40ss") && !json.contains("two"), "{json}");
        assert!(
            json.contains("postgres://u:***@h/db?password=***"),
            "{json}"
        );
        assert_eq!(
            config.database_url(),
            "postgres://u:p%40ss@h/db?password=two",
            "only its printed form is redacted"
        );
    }

    #[test]
    fn cors_origins_parse() {
        let mut config = Config {
            cors_origins: "http://a.test, http://b.test/".into(),
            ..Config::default()
        };
        assert_eq!(
            config.cors_policy(),
            tessera_http::CorsPolicy::Origins(vec!["http://a.test".into(), "http://b.test".into()])
        );
        config.cors_origins = "*".into();
        assert_eq!(config.cors_policy(), tessera_http::CorsPolicy::AnyOrigin);
    }

    #[test]
    fn the_legacy_secret_comes_from_the_environment_or_a_file_as_is() {
        // Made by itsdangerous 1.1.0 with "hard to guess string", HS256, id 42, iat
        // 1700000000, exp 1700000600.
        let token = "eyJhbGciOiJIUzI1NiIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAwNjAwfQ.\
                     eyJpZCI6NDJ9.7IEqS9fq3vDfE16haQD3hZgpLuD9Bhre1ENWH7SOh_8";
        let at = chrono::DateTime::from_timestamp(1_700_000_100, 0).unwrap();
        Jail::expect_with(|jail| {
            let config = Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            assert!(
                config.legacy_verifier().unwrap().is_none(),
                "off by default"
            );

            jail.set_env("TESSERA_LEGACY_SECRET_KEY", "hard to guess string");
            let config = Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            let verifier = config.legacy_verifier().unwrap().expect("configured");
            assert_eq!(verifier.verify(token, at).unwrap().id, 42);
            assert!(!format!("{config:?}").contains("hard to guess"));

            jail.create_file("flask.key", "hard to guess string\n")?;
            jail.set_env("TESSERA_LEGACY_SECRET_KEY", "something else");
            jail.set_env("TESSERA_LEGACY_SECRET_KEY_FILE", "flask.key");
            let config = Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            let verifier = config.legacy_verifier().unwrap().expect("configured");
            assert_eq!(verifier.verify(token, at).unwrap().id, 42, "the file wins");

            jail.set_env("TESSERA_LEGACY_SECRET_KEY_FILE", "missing.key");
            let config = Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            let error = config.legacy_verifier().unwrap_err().to_string();
            assert!(error.contains("legacy_secret_key_file"), "{error}");
            Ok(())
        });
    }

    #[test]
    fn an_empty_legacy_secret_is_refused() {
        let config = Config {
            legacy_secret_key: Some(SecretString::new("")),
            ..Config::default()
        };
        assert!(config.legacy_verifier().is_err());
    }

    /// Made by itsdangerous 1.1.0 with "hard to guess string", HS256, id 42, iat
    /// 1700000000, exp 1700000600: a lifetime of 600 seconds.
    const FLASK_TOKEN: &str = "eyJhbGciOiJIUzI1NiIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAwNjAwfQ.\
                               eyJpZCI6NDJ9.7IEqS9fq3vDfE16haQD3hZgpLuD9Bhre1ENWH7SOh_8";

    #[test]
    fn signing_settings_refuse_what_verifiers_could_not_trust() {
        Jail::expect_with(|jail| {
            let load = || Config::load(None, &Overrides::default()).map_err(|e| e.to_string());
            for bad in ["-1", "NaN", "inf", "0.00001", "3651"] {
                jail.set_env("TESSERA_KEY_ROTATION_DAYS", bad);
                let error = load().unwrap_err();
                assert!(
                    error.to_lowercase().contains("key_rotation_days"),
                    "{bad}: {error}"
                );
            }
            jail.set_env("TESSERA_KEY_ROTATION_DAYS", "0.5");
            assert_eq!(load()?.key_rotation(), Some(chrono::Duration::hours(12)));
            jail.set_env("TESSERA_SIGNING_ALG", "none");
            assert!(load().is_err(), "only HS256, EdDSA and ES256");
            jail.set_env("TESSERA_SIGNING_ALG", "EdDSA");
            for bad in [
                "auth.example.com",
                "ftp://auth.example.com",
                "https://auth.example.com/?tenant=1",
                "https://auth.example.com/#keys",
                "https://admin:hunter2@auth.example.com",
            ] {
                jail.set_env("TESSERA_ISSUER", bad);
                let error = load().unwrap_err();
                assert!(error.contains("TESSERA_ISSUER"), "{bad}: {error}");
                assert!(!error.contains("hunter2"), "{error}");
            }
            jail.set_env("TESSERA_ISSUER", "https://auth.example.com/");
            assert_eq!(
                load()?.issuer_for("127.0.0.1:1").as_deref(),
                Some("https://auth.example.com"),
                "one spelling, without the trailing slash"
            );
            jail.set_env("TESSERA_ENV", "production");
            jail.set_env("TESSERA_ISSUER", "http://auth.example.com");
            assert!(load().unwrap_err().contains("https:// URL in production"));
            jail.clear_env();
            jail.set_env("TESSERA_ENV", "production");
            jail.set_env("TESSERA_SIGNING_ALG", "EdDSA");
            let error = load().unwrap_err();
            assert!(error.contains("needs issuer (TESSERA_ISSUER)"), "{error}");
            Ok(())
        });
    }

    #[test]
    fn production_refuses_a_legacy_secret_under_16_bytes() {
        Jail::expect_with(|jail| {
            jail.set_env("TESSERA_ENV", "production");
            for short in ["k", "fifteen bytes.."] {
                jail.set_env("TESSERA_LEGACY_SECRET_KEY", short);
                let config =
                    Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
                let error = config.legacy_verifier().unwrap_err().to_string();
                assert!(error.contains("legacy_secret_key "), "{error}");
                assert!(error.contains("TESSERA_LEGACY_SECRET_KEY"), "{error}");
                assert!(error.contains("at least 16 bytes"), "{error}");
                assert!(!error.contains("fifteen"), "the secret stays out: {error}");
            }
            jail.set_env("TESSERA_LEGACY_SECRET_KEY", "sixteen bytes...");
            let config = Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            assert!(config.legacy_verifier().unwrap().is_some());

            // From a file, the trailing newline does not count, and the error names the file
            // setting.
            jail.create_file("flask.key", "fifteen bytes..\n")?;
            jail.set_env("TESSERA_LEGACY_SECRET_KEY_FILE", "flask.key");
            let config = Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            let error = config.legacy_verifier().unwrap_err().to_string();
            assert!(error.contains("legacy_secret_key_file"), "{error}");
            assert!(error.contains("15 bytes"), "{error}");

            // Development takes any non-empty secret, as for the signing secret.
            jail.set_env("TESSERA_ENV", "development");
            let config = Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            assert!(config.legacy_verifier().unwrap().is_some());
            Ok(())
        });
    }

    #[test]
    fn the_legacy_token_max_lifetime_setting_reaches_the_verifier() {
        let at = chrono::DateTime::from_timestamp(1_700_000_100, 0).unwrap();
        Jail::expect_with(|jail| {
            jail.set_env("TESSERA_LEGACY_SECRET_KEY", "hard to guess string");
            let verify = || -> Result<Result<i64, tessera_token::ErrorKind>, String> {
                let config =
                    Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
                let verifier = config.legacy_verifier().map_err(|e| e.to_string())?;
                let verifier = verifier.expect("configured");
                Ok(verifier
                    .verify(FLASK_TOKEN, at)
                    .map(|claims| claims.id)
                    .map_err(|e| e.kind()))
            };
            assert_eq!(verify()?, Ok(42), "600 seconds is within the default");

            jail.create_file("tessera.toml", "legacy_token_max_lifetime = 300")?;
            assert_eq!(verify()?, Err(tessera_token::ErrorKind::Malformed));
            jail.set_env("TESSERA_LEGACY_TOKEN_MAX_LIFETIME", "600");
            assert_eq!(verify()?, Ok(42), "the environment beats the file");
            jail.set_env("TESSERA_LEGACY_TOKEN_MAX_LIFETIME", "599");
            assert_eq!(verify()?, Err(tessera_token::ErrorKind::Malformed));
            Ok(())
        });
    }

    #[test]
    fn the_legacy_token_max_lifetime_defaults_to_an_hour_and_is_range_checked() {
        let config = Config {
            legacy_secret_key: Some(SecretString::new("hard to guess string")),
            ..Config::default()
        };
        assert_eq!(config.legacy_token_max_lifetime, 3600);
        let verifier = config.legacy_verifier().unwrap().expect("configured");
        assert_eq!(verifier.max_lifetime(), chrono::Duration::hours(1));

        Jail::expect_with(|jail| {
            for bad in ["0", "31536001", "-5"] {
                jail.set_env("TESSERA_LEGACY_TOKEN_MAX_LIFETIME", bad);
                let error = Config::load(None, &Overrides::default())
                    .unwrap_err()
                    .to_string();
                assert!(
                    error.to_lowercase().contains("legacy_token_max_lifetime"),
                    "{bad}: {error}"
                );
            }
            jail.set_env("TESSERA_LEGACY_TOKEN_MAX_LIFETIME", "31536000");
            let config = Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            assert_eq!(config.legacy_token_max_lifetime, 86_400 * 365);
            Ok(())
        });

        // A value that skipped validation still makes a verifier rather than panicking.
        let unchecked = Config {
            legacy_token_max_lifetime: u64::MAX,
            ..config
        };
        let verifier = unchecked.legacy_verifier().unwrap().expect("configured");
        assert_eq!(verifier.max_lifetime(), chrono::Duration::MAX);
    }

    #[test]
    fn the_forgot_password_note_is_plain_text_within_its_bound() {
        Jail::expect_with(|jail| {
            let load = || Config::load(None, &Overrides::default()).map_err(|e| e.to_string());
            assert_eq!(
                load()?.web_settings().forgot_password_note,
                "Tessera cannot email you a new password. Ask the administrator of this \
                 service to set a new one for you."
            );
            let variable = "TESSERA_FORGOT_PASSWORD_NOTE";
            for note in [
                "Ask Ann (room 4.12, ext. 4711) — or write to it@example.com.",
                "Call the IT desk [Mon–Fri], 9:00 to 17:00; say \"Tessera\".",
                "<b>Not HTML</b> & not a <script>: shown as text.",
                "",
                &"é".repeat(tessera_api::policy::FORGOT_PASSWORD_NOTE_MAX_CHARS),
            ] {
                jail.set_env(variable, note);
                assert_eq!(load()?.forgot_password_note, note);
            }
            for bad in [
                "two\nlines",
                "a\ttab",
                "\u{1b}[31mred",
                "c1\u{85}control",
                &"é".repeat(tessera_api::policy::FORGOT_PASSWORD_NOTE_MAX_CHARS + 1),
            ] {
                jail.set_env(variable, bad);
                let error = load().unwrap_err();
                assert!(
                    error.contains("forgot_password_note") && error.contains(variable),
                    "{bad:?}: {error}"
                );
                assert!(!error.contains("ééé") && !error.contains("red"), "{error}");
            }
            // The environment layer reads numbers and booleans as such: quoted, they are text.
            jail.set_env(variable, "\"4711\"");
            assert_eq!(load()?.forgot_password_note, "4711");
            jail.set_env(variable, "4711");
            let error = load().unwrap_err();
            // figment names the variable as written: `FORGOT_PASSWORD_NOTE`.
            assert!(
                error.to_lowercase().contains("forgot_password_note"),
                "{error}"
            );
            jail.clear_env();
            jail.create_file(
                "tessera.toml",
                "forgot_password_note = \"\"\"\nAsk Ann.\nOr Bob.\"\"\"\n",
            )?;
            assert!(load().unwrap_err().contains("forgot_password_note"));
            jail.create_file(
                "tessera.toml",
                "forgot_password_note = \"Ask Ann, in room 4.\"\n",
            )?;
            assert_eq!(load()?.forgot_password_note, "Ask Ann, in room 4.");
            Ok(())
        });
    }

    #[test]
    fn secrets_never_print() {
        let config = Config {
            secret_key: Some(SecretString::new("hunter2hunter2")),
            legacy_secret_key: Some(SecretString::new("hunter3hunter3")),
            ..Config::default()
        };
        assert!(!format!("{config:?}").contains("hunter3"));
        assert!(!format!("{config:?}").contains("hunter2"));
        assert!(!serde_json::to_string(&config).unwrap().contains("hunter2"));
    }
}
