//! notify-svc's gRPC boundary: one error type, mapped exhaustively to status.

use tonic::Status;

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

impl From<platform::db::Failure> for ServiceError {
    fn from(f: platform::db::Failure) -> Self {
        match f {
            platform::db::Failure::Unavailable => Self::Unavailable,
            platform::db::Failure::Internal(e) => Self::Internal(e),
        }
    }
}

impl From<deadpool_postgres::PoolError> for ServiceError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        platform::db::Failure::from(e).into()
    }
}

impl From<tokio_postgres::Error> for ServiceError {
    fn from(e: tokio_postgres::Error) -> Self {
        platform::db::Failure::from(e).into()
    }
}

impl From<ServiceError> for Status {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid { field, message } => {
                platform::status::invalid_argument([(field.as_str(), message.as_str())])
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
