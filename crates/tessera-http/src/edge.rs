//! The connection edge, before any route: a deadline for request bodies, a cap on open
//! connections per client address, the size limit of request heads, and problem bodies
//! for CORS refusals.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, Ipv6Addr, Shutdown};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use actix_cors::CorsError;
use actix_web::HttpMessage;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Extensions, Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::rt::net::TcpStream;
use actix_web::rt::time::{Sleep, sleep};
use actix_web::web::Bytes;
use futures_core::Stream;

use crate::client_address::TrustedProxies;
use crate::error::{ApiError, BodyTimedOut};

/// The most bytes of request line and headers the app accepts (each header counted as
/// `name: value` and its line end). actix itself drops heads past its 128 KiB read buffer,
/// or with more than 96 header lines, with a bare 431 or 400 before the app sees them.
pub const MAX_HEAD_BYTES: usize = 32 * 1024;

/// The per-request limits the middleware reads from the app data.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestLimits {
    /// The whole body must have arrived this long after the head.
    pub(crate) body_timeout: Duration,
}

/// Head size, content coding and body deadline for every request.
pub(crate) async fn request_limits(
    mut request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if head_bytes(&request) > MAX_HEAD_BYTES {
        return Ok(request.error_response(ApiError::headers_too_large(MAX_HEAD_BYTES)));
    }
    if !known_content_encoding(&request) {
        return Ok(request.error_response(ApiError::unsupported_content_encoding()));
    }
    let Some(limits) = request.app_data::<RequestLimits>().copied() else {
        return Ok(next.call(request).await?.map_into_boxed_body());
    };
    let payload = request.take_payload();
    if matches!(payload, Payload::None) {
        return Ok(next.call(request).await?.map_into_boxed_body());
    }
    // A body no route reads needs no deadline: actix closes the connection after the
    // answer rather than read the rest.
    let body = DeadlineBody {
        inner: payload,
        deadline: Box::pin(sleep(limits.body_timeout)),
        timeout: limits.body_timeout,
        timed_out: false,
    };
    request.set_payload(Payload::from(
        Box::pin(body) as Pin<Box<dyn Stream<Item = _>>>
    ));
    Ok(next.call(request).await?.map_into_boxed_body())
}

/// Whether the body's `Content-Encoding` is one actix decodes: none, identity, or a single
/// gzip or deflate. It reads anything else as identity.
fn known_content_encoding(request: &ServiceRequest) -> bool {
    let mut values = request
        .headers()
        .get_all(actix_web::http::header::CONTENT_ENCODING);
    match (values.next(), values.next()) {
        (None, _) => true,
        (Some(value), None) => value.to_str().is_ok_and(|coding| {
            ["identity", "gzip", "x-gzip", "deflate"]
                .iter()
                .any(|known| coding.trim().eq_ignore_ascii_case(known))
        }),
        (Some(_), Some(_)) => false,
    }
}

/// The request line and headers as they came, near enough: what a client makes the
/// server hold.
fn head_bytes(request: &ServiceRequest) -> usize {
    let line = request.method().as_str().len()
        + request
            .uri()
            .path_and_query()
            .map_or(1, |p| p.as_str().len())
        + " HTTP/1.1\r\n".len();
    request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + ": \r\n".len())
        .sum::<usize>()
        + line
}

/// A request body that ends with [`BodyTimedOut`] once its deadline passes, however
/// slowly bytes still trickle in.
struct DeadlineBody {
    inner: Payload,
    deadline: Pin<Box<Sleep>>,
    timeout: Duration,
    timed_out: bool,
}

impl Stream for DeadlineBody {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.timed_out {
            return Poll::Ready(None);
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            this.timed_out = true;
            let error =
                std::io::Error::new(std::io::ErrorKind::TimedOut, BodyTimedOut(this.timeout));
            return Poll::Ready(Some(Err(PayloadError::Io(error))));
        }
        Pin::new(&mut this.inner).poll_next(cx)
    }
}

