//! The routes, one module per family.

pub(crate) mod health;
pub(crate) mod tutorial;
pub(crate) mod v1;

use actix_web::{HttpResponse, Resource, web};

use crate::error::ApiError;

/// A resource that answers other methods with a JSON 405 naming the allowed ones.
pub(crate) fn resource(path: &str, allow: &'static str) -> Resource {
    web::resource(path).default_service(web::to(move || async move {
        Err::<HttpResponse, _>(ApiError::method_not_allowed(allow))
    }))
}

/// Runs a blocking domain call (storage) off the async workers.
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
