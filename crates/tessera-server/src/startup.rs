//! Composition: the configured store, domain and HTTP layer become one running server.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use anyhow::Context;
use tessera_domain::{
    Accounts, Auth, Clients, IssuerAndAudience, KeyPolicy, Limits, PasswordHasher, RevokedSessions,
    SessionKeys, SessionPolicy, Sessions, SigningKeys, Throttle, TokenIssuer, UserCache,
};
use tessera_http::{AppState, HashingPool, HttpSettings, Metrics, PoolUsage};
use tessera_store::{Database, PoolOptions};
use tessera_token::KeySet;

use crate::config::Config;
use crate::keys;

/// The use cases over the configured database, after applying migrations: what the CLI
/// calls. A missing SQLite database is created.
pub fn auth(config: &Config) -> anyhow::Result<Auth> {
    auth_over(
        database(config)?,
        keys::key_set(config)?,
        config,
        &config.bind,
    )
}

/// [`auth`] for the commands that work on existing data (`users list`, `token verify`, …):
/// a missing SQLite database is an error naming the file, never an empty new one left
/// behind by a command run from the wrong directory.
pub fn existing_auth(config: &Config) -> anyhow::Result<Auth> {
    let url = config.database_url();
    tessera_store::require_existing(&url).map_err(|error| {
        anyhow::anyhow!(
            "{error}; this command works on an existing database and does not create one \
             (check DATABASE_URL, --database-url and --data-dir; `tessera migrate` creates it)"
        )
    })?;
    auth(config)
}

/// The use cases over `database` with `keys` (the configured secrets), configured as
/// `config` says, for a server at `bound` (the default issuer in development).
fn auth_over(
    database: Database,
    keys: KeySet,
    config: &Config,
    bound: &str,
) -> anyhow::Result<Auth> {
    let ttl = seconds(config.token_ttl)?;
    let sessions = Sessions::new(
        Arc::new(database.clone()),
        SessionPolicy {
            lifetime: seconds(config.session_lifetime)?,
            idle_timeout: seconds(config.session_idle_timeout)?,
            max_per_user: config.max_sessions_per_user,
            reuse_interval: seconds(config.refresh_reuse_interval)?,
        },
        RevokedSessions::new(ttl),
        session_keys(&keys)?,
    );
    let limits = Limits::new(
        Throttle::new(Arc::new(database.clone())),
        i32::try_from(config.login_max_failures)?,
        i32::try_from(config.register_max_per_hour)?,
    );
    let legacy = config.legacy_verifier()?;
    if legacy.is_some() {
        tracing::info!("accepting the Flask tutorial's tokens (TESSERA_LEGACY_SECRET_KEY is set)");
    }
    let tokens = TokenIssuer::new(keys.clone(), ttl)
        .with_legacy(legacy)
        .with_audience(IssuerAndAudience {
            issuer: config.issuer_for(bound),
            check_issuer: config.issuer.is_some(),
            audience: config.audience.clone(),
        });
    let signing_keys = SigningKeys::new(
        Arc::new(database.clone()),
        KeyPolicy {
            algorithm: config.signing_alg.algorithm(),
            rotation: config.key_rotation(),
            token_ttl: ttl,
            sync_interval: seconds(config.revocation_sync_interval)?,
        },
        keys,
    );
    let clients = Clients::new(Arc::new(database.clone()));
    let accounts = Accounts::new(Arc::new(database), PasswordHasher::new(config.bcrypt_cost));
    let users = UserCache::new(Duration::from_secs(config.revocation_sync_interval));
    Auth::new(accounts, sessions, limits, tokens, users, clients)
        .with_forward_auth(config.forward_auth_policy()?)
        .with_signing_keys(signing_keys)
        .context("cannot prepare the signing keys")
}

/// The session keys, derived from the configured secret that signs (the first).
fn session_keys(keys: &KeySet) -> anyhow::Result<SessionKeys> {
    let secret = keys
        .keys()
        .next()
        .and_then(tessera_token::Key::private_bytes)
        .context("no configured secret to derive the session keys from")?;
    Ok(SessionKeys::derive(&secret)?)
}

/// The configured database's connection pool, after applying migrations.
fn database(config: &Config) -> anyhow::Result<Database> {
    let url = config.database_url();
    let applied = tessera_store::run_migrations(&url).with_context(|| {
        format!(
            "cannot prepare the database {}",
            tessera_store::redact_url(&url)
        )
    })?;
    if applied > 0 {
        tracing::info!(applied, "applied database migrations");
    }
    let options = PoolOptions {
        max_connections: config.database_max_connections,
        acquire_timeout: Duration::from_secs(config.database_timeout),
    };
    Ok(Database::open(&url, &options)?)
}

