use std::sync::Arc;

use actix_web::web;
use base64::Engine;
use chrono::{Duration, Utc};
use tessera_domain::{Accounts, SessionId, Sessions, User};
use tessera_token::legacy::{LegacyClaims, LegacyVerifier};
use tessera_token::{Claims, KeySet};
use tokio::sync::Semaphore;

use crate::error::ApiError;
use crate::metrics::Metrics;
use prometheus_client::metrics::gauge::Gauge;

/// Everything the handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The account use cases over the configured store.
    pub accounts: Accounts,
    /// Issues and verifies access tokens.
    pub tokens: TokenIssuer,
    /// Where password hashing runs.
    pub hashing: HashingPool,
    /// Sign-in sessions and the in-memory list of revoked ones.
    pub sessions: Sessions,
    /// Rate limits on sign-in and registration.
    pub limits: crate::limits::Limits,
    /// Users recently seen by the token check.
    pub users: crate::user_cache::UserCache,
}

/// Issues access tokens for users and verifies them; optionally also verifies the Flask
/// tutorial's itsdangerous tokens, as a migration bridge.
#[derive(Debug, Clone)]
pub struct TokenIssuer {
    keys: Arc<KeySet>,
    ttl: Duration,
    legacy: Option<Arc<LegacyVerifier>>,
}

impl TokenIssuer {
    /// Tokens signed by the key set's first key, living `ttl`.
    pub fn new(keys: KeySet, ttl: Duration) -> TokenIssuer {
        TokenIssuer {
            keys: Arc::new(keys),
            ttl,
            legacy: None,
        }
    }

    /// Also accepts tokens the Flask tutorial minted with itsdangerous under the old
    /// `SECRET_KEY`, until they expire. `None` leaves them refused.
    pub fn with_legacy(mut self, verifier: Option<LegacyVerifier>) -> TokenIssuer {
        self.legacy = verifier.map(Arc::new);
        self
    }

    /// Whether legacy tokens are accepted.
    pub fn accepts_legacy(&self) -> bool {
        self.legacy.is_some()
    }

    /// How long tokens live.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A fresh signed access token for `user` in `session`.
    pub fn issue(&self, user: &User, session: &SessionId) -> Result<String, ApiError> {
        let claims = Claims::new(user.id.to_string(), random_id(), Utc::now(), self.ttl)
            .with_sid(session.0.clone());
        self.keys
            .sign(&claims)
            .map_err(|e| ApiError::internal(&format!("signing failed: {e}")))
    }

    /// Verifies signature and time claims at the current time.
    pub fn verify(&self, token: &str) -> Result<Claims, tessera_token::Error> {
        self.keys.verify(token, Utc::now())
    }

    /// Verifies a legacy itsdangerous token at the current time; `None` when none are
    /// accepted.
    pub fn verify_legacy(&self, token: &str) -> Option<Result<LegacyClaims, tessera_token::Error>> {
        self.legacy
            .as_ref()
            .map(|verifier| verifier.verify(token, Utc::now()))
    }
}

/// 128 random bits, URL-safe: a token id (`jti`) no one can guess or repeat.
fn random_id() -> String {
    let mut bytes = [0u8; 16];
    // getrandom only fails when the OS has no entropy source at all; an all-zero id then
    // still yields a valid (if not unique) token rather than a failed sign-in.
    let _ = getrandom::fill(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A bounded pool for password hashing: at most `permits` bcrypt computations run at
/// once, on blocking threads, so a flood of sign-ins queues here instead of starving the
/// async workers that serve token-authenticated requests.
#[derive(Debug, Clone)]
pub struct HashingPool {
    permits: Arc<Semaphore>,
    waiting: Gauge,
    running: Gauge,
}

impl HashingPool {
    /// A pool running at most `concurrency` hashes at once (about the number of cores).
    pub fn new(concurrency: usize) -> HashingPool {
        HashingPool {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            waiting: Gauge::default(),
            running: Gauge::default(),
        }
    }

    /// Reports the queue depth and the hashes in progress to `metrics`.
    pub fn observed_by(mut self, metrics: &Metrics) -> HashingPool {
        (self.waiting, self.running) = metrics.hashing_gauges();
        self
    }

    /// Runs `work` (which hashes or verifies a password, and may touch the store) on a
    /// blocking thread once a permit is free.
    pub async fn run<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = {
            let _waiting = GaugeGuard::enter(&self.waiting);
            self.permits.acquire().await
        };
        let _permit = permit.map_err(|_| ApiError::internal("hashing pool closed"))?;
        let _running = GaugeGuard::enter(&self.running);
        web::block(work)
            .await
            .map_err(|e| ApiError::internal(&e.to_string()))
    }
}

/// Holds a gauge one higher while alive, also when the request is cancelled.
struct GaugeGuard<'a>(&'a Gauge);

impl<'a> GaugeGuard<'a> {
    fn enter(gauge: &'a Gauge) -> GaugeGuard<'a> {
        gauge.inc();
        GaugeGuard(gauge)
    }
}

impl Drop for GaugeGuard<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}
