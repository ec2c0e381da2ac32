//! The gateway's one error type, rendered as `application/problem+json`
//! (RFC 9457) with a stable `code` and the request id.

use actix_web::{http::StatusCode, HttpResponse, ResponseError};
use serde::Serialize;
use tonic_types::StatusExt;

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
    #[error("{0}")]
    NotFound(&'static str),
    #[error("too many requests; retry after the time in Retry-After")]
    RateLimited,
    #[error("rate limiting is unavailable; retry shortly")]
    LimiterUnavailable,
    #[error("this route only accepts a WebSocket upgrade")]
    NotWebSocket,
    /// A gateway-side dependency (the realtime subscriber) is away.
    #[error("{0}")]
    Unavailable(&'static str),
    /// An error answered by a service, mapped through the design's table.
    #[error("{message}")]
    Upstream {
        code: tonic::Code,
        message: String,
        fields: Vec<FieldError>,
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
            Self::NotFound(_) => (404, "not_found"),
            Self::RateLimited => (429, "rate_limited"),
            Self::LimiterUnavailable | Self::Unavailable(_) => (503, "unavailable"),
            Self::NotWebSocket => (400, "websocket_upgrade_required"),
            Self::Upstream { code, .. } => platform::status::http_for(*code),
        };
        (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code,
        )
    }
}

impl From<tonic::Status> for ApiError {
    fn from(s: tonic::Status) -> Self {
        // tonic reports its own client and server timeouts as CANCELLED; the
        // gateway never cancels a call it still waits for, so this is a
        // missed deadline.
        let code = match s.code() {
            tonic::Code::Cancelled => tonic::Code::DeadlineExceeded,
            c => c,
        };
        let fields = s
            .get_details_bad_request()
            .map(|br| {
                br.field_violations
                    .into_iter()
                    .map(|v| FieldError {
                        field: v.field,
                        message: v.description,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let message = match platform::status::public_message(code) {
            None => s.message().to_owned(),
            Some(fixed) => {
                // Logged here, once; the client sees a fixed message (transport
                // and database details stay inside).
                tracing::error!(grpc.code = ?s.code(), grpc.message = s.message(), "service call failed");
                fixed.to_owned()
            }
        };
        Self::Upstream {
            code,
            message,
            fields,
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
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status_and_code().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, code) = self.status_and_code();
        let errors = match self {
            Self::Validation(f) => f.clone(),
            Self::Upstream { fields, .. } => fields.clone(),
            _ => Vec::new(),
        };
        let body = Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            code,
            detail: self.to_string(),
            request_id: crate::middleware::current_request_id(),
            errors,
        };
        HttpResponse::build(status)
            .content_type("application/problem+json")
            .json(body)
    }
}
