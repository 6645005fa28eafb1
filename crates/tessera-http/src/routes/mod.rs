//! The routes, one module per family. Each handler parses the request, makes one use-case
//! call off the async workers, and maps the result to a response.

pub(crate) mod forward_auth;
pub(crate) mod health;
pub(crate) mod oauth;
pub(crate) mod tutorial;
pub(crate) mod v1;
pub(crate) mod well_known;

use actix_web::{HttpResponse, Resource, web};

use crate::error::ApiError;

/// A resource that answers other methods with a JSON 405 naming the allowed ones.
pub(crate) fn resource(path: &str, allow: &'static str) -> Resource {
    web::resource(path).default_service(web::to(move || async move {
        Err::<HttpResponse, _>(ApiError::method_not_allowed(allow))
    }))
}