fn seconds(value: u64) -> anyhow::Result<chrono::Duration> {
    Ok(chrono::Duration::seconds(i64::try_from(value)?))
}

/// Where the web app's bundle is looked for, in order: `web_dir` as given (relative to the
/// working directory), then, when relative, in the directory of the `tessera` binary, so
/// that a release unpacked as `tessera` beside `web/dist/` serves its app from any working
/// directory (a systemd unit's, say).
fn web_dir_candidates(web_dir: &Path) -> Vec<PathBuf> {
    let mut candidates = vec![web_dir.to_path_buf()];
    if web_dir.is_relative() {
        let beside_binary = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|dir| dir.join(web_dir)));
        candidates.extend(beside_binary);
    }
    candidates
}

/// The first of [`web_dir_candidates`] holding an `index.html`, made absolute; `None` means
/// API only, with a warning naming every place looked at.
fn web_dir(config: &Config) -> Option<PathBuf> {
    let candidates = web_dir_candidates(&config.web_dir);
    let found = candidates
        .iter()
        .find(|dir| dir.join("index.html").is_file())
        .map(|dir| std::path::absolute(dir).unwrap_or_else(|_| dir.clone()));
    if found.is_none() {
        let looked_in: Vec<String> = candidates
            .iter()
            .map(|dir| dir.display().to_string())
            .collect();
        tracing::warn!(
            web_dir = %config.web_dir.display(),
            looked_in = %looked_in.join(", "),
            "no web app bundle (index.html) found; serving the API only. Set web_dir \
             (TESSERA_WEB_DIR) to the built bundle (`make web` builds it in web/dist)"
        );
    }
    found
}

/// The key ids the start-up line shows, the signing key first: the stored keys' when they
/// sign, else the configured ones (ids are fingerprints or operator-chosen names, never
/// secrets).
fn signing_key_ids(auth: &Auth, configured: &[String]) -> Vec<String> {
    let keys = auth.key_set();
    match keys.signing_key_id() {
        Some(id) if !configured.iter().any(|configured| configured == id) => {
            keys.keys().map(|key| key.id().to_owned()).collect()
        }
        _ => configured.to_vec(),
    }
}

/// A server bound to its address and ready to run.
pub struct Application {
    port: u16,
    server: Server,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Migrates the database, loads the keys and binds the listener. Binding port 0 picks
    /// a free port; [`Application::port`] tells which.
    pub fn build(config: &Config) -> anyhow::Result<Application> {
        let database = database(config)?;
        let backend = database.backend();
        let (key_set, configured_ids) = keys::key_set_and_ids(config)?;
        let listener = TcpListener::bind(&config.bind)
            .with_context(|| format!("cannot listen on {}", config.bind))?;
        let bound = listener.local_addr()?;
        let port = bound.port();
        let pool = database.clone();
        let metrics = Metrics::new(Some(Box::new(move || {
            let (connections, idle) = pool.pool_usage();
            PoolUsage { connections, idle }
        })));
        let auth = auth_over(database, key_set, config, &bound.to_string())?;
        auth.warm_up();
        let key_ids = signing_key_ids(&auth, &configured_ids);
        let state = AppState {
            auth,
            hashing: HashingPool::new(match config.hashing_concurrency {
                0 => std::thread::available_parallelism().map_or(2, usize::from),
                n => n,
            })
            .observed_by(&metrics),
            trusted_proxies: config.trusted_proxies.clone(),
            cookies: config.cookie_settings(),
            web_settings: config.web_settings(),
        };
        let web_dir = web_dir(config);
        let web = web_dir
            .as_ref()
            .map_or_else(|| "none".to_owned(), |dir| dir.display().to_string());
        let settings = HttpSettings {
            cors: config.cors_policy(),
            max_body_bytes: config.max_body_bytes,
            workers: config.workers,
            web_dir,
            metrics,
            revocation_sync: std::time::Duration::from_secs(config.revocation_sync_interval),
            body_timeout: std::time::Duration::from_secs(config.request_body_timeout),
            max_connections_per_address: config.max_connections_per_address,
            trusted_proxies: config.trusted_proxies.clone(),
        };
        let server = tessera_http::serve(listener, state, settings)?;
        // The one line that says what this process serves: never a secret, only key ids
        // and the database URL without its password.
        tracing::info!(
            address = %config.bind,
            port,
            backend = backend.name(),
            env = config.env.as_str(),
            signing_alg = ?config.signing_alg,
            key_ids = %key_ids.join(","),
            database = %tessera_store::redact_url(&config.database_url()),
            web = %web,
            "tessera is listening"
        );
        Ok(Application { port, server })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle that stops the server (tests stop theirs when done, closing its database
    /// connections).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGINT or SIGTERM, then finishes the requests in flight.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
