//! Per-request plumbing: request id (accepted or generated), response time,
//! and one access-log line per request.

use std::time::Instant;

use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::{self, HeaderName, HeaderValue},
    middleware::{ErrorHandlerResponse, Next},
    HttpMessage,
};
use tracing::Instrument;
use uuid::Uuid;

use crate::request_id::{self, accepted, RequestId, REQUEST_ID};

pub const RESPONSE_TIME: HeaderName = HeaderName::from_static("x-response-time");

static SLOW_REQUEST: std::sync::OnceLock<std::time::Duration> = std::sync::OnceLock::new();

/// Requests slower than this are logged at warn (SLOW_REQUEST_MS).
pub fn set_slow_request(threshold: std::time::Duration) {
    let _ = SLOW_REQUEST.set(threshold);
}

fn slow_request() -> std::time::Duration {
    *SLOW_REQUEST.get_or_init(|| std::time::Duration::from_secs(1))
}

/// The method as a metrics label, from a closed set: a client can send any
/// token as a method, and each would otherwise be a new series.
fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "other",
    }
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
    let method = method_label(req.method());
    // The rate-limit class (`read`, `write`, `login`, `expensive`; `none` for
    // probes and the spec): SLOs are per class.
    let class = crate::ratelimit::RouteClass::of(req.method(), req.path())
        .map_or("none", crate::ratelimit::RouteClass::name);
    let path = req.path().to_owned();
    let span = tracing::info_span!("http", request.id = %id, http.method = %method,
        http.route = tracing::field::Empty, trace.id = tracing::field::Empty);
    platform::telemetry::adopt_parent(&span, &IncomingHeaders(req.headers()));
    let mut res = request_id::scope(rid, next.call(req).instrument(span.clone())).await?;
    let elapsed = started.elapsed();
    let status = res.status().as_u16();
    // The route pattern, never the raw path: ids must not become labels.
    let route = route_label(&res);
    span.record("http.route", route.as_str());
    metrics::histogram!("http_server_request_duration_seconds",
        "method" => method, "route" => route.clone(), "class" => class)
    .record(elapsed.as_secs_f64());
    metrics::counter!("http_server_requests_total",
        "method" => method, "route" => route, "class" => class, "status" => status.to_string())
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

/// actix answers a method a resource does not take with an empty 405 and an
/// `Allow` header; this gives it the problem+json body every error has,
/// keeping `Allow`.
pub fn method_not_allowed<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let allow = res.headers().get(header::ALLOW).cloned();
    let (req, _) = res.into_parts();
    let mut problem =
        actix_web::ResponseError::error_response(&crate::problem::ApiError::MethodNotAllowed);
    if let Some(allow) = allow {
        problem.headers_mut().insert(header::ALLOW, allow);
    }
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, problem).map_into_right_body(),
    ))
}

/// Headers past this many bytes in all are refused with a 431 problem
/// before any work is done. (actix itself reads at most 128 KiB of a request
/// head; past that it answers a bare 431 and closes the connection.)
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Refuses requests whose headers are larger than [`MAX_HEADER_BYTES`].
pub async fn header_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let size: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if size > MAX_HEADER_BYTES {
        let (req, _) = req.into_parts();
        let res = actix_web::ResponseError::error_response(
            &crate::problem::ApiError::HeadersTooLarge(MAX_HEADER_BYTES),
        );
        return Ok(ServiceResponse::new(req, res));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}
