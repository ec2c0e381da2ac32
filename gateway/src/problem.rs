//! The gateway's one error type, rendered as `application/problem+json`
//! (RFC 9457) with a stable `code` and the request id.

use actix_web::{http::StatusCode, HttpResponse, ResponseError};
use serde::Serialize;

#[derive(Clone, Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON path of the offending field, e.g. `login.email`.
    pub field: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the request is invalid")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    MalformedBody(String),
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("the request body must be {0}")]
    UnsupportedMediaType(&'static str),
    #[error("{0}")]
    Unauthenticated(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    /// An admin reset the password: nothing is served until it is changed.
    #[error("the password must be changed first (POST /api/v1/auth/password)")]
    PasswordChangeRequired,
    #[error("{0}")]
    NotFound(&'static str),
    #[error("too many requests; retry after the time in Retry-After")]
    RateLimited,
    #[error("rate limiting is unavailable; retry shortly")]
    LimiterUnavailable,
    #[error("this route only accepts a WebSocket upgrade")]
    NotWebSocket,
    /// The path exists, not with this method; `Allow` lists those it takes.
    #[error("this path does not take this method; the Allow header lists those it does")]
    MethodNotAllowed,
    /// The request's headers are larger than the gateway reads.
    #[error("the request headers are larger than {0} bytes")]
    HeadersTooLarge(usize),
    /// A gateway-side dependency (the realtime subscriber) is away.
    #[error("{0}")]
    Unavailable(&'static str),
    /// An error answered by a service, mapped through the design's table.
    /// `field_count` is how many field errors the service found; it may have
    /// listed fewer (platform::status::MAX_FIELD_ERRORS).
    #[error("{message}")]
    Upstream {
        code: tonic::Code,
        message: String,
        fields: Vec<FieldError>,
        field_count: usize,
        /// Seconds until a used-up quota allows again (the service's
        /// `RetryInfo`), for `Retry-After`.
        retry_after: Option<u64>,
    },
}

impl ApiError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError {
            field: field.to_owned(),
            message: message.into(),
        }])
    }

    pub fn internal() -> Self {
        Self::Upstream {
            code: tonic::Code::Internal,
            message: "internal error".into(),
            fields: Vec::new(),
            field_count: 0,
            retry_after: None,
        }
    }

    /// (HTTP status, stable code) for this error.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        let (status, code) = match self {
            Self::Validation(_) => (400, "invalid_argument"),
            Self::MalformedBody(_) => (400, "malformed_body"),
            Self::PayloadTooLarge(_) => (413, "payload_too_large"),
            Self::UnsupportedMediaType(_) => (415, "unsupported_media_type"),
            Self::Unauthenticated(_) => (401, "unauthenticated"),
            Self::Forbidden(_) => (403, "permission_denied"),
            Self::PasswordChangeRequired => (403, "password_change_required"),
            Self::NotFound(_) => (404, "not_found"),
            Self::RateLimited => (429, "rate_limited"),
            Self::LimiterUnavailable | Self::Unavailable(_) => (503, "unavailable"),
            Self::NotWebSocket => (400, "websocket_upgrade_required"),
            Self::MethodNotAllowed => (405, "method_not_allowed"),
            Self::HeadersTooLarge(_) => (431, "headers_too_large"),
            Self::Upstream { code, .. } => platform::status::http_for(*code),
        };
        (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code,
        )
    }
}

/// The `code` of a rejected import (a 422 whose problem carries the import
/// report). Kept here, with the other codes, so that this module need not
/// import the routes that use it.
pub const IMPORT_REJECTED: &str = "import_rejected";