/// Open connections per client address, across all workers. An address is a single IPv4
/// address, or an IPv6 /64 (one host usually holds the whole /64). Trusted proxies are
/// not capped: every client behind them shares their address.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionCap {
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
    /// 0 turns the cap off.
    most: usize,
    exempt: TrustedProxies,
}

impl ConnectionCap {
    pub(crate) fn new(most: usize, exempt: TrustedProxies) -> ConnectionCap {
        ConnectionCap {
            open: Arc::default(),
            most,
            exempt,
        }
    }

    /// `HttpServer::on_connect`: counts the connection for as long as it lives (its
    /// [`Slot`] sits in the connection's data), or over the cap closes it at once, before
    /// anything is read.
    pub(crate) fn on_connect(&self, connection: &dyn std::any::Any, data: &mut Extensions) {
        if self.most == 0 {
            return;
        }
        let Some(stream) = connection.downcast_ref::<TcpStream>() else {
            return;
        };
        let Ok(peer) = stream.peer_addr() else {
            return;
        };
        if self.exempt.contains(peer.ip()) {
            return;
        }
        match self.admit(client_key(peer.ip())) {
            Some(slot) => {
                data.insert(slot);
            }
            None => {
                // Debug, not warn: one client could otherwise fill the log.
                tracing::debug!(peer = %peer.ip(), "connection closed: too many from this address");
                let _ = socket2::SockRef::from(stream).shutdown(Shutdown::Both);
            }
        }
    }

    fn admit(&self, key: IpAddr) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(key).or_insert(0);
        if *count >= self.most {
            return None;
        }
        *count += 1;
        Some(Slot {
            open: self.open.clone(),
            key,
        })
    }
}

/// One counted connection; dropped with the connection.
#[derive(Debug)]
struct Slot {
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
    key: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.key) {
            *count -= 1;
            // The map holds only addresses with open connections.
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// What the cap counts against: the IPv4 address (also when IPv4-mapped), or the IPv6 /64.
fn client_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64))),
        },
    }
}

/// actix-cors answers a refusal with a plain-text 400; this turns it into a problem body:
/// 403 when the origin, method or headers are not allowed, 400 for a malformed preflight.
pub(crate) async fn cors_problems(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let response = next.call(request).await?;
    let refusal = response
        .response()
        .error()
        .and_then(|error| error.as_error::<CorsError>())
        .map(cors_refusal);
    Ok(match refusal {
        Some(error) => {
            let (request, _) = response.into_parts();
            ServiceResponse::new(request, actix_web::ResponseError::error_response(&error))
        }
        None => response.map_into_boxed_body(),
    })
}

fn cors_refusal(error: &CorsError) -> ApiError {
    let (status, detail) = match error {
        CorsError::OriginNotAllowed => (
            StatusCode::FORBIDDEN,
            "this origin may not call the API (see cors_origins)",
        ),
        CorsError::MethodNotAllowed => (
            StatusCode::FORBIDDEN,
            "this method may not be used from another origin",
        ),
        CorsError::HeadersNotAllowed => (
            StatusCode::FORBIDDEN,
            "these request headers may not be sent from another origin",
        ),
        _ => (
            StatusCode::BAD_REQUEST,
            "malformed CORS preflight: send Origin and Access-Control-Request-Method",
        ),
    };
    ApiError::cors_refused(status, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(other));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_key(mapped), IpAddr::V4([192, 0, 2, 7].into()));
    }

    #[test]
    fn slots_are_released_and_the_map_empties() {
        let cap = ConnectionCap::new(2, TrustedProxies::default());
        let key = IpAddr::V4([192, 0, 2, 1].into());
        let first = cap.admit(key);
        let second = cap.admit(key);
        assert!(first.is_some() && second.is_some());
        assert!(cap.admit(key).is_none(), "the third is over the cap");
        assert!(cap.admit(IpAddr::V4([192, 0, 2, 2].into())).is_some());
        drop(first);
        assert!(
            cap.admit(key).is_some(),
            "a closed connection frees its slot"
        );
        drop(second);
        let open = cap.open.lock().unwrap_or_else(PoisonError::into_inner);
        assert!(open.is_empty(), "{open:?}");
    }
}
