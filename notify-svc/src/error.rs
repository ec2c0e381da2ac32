//! notify-svc's gRPC boundary: one error type, mapped exhaustively to status.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid {field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("database busy")]
    Unavailable,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ServiceError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<deadpool_postgres::PoolError> for ServiceError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Timeout(_) => {
                metrics::counter!("db_pool_timeouts_total").increment(1);
                Self::Unavailable
            }
            deadpool_postgres::PoolError::Backend(e) => e.into(),
            other => Self::Internal(other.into()),
        }
    }
}

impl From<tokio_postgres::Error> for ServiceError {
    fn from(e: tokio_postgres::Error) -> Self {
        // A statement_timeout cancellation is load and a lost connection an
        // outage: both retryable, neither a bug.
        let io = std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>());
        if e.code() == Some(&tokio_postgres::error::SqlState::QUERY_CANCELED) || e.is_closed() || io
        {
            return Self::Unavailable;
        }
        Self::Internal(e.into())
    }
}

impl From<ServiceError> for Status {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid { field, message } => {
                let mut details = ErrorDetails::new();
                details.add_bad_request_violation(field.clone(), message.clone());
                Status::with_error_details(
                    Code::InvalidArgument,
                    format!("{field}: {message}"),
                    details,
                )
            }
            ServiceError::NotFound(what) => Status::not_found(format!("{what} not found")),
            ServiceError::Unavailable => Status::unavailable("database busy, retry shortly"),
            ServiceError::Internal(err) => {
                // Logged once, where it is handled; the client gets no detail.
                tracing::error!(error = ?err, "internal error");
                Status::internal("internal error")
            }
        }
    }
}
