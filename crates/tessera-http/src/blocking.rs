//! The one helper for blocking work.

use actix_web::web;

use crate::error::ApiError;

/// The one way blocking work (storage, hashing) runs: on actix's blocking pool, its
/// domain error mapped by `From`, a lost thread as a 500.
pub(crate) async fn blocking<T, F>(work: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, tessera_domain::Error> + Send + 'static,
    T: Send + 'static,
{
    web::block(work)
        .await
        .map_err(|e| ApiError::internal(&e.to_string()))?
        .map_err(ApiError::from)
}
