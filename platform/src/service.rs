//! The services' one error type, the field-error collector their request
//! parsers share, and the exhaustive mapping to gRPC status. One definition
//! so every service answers the same status for the same failure and no
//! service copies another's database-error mapping.

use tonic::Status;

/// One rejected field of a request.
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
    /// A quota used up: RESOURCE_EXHAUSTED telling when it allows again.
    #[error("{message}")]
    QuotaExceeded {
        message: &'static str,
        retry_after: std::time::Duration,
    },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ServiceError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldViolation {
            field: field.into(),
            message: message.into(),
        }])
    }
}

impl From<crate::db::Failure> for ServiceError {
    fn from(f: crate::db::Failure) -> Self {
        match f {
            crate::db::Failure::Unavailable => Self::Unavailable,
            crate::db::Failure::Internal(e) => Self::Internal(e),
        }
    }
}

impl From<deadpool_postgres::PoolError> for ServiceError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        crate::db::Failure::from(e).into()
    }
}

impl From<tokio_postgres::Error> for ServiceError {
    fn from(e: tokio_postgres::Error) -> Self {
        crate::db::Failure::from(e).into()
    }
}

impl From<ServiceError> for Status {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(violations) => crate::status::invalid_argument(
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
            ServiceError::QuotaExceeded {
                message,
                retry_after,
            } => crate::status::quota_exceeded(message, retry_after),
            ServiceError::Internal(err) => {
                // Logged once here, where it is handled; the client gets no detail.
                tracing::error!(error = ?err, "internal error");
                Status::internal("internal error")
            }
        }
    }
}

/// Accumulates field errors while a request is parsed, so a client sees
/// every wrong field at once.
#[derive(Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldViolation {
            field: field.to_owned(),
            message: message.into(),
        });
    }

    /// Records the error of a failed parse and yields the value if any.
    pub fn take<T>(&mut self, field: &str, r: Result<T, String>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(m) => {
                self.add(field, m);
                None
            }
        }
    }

    pub fn into_violations(self) -> Vec<FieldViolation> {
        self.0
    }

    pub fn is_clean(&self) -> bool {
        self.0.is_empty()
    }

    pub fn finish(self) -> Result<(), ServiceError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ServiceError::Invalid(self.0))
        }
    }
}

/// The error of a parse that recorded no violation yet produced no value: a
/// bug in the parser, never the client's fault.
pub fn nothing() -> ServiceError {
    anyhow::anyhow!("parse without violations yielded nothing").into()
}

/// A required id field: a violation naming `field` unless it is a UUID.
pub fn parse_id(field: &str, raw: &str) -> Result<uuid::Uuid, ServiceError> {
    crate::text::parse_uuid(raw).ok_or_else(|| ServiceError::invalid(field, "must be a UUID"))
}
