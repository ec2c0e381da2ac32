//! The service's one error type and its exhaustive mapping to gRPC status.

use tonic::Status;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid request")]
    Invalid(Vec<FieldViolation>),
    #[error("{0}")]
    Unauthenticated(&'static str),
    #[error("{0}")]
    PermissionDenied(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    AlreadyExists(&'static str),
    #[error("the record was changed by someone else; reload and retry")]
    VersionConflict,
    #[error("{0}")]
    FailedPrecondition(&'static str),
    #[error("database busy")]
    Unavailable,
    #[error("{0}")]
    Busy(&'static str),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ServiceError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldViolation {
            field: field.to_owned(),
            message: message.into(),
        }])
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
            ServiceError::Invalid(violations) => platform::status::invalid_argument(
                violations
                    .iter()
                    .map(|v| (v.field.as_str(), v.message.as_str())),
            ),
            ServiceError::Unauthenticated(m) => Status::unauthenticated(m),
            ServiceError::PermissionDenied(m) => Status::permission_denied(m),
            ServiceError::NotFound(what) => Status::not_found(format!("{what} not found")),
            ServiceError::AlreadyExists(m) => Status::already_exists(m),
            e @ ServiceError::VersionConflict => Status::aborted(e.to_string()),
            ServiceError::FailedPrecondition(m) => Status::failed_precondition(m),
            ServiceError::Unavailable => Status::unavailable("database busy, retry shortly"),
            ServiceError::Busy(m) => Status::resource_exhausted(m),
            ServiceError::Internal(err) => {
                // Logged once here, where it is handled; the client gets no detail.
                tracing::error!(error = ?err, "internal error");
                Status::internal("internal error")
            }
        }
    }
}
