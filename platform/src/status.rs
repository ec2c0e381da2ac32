//! The one table from gRPC status codes to HTTP (design.md §6). The gateway
//! maps every service error through it; docs/ARCHITECTURE.md repeats it.

use tonic::Code;

/// HTTP status and the stable machine-readable `code` clients switch on.
pub const fn http_for(code: Code) -> (u16, &'static str) {
    match code {
        Code::InvalidArgument => (400, "invalid_argument"),
        Code::Unauthenticated => (401, "unauthenticated"),
        Code::PermissionDenied => (403, "permission_denied"),
        Code::NotFound => (404, "not_found"),
        Code::AlreadyExists => (409, "already_exists"),
        Code::Aborted => (409, "version_conflict"),
        Code::FailedPrecondition => (422, "failed_precondition"),
        Code::ResourceExhausted => (429, "rate_limited"),
        Code::Unavailable => (503, "unavailable"),
        Code::DeadlineExceeded => (504, "deadline_exceeded"),
        Code::Ok
        | Code::Cancelled
        | Code::Unknown
        | Code::OutOfRange
        | Code::Unimplemented
        | Code::Internal
        | Code::DataLoss => (500, "internal"),
    }
}

/// The fixed message clients see instead of a 5xx status' own text, so SQL,
/// transport errors and stack details never leak; `None` for 4xx, whose
/// messages are written for clients.
pub const fn public_message(code: Code) -> Option<&'static str> {
    match code {
        Code::Unavailable => Some("a service is temporarily unavailable; retry shortly"),
        Code::DeadlineExceeded => Some("the request took too long; retry shortly"),
        _ if http_for(code).0 >= 500 => Some("internal error"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_design() {
        assert_eq!(http_for(Code::InvalidArgument).0, 400);
        assert_eq!(http_for(Code::Aborted), (409, "version_conflict"));
        assert_eq!(http_for(Code::FailedPrecondition).0, 422);
        assert_eq!(http_for(Code::DeadlineExceeded).0, 504);
        assert_eq!(http_for(Code::Internal).0, 500);
        assert_eq!(public_message(Code::Internal), Some("internal error"));
        assert!(public_message(Code::Unavailable).is_some());
        assert_eq!(public_message(Code::NotFound), None);
    }
}
