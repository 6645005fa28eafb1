//! Composition: the configured store, domain and HTTP layer become one running server.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use anyhow::Context;
use tessera_domain::{
    Accounts, Auth, Limits, PasswordHasher, RevokedSessions, SessionPolicy, Sessions, Throttle,
    TokenIssuer, UserCache,
};
use tessera_http::{AppState, HashingPool, HttpSettings, Metrics, PoolUsage};
use tessera_store::{Database, PoolOptions};

use crate::config::Config;
use crate::keys;

/// The use cases over the configured database, after applying migrations: what the CLI
/// calls.
pub fn auth(config: &Config) -> anyhow::Result<Auth> {
    auth_over(database(config)?, config)
}

/// The use cases over `database`, configured as `config` says.
fn auth_over(database: Database, config: &Config) -> anyhow::Result<Auth> {
    let ttl = seconds(config.token_ttl)?;
    let sessions = Sessions::new(
        Arc::new(database.clone()),
        SessionPolicy {
            lifetime: seconds(config.session_lifetime)?,
            idle_timeout: seconds(config.session_idle_timeout)?,
            max_per_user: config.max_sessions_per_user,
        },
        RevokedSessions::new(ttl),
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
    let tokens = TokenIssuer::new(keys::key_set(config)?, ttl).with_legacy(legacy);
    let accounts = Accounts::new(Arc::new(database), PasswordHasher::new(config.bcrypt_cost));
    let users = UserCache::new(Duration::from_secs(config.revocation_sync_interval));
    Ok(Auth::new(accounts, sessions, limits, tokens, users))
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

/// The web app's directory when it has been built, else `None` (API only).
fn web_dir(config: &Config) -> Option<std::path::PathBuf> {
    if config.web_dir.join("index.html").is_file() {
        Some(config.web_dir.clone())
    } else {
        tracing::info!(
            web_dir = %config.web_dir.display(),
            "no web app there (run `make web`); serving the API only"
        );
        None
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
        let pool = database.clone();
        let metrics = Metrics::new(Some(Box::new(move || {
            let (connections, idle) = pool.pool_usage();
            PoolUsage { connections, idle }
        })));
        let auth = auth_over(database, config)?;
        auth.warm_up();
        let state = AppState {
            auth,
            hashing: HashingPool::new(match config.hashing_concurrency {
                0 => std::thread::available_parallelism().map_or(2, usize::from),
                n => n,
            })
            .observed_by(&metrics),
            trusted_proxies: config.trusted_proxies.clone(),
        };
        let listener = TcpListener::bind(&config.bind)
            .with_context(|| format!("cannot listen on {}", config.bind))?;
        let port = listener.local_addr()?.port();
        let settings = HttpSettings {
            cors: config.cors_policy(),
            max_body_bytes: config.max_body_bytes,
            workers: config.workers,
            web_dir: web_dir(config),
            metrics,
            revocation_sync: std::time::Duration::from_secs(config.revocation_sync_interval),
            body_timeout: std::time::Duration::from_secs(config.request_body_timeout),
            max_connections_per_address: config.max_connections_per_address,
            trusted_proxies: config.trusted_proxies.clone(),
        };
        let server = tessera_http::serve(listener, state, settings)?;
        tracing::info!(address = %config.bind, port, "tessera is listening");
        Ok(Application { port, server })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT or SIGTERM, then finishes the requests in flight.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
