//! The request id: a client's `X-Request-Id` when short and plain, else a
//! UUIDv7; the middleware runs each request in [`scope`], and error bodies
//! (`problem`) and gRPC metadata (`services`) read it with [`current`]. A
//! module of its own so that those need not import the middleware, which
//! itself renders problems.

use std::future::Future;

use actix_web::http::header::{HeaderName, HeaderValue};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static CURRENT: RequestId;
}

/// The request's id, also stored in request extensions for handlers.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// The id of the request being handled ("" outside a request).
pub fn current() -> String {
    CURRENT.try_with(|r| r.0.clone()).unwrap_or_default()
}

/// Runs `f` as the request `id`.
pub async fn scope<F: Future>(id: RequestId, f: F) -> F::Output {
    CURRENT.scope(id, f).await
}

/// A client-supplied id is kept only if it is short and plain, so it is safe
/// to log and to forward as gRPC metadata.
pub fn accepted(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    let ok = (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    ok.then(|| s.to_owned())
}
