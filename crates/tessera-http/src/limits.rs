//! Rate limits on sign-in and registration, applied before any password is checked.

use actix_web::{HttpRequest, web};
use chrono::{Duration, Utc};
use tessera_domain::{Limit, Throttle, Username, Verdict};

use crate::error::ApiError;
use crate::metrics::{Metrics, SignIn};
use crate::state::AppState;

/// The limits in force.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Where the counts live.
    pub throttle: Throttle,
    /// Consecutive failed sign-ins per account before it locks; 0 turns this off.
    pub sign_in_per_account: Limit,
    /// Failed sign-ins per client address (several accounts may share one).
    pub sign_in_per_address: Limit,
    /// Registrations per client address per window.
    pub registration_per_address: Limit,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy that sets it).
    pub trust_forwarded_for: bool,
}

impl Limits {
    /// The defaults for `max_failures` consecutive failures per account and
    /// `max_registrations` registrations per address and hour; 0 turns either off.
    pub fn new(throttle: Throttle, max_failures: i32, max_registrations: i32) -> Limits {
        let sign_in = |attempts| Limit {
            attempts,
            base_delay: Duration::seconds(5),
            max_delay: Duration::minutes(15),
            window: Duration::hours(1),
        };
        Limits {
            throttle,
            sign_in_per_account: sign_in(max_failures),
            sign_in_per_address: sign_in(max_failures.saturating_mul(5)),
            registration_per_address: Limit {
                attempts: max_registrations,
                base_delay: Duration::minutes(10),
                max_delay: Duration::hours(1),
                window: Duration::hours(1),
            },
            trust_forwarded_for: false,
        }
    }

    fn client_address(&self, request: &HttpRequest) -> String {
        let address = if self.trust_forwarded_for {
            request
                .connection_info()
                .realip_remote_addr()
                .map(str::to_owned)
        } else {
            request.peer_addr().map(|peer| peer.ip().to_string())
        };
        address.unwrap_or_else(|| "unknown".to_owned())
    }
}

/// The account key of a sign-in: the canonical name, so `Ann` and `ANN` share a count.
fn account_key(username: &str) -> String {
    let name =
        Username::parse(username).map_or_else(|_| username.to_lowercase(), |u| u.canonical());
    // Keys are bounded; a longer name is not a registered one anyway.
    let end = name
        .char_indices()
        .map(|(i, c)| i + c.len_utf8())
        .take_while(|&end| end <= 180)
        .last();
    format!("user:{}", &name[..end.unwrap_or(0)])
}

async fn reserve(state: &AppState, key: String, limit: Limit) -> Result<Verdict, ApiError> {
    let throttle = state.limits.throttle.clone();
    super::routes::blocking(move || {
        throttle
            .reserve(&key, &limit, Utc::now())
            .map_err(Into::into)
    })
    .await
}

/// A sign-in allowed to go ahead; tell it how it ended.
#[derive(Debug)]
pub(crate) struct SignInAttempt {
    account_key: String,
    address_key: String,
}

impl SignInAttempt {
    /// Reserves an attempt on the account and on the client address, or answers 429.
    pub(crate) async fn reserve(
        state: &AppState,
        metrics: &Metrics,
        request: &HttpRequest,
        username: &str,
    ) -> Result<SignInAttempt, ApiError> {
        let limits = &state.limits;
        let account_key = account_key(username);
        let address_key = format!("addr:{}", limits.client_address(request));
        for (key, limit) in [
            (account_key.clone(), limits.sign_in_per_account),
            (address_key.clone(), limits.sign_in_per_address),
        ] {
            if let Verdict::Locked(retry_after) = reserve(state, key, limit).await? {
                metrics.sign_in(SignIn::Throttled);
                return Err(ApiError::too_many_attempts(retry_after));
            }
        }
        Ok(SignInAttempt {
            account_key,
            address_key,
        })
    }

    /// The password was right: the account's count starts afresh, and the address gets its
    /// reservation back (only failures count against an address).
    pub(crate) async fn succeeded(self, state: &AppState) -> Result<(), ApiError> {
        let throttle = state.limits.throttle.clone();
        web::block(move || {
            throttle.clear(&self.account_key)?;
            throttle.release(&self.address_key)
        })
        .await
        .map_err(|e| ApiError::internal(&e.to_string()))?
        .map_err(|e| ApiError::from(tessera_domain::Error::from(e)))
    }
}

/// Reserves a registration for the client address, or answers 429.
pub(crate) async fn reserve_registration(
    state: &AppState,
    request: &HttpRequest,
) -> Result<(), ApiError> {
    let key = format!("register:{}", state.limits.client_address(request));
    match reserve(state, key, state.limits.registration_per_address).await? {
        Verdict::Allowed => Ok(()),
        Verdict::Locked(retry_after) => Err(ApiError::too_many_attempts(retry_after)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_keys_ignore_case_and_stay_bounded() {
        assert_eq!(account_key("Ann"), account_key("ANN"));
        assert!(account_key(&"é".repeat(500)).len() <= 185);
        assert_eq!(account_key(""), "user:");
    }
}
