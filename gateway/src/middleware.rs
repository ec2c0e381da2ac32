//! Per-request plumbing: request id (accepted or generated), response time,
//! and one access-log line per request.

use std::time::Instant;

use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::{HeaderName, HeaderValue},
    middleware::Next,
    HttpMessage,
};
use tracing::Instrument;
use uuid::Uuid;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
pub const RESPONSE_TIME: HeaderName = HeaderName::from_static("x-response-time");

tokio::task_local! {
    static CURRENT: RequestId;
}

/// The request's id, also stored in request extensions for handlers.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// The id of the request being handled, for error bodies.
pub fn current_request_id() -> String {
    CURRENT.try_with(|r| r.0.clone()).unwrap_or_default()
}

/// A client-supplied id is kept only if it is short and plain, so it is safe
/// to log and to forward as gRPC metadata.
fn accepted(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    let ok = (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    ok.then(|| s.to_owned())
}

static SLOW_REQUEST: std::sync::OnceLock<std::time::Duration> = std::sync::OnceLock::new();

/// Requests slower than this are logged at warn (SLOW_REQUEST_MS).
pub fn set_slow_request(threshold: std::time::Duration) {
    let _ = SLOW_REQUEST.set(threshold);
}

fn slow_request() -> std::time::Duration {
    *SLOW_REQUEST.get_or_init(|| std::time::Duration::from_secs(1))
}

fn route_label<B>(res: &ServiceResponse<B>) -> String {
    res.request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned())
}

/// Incoming HTTP headers as a trace-context carrier (`traceparent`).
struct IncomingHeaders<'a>(&'a actix_web::http::header::HeaderMap);

impl opentelemetry::propagation::Extractor for IncomingHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(accepted)
        .unwrap_or_else(|| Uuid::now_v7().to_string());
    let rid = RequestId(id.clone());
    req.extensions_mut().insert(rid.clone());
    let method = req.method().clone();
    let path = req.path().to_owned();
    let span = tracing::info_span!("http", request.id = %id, http.method = %method,
        http.route = tracing::field::Empty, trace.id = tracing::field::Empty);
    platform::telemetry::adopt_parent(&span, &IncomingHeaders(req.headers()));
    let mut res = CURRENT
        .scope(rid, next.call(req).instrument(span.clone()))
        .await?;
    let elapsed = started.elapsed();
    let status = res.status().as_u16();
    // The route pattern, never the raw path: ids must not become labels.
    let route = route_label(&res);
    span.record("http.route", route.as_str());
    metrics::histogram!("http_server_request_duration_seconds",
        "method" => method.to_string(), "route" => route.clone())
    .record(elapsed.as_secs_f64());
    metrics::counter!("http_server_requests_total",
        "method" => method.to_string(), "route" => route, "status" => status.to_string())
    .increment(1);
    let duration_ms = elapsed.as_secs_f64() * 1000.0;
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("{duration_ms:.3}ms")) {
        res.headers_mut().insert(RESPONSE_TIME, v);
    }
    if elapsed > slow_request() {
        tracing::warn!(request.id = %id, http.method = %method, http.route = %route_label(&res), http.status = status, duration_ms, "slow request");
    } else if status >= 500 {
        tracing::warn!(request.id = %id, http.method = %method, http.path = %path, http.status = status, duration_ms, "request failed");
    } else {
        tracing::debug!(request.id = %id, http.method = %method, http.path = %path, http.status = status, duration_ms, "request");
    }
    Ok(res)
}