/// Every stable `code` a problem can carry: those of the gateway's own
/// errors and those of the service status table, in one sorted list (the
/// OpenAPI document's enum).
pub fn stable_codes() -> Vec<&'static str> {
    let own = [
        ApiError::Validation(Vec::new()),
        ApiError::MalformedBody(String::new()),
        ApiError::PayloadTooLarge(0),
        ApiError::UnsupportedMediaType(""),
        ApiError::Unauthenticated(""),
        ApiError::Forbidden(""),
        ApiError::PasswordChangeRequired,
        ApiError::NotFound(""),
        ApiError::RateLimited,
        ApiError::LimiterUnavailable,
        ApiError::NotWebSocket,
        ApiError::MethodNotAllowed,
        ApiError::HeadersTooLarge(0),
        ApiError::Unavailable(""),
    ];
    let mut codes: Vec<&'static str> = own
        .iter()
        .map(|e| match e {
            // A new variant must be listed above (this match fails to
            // compile until it is named here).
            ApiError::Validation(_)
            | ApiError::MalformedBody(_)
            | ApiError::PayloadTooLarge(_)
            | ApiError::UnsupportedMediaType(_)
            | ApiError::Unauthenticated(_)
            | ApiError::Forbidden(_)
            | ApiError::PasswordChangeRequired
            | ApiError::NotFound(_)
            | ApiError::RateLimited
            | ApiError::LimiterUnavailable
            | ApiError::NotWebSocket
            | ApiError::MethodNotAllowed
            | ApiError::HeadersTooLarge(_)
            | ApiError::Unavailable(_)
            | ApiError::Upstream { .. } => e.status_and_code().1,
        })
        .chain((0..=16).map(|c| platform::status::http_for(tonic::Code::from_i32(c)).1))
        .chain([IMPORT_REJECTED])
        .collect();
    codes.sort_unstable();
    codes.dedup();
    codes
}

impl From<tonic::Status> for ApiError {
    fn from(s: tonic::Status) -> Self {
        // A status with a source was made on this side of the connection,
        // from a transport error (an h2 reset, a frame or header list over
        // its limit), not answered by the service: whatever code tonic gave
        // it (RESOURCE_EXHAUSTED, INVALID_ARGUMENT...), it is not the
        // client's fault and must not read as "slow down" or "fix your
        // request". Only an unreachable service or a timeout keeps its code.
        let from_transport = std::error::Error::source(&s).is_some();
        let code = match s.code() {
            // tonic reports its own client and server timeouts as CANCELLED;
            // the gateway never cancels a call it still waits for, so this
            // is a missed deadline.
            tonic::Code::Cancelled => tonic::Code::DeadlineExceeded,
            c @ (tonic::Code::Unavailable | tonic::Code::DeadlineExceeded) => c,
            _ if from_transport => tonic::Code::Internal,
            c => c,
        };
        let (listed, field_count) = platform::status::field_errors(&s);
        let fields = listed
            .into_iter()
            .map(|(field, message)| FieldError { field, message })
            .collect();
        let message = match platform::status::public_message(code) {
            None => s.message().to_owned(),
            Some(fixed) => {
                // Logged here, once; the client sees a fixed message (transport
                // and database details stay inside).
                tracing::error!(grpc.code = ?s.code(), grpc.message = s.message(), "service call failed");
                fixed.to_owned()
            }
        };
        let retry_after = (code == tonic::Code::ResourceExhausted)
            .then(|| platform::status::retry_after(&s))
            .flatten()
            .map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0));
        Self::Upstream {
            code,
            message,
            fields,
            field_count,
            retry_after,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// Always `about:blank`; `code` identifies the problem.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: String,
    pub status: u16,
    /// Stable, machine-readable: clients switch on this.
    pub code: &'static str,
    pub detail: String,
    pub request_id: String,
    /// The first field errors found, at most 20 (a request with 1,000 bad
    /// entries is answered with the first 20 and `error_count` 1000).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 20)]
    pub errors: Vec<FieldError>,
    /// How many field errors were found in all; present with `errors`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_count: Option<usize>,
}

