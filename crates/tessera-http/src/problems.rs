//! The problem responses the OpenAPI document lists on many routes, declared once.

use std::collections::BTreeMap;

use utoipa::IntoResponses;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};

fn problem(description: &str) -> ResponseBuilder {
    let body = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("Problem")))
        .build();
    ResponseBuilder::new()
        .description(description)
        .content(tessera_api::PROBLEM_CONTENT_TYPE, body)
}

fn one(status: u16, response: ResponseBuilder) -> BTreeMap<String, RefOr<Response>> {
    BTreeMap::from([(status.to_string(), RefOr::T(response.build()))])
}

/// 400 on routes whose only input is the token.
pub(crate) struct BadAuthorization;

impl IntoResponses for BadAuthorization {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        one(400, problem("A malformed `Authorization` header"))
    }
}

/// 401 on routes that need a token.
pub(crate) struct TokenRequired;

impl IntoResponses for TokenRequired {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        one(
            401,
            problem("No token, or a malformed, forged, expired or revoked one"),
        )
    }
}

/// 408, 413 and 415 on routes that take a JSON body.
pub(crate) struct JsonBody;

impl IntoResponses for JsonBody {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut responses = one(
            408,
            problem("The body did not arrive within `request_body_timeout`"),
        );
        responses.extend(one(413, problem("The body is too large")));
        responses.extend(one(
            415,
            problem("The body is not `application/json`, or its `Content-Encoding` is unsupported"),
        ));
        responses
    }
}

/// 429 on routes within the sign-in and registration limits.
pub(crate) struct Throttled;

impl IntoResponses for Throttled {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let retry_after = HeaderBuilder::new()
            .schema(ObjectBuilder::new().schema_type(Type::String))
            .description(Some("Seconds to wait"))
            .build();
        one(
            429,
            problem("Too many attempts from this address or on this account; see Retry-After")
                .header("Retry-After", retry_after),
        )
    }
}

/// 503 on routes that reach the database.
pub(crate) struct Unavailable;

impl IntoResponses for Unavailable {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        one(503, problem("The database cannot be reached"))
    }
}

/// 401, 413, 429 and 503 of the OAuth endpoints, in RFC 6749 §5.2's shape.
pub(crate) struct OAuthFailures;

impl IntoResponses for OAuthFailures {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let oauth = |description: &str| {
            let body = ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("OAuthError")))
                .build();
            ResponseBuilder::new()
                .description(description)
                .content("application/json", body)
        };
        let mut responses = one(
            401,
            oauth("`invalid_client`: an unknown client id or a wrong secret"),
        );
        responses.extend(one(
            413,
            oauth("`invalid_request`: the form is over 16 KiB"),
        ));
        responses.extend(one(
            429,
            oauth("`too_many_attempts`: repeated failed client authentications; see Retry-After"),
        ));
        responses.extend(one(
            503,
            oauth("`temporarily_unavailable`: the database cannot be reached"),
        ));
        responses
    }
}