impl Problem {
    /// A problem with the field errors bounded: at most
    /// [`platform::status::MAX_FIELD_ERRORS`] listed, each clipped, and the
    /// total (`found`, or the list's length if larger) in `error_count`.
    pub fn with_errors(mut self, errors: &[FieldError], found: usize) -> Self {
        self.errors = errors
            .iter()
            .take(platform::status::MAX_FIELD_ERRORS)
            .map(|e| FieldError {
                field: platform::status::clip(&e.field),
                message: platform::status::clip(&e.message),
            })
            .collect();
        self.error_count = (!errors.is_empty()).then_some(found.max(errors.len()));
        self
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status_and_code().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, code) = self.status_and_code();
        let (errors, found): (&[FieldError], usize) = match self {
            Self::Validation(f) => (f, f.len()),
            Self::Upstream {
                fields,
                field_count,
                ..
            } => (fields, *field_count),
            _ => (&[], 0),
        };
        let body = Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            code,
            detail: self.to_string(),
            request_id: crate::request_id::current(),
            errors: Vec::new(),
            error_count: None,
        }
        .with_errors(errors, found);
        let mut res = HttpResponse::build(status);
        res.content_type("application/problem+json");
        if let Self::Upstream {
            code: tonic::Code::ResourceExhausted,
            retry_after,
            ..
        } = self
        {
            // A quota used up says when it allows again; a service too busy
            // to take the call (sign-ins in progress) is worth a retry after
            // a moment, as the 429 says.
            res.insert_header((
                actix_web::http::header::RETRY_AFTER,
                retry_after.unwrap_or(1).max(1),
            ));
        }
        res.json(body)
    }
}

/// The answer to a token whose session has ended (logout, revocation;
/// platform::sessions), as the edge gives it.
pub fn session_ended() -> HttpResponse {
    ApiError::Unauthenticated("the session has ended; sign in again").error_response()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use actix_web::{body::MessageBody, http::header::RETRY_AFTER};

    use super::*;

    fn answer(status: tonic::Status) -> (u16, Option<String>, serde_json::Value) {
        let res = ApiError::from(status).error_response();
        let code = res.status().as_u16();
        let retry = res
            .headers()
            .get(RETRY_AFTER)
            .map(|v| v.to_str().unwrap().to_owned());
        let body = res.into_body().try_into_bytes().unwrap();
        (code, retry, serde_json::from_slice(&body).unwrap())
    }

    #[test]
    fn transport_errors_are_never_the_clients_fault() {
        // What tonic makes of an h2 error on this side of the connection: a
        // status with a source. Whatever its code, it is a 500 with the
        // fixed message, never a 429 or a 400 with transport text.
        for code in [
            tonic::Code::ResourceExhausted,
            tonic::Code::InvalidArgument,
            tonic::Code::Internal,
            tonic::Code::Unknown,
        ] {
            let mut s = tonic::Status::new(code, "h2 protocol error: http2 error");
            s.set_source(Arc::new(std::io::Error::other("frame too large")));
            let (status, retry, body) = answer(s);
            assert_eq!((status, retry), (500, None), "{code:?}");
            assert_eq!(body["detail"], "internal error");
            assert_eq!(body["code"], "internal");
        }
        // An unreachable service stays a 503.
        let mut s = tonic::Status::unavailable("tcp connect error");
        s.set_source(Arc::new(std::io::Error::other("refused")));
        assert_eq!(answer(s).0, 503);
    }

    #[test]
    fn a_busy_service_is_a_429_with_retry_after() {
        let (status, retry, body) = answer(tonic::Status::resource_exhausted(
            "too many sign-ins in progress; retry shortly",
        ));
        assert_eq!((status, retry.as_deref()), (429, Some("1")));
        assert_eq!(body["code"], "rate_limited");
        // A used-up quota answers with its own delay, rounded up.
        let (status, retry, _) = answer(platform::status::quota_exceeded(
            "daily quota used",
            std::time::Duration::from_millis(3_600_500),
        ));
        assert_eq!((status, retry.as_deref()), (429, Some("3601")));
    }

    #[test]
    fn problems_list_at_most_twenty_errors_and_count_them_all() {
        let errors: Vec<FieldError> = (0..1000)
            .map(|i| FieldError {
                field: format!("entries[{i}].student_id"),
                message: "x".repeat(1000),
            })
            .collect();
        let res = ApiError::Validation(errors).error_response();
        let body: serde_json::Value =
            serde_json::from_slice(&res.into_body().try_into_bytes().unwrap()).unwrap();
        assert_eq!(body["errors"].as_array().unwrap().len(), 20);
        assert_eq!(body["error_count"], 1000);
        assert!(body["errors"][0]["message"].as_str().unwrap().len() <= 128);
        assert!(body.to_string().len() < 8 * 1024);
    }
}
