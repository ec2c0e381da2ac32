//! The one table from gRPC status codes to HTTP; the gateway maps every
//! service error through it, and docs/ARCHITECTURE.md repeats it.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

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

/// At most this many field errors travel in one error, between services and
/// in an HTTP problem; the total travels beside them. gRPC carries errors in
/// HTTP/2 trailers, which the gateway's client caps at 16 KiB: 1,000 listed
/// entries would not fit, and the call would fail as a transport error.
pub const MAX_FIELD_ERRORS: usize = 20;

/// Field names and messages are cut to this many bytes (they are the
/// services' own words, but may quote a client's input). With
/// [`MAX_FIELD_ERRORS`] this keeps an error under 10 KiB on the wire.
pub const MAX_FIELD_ERROR_BYTES: usize = 128;

/// `ErrorInfo.reason` of an INVALID_ARGUMENT whose metadata `count` holds the
/// number of field errors found, when more were found than are listed.
pub const INVALID_FIELDS: &str = "INVALID_FIELDS";

/// The domain of Schoolhouse's `ErrorInfo` details.
pub const ERROR_DOMAIN: &str = "schoolhouse";

/// `text` cut to at most [`MAX_FIELD_ERROR_BYTES`] bytes on a character
/// boundary, ending in `…` if cut.
pub fn clip(text: &str) -> String {
    if text.len() <= MAX_FIELD_ERROR_BYTES {
        return text.to_owned();
    }
    let mut end = MAX_FIELD_ERROR_BYTES - '…'.len_utf8();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// INVALID_ARGUMENT naming the bad fields, bounded whatever their number: the
/// first [`MAX_FIELD_ERRORS`] as `BadRequest` violations (clipped), and, when
/// there are more, the total in an [`INVALID_FIELDS`] `ErrorInfo`. The message
/// repeats the first few for logs and plain gRPC clients.
pub fn invalid_argument<'a>(violations: impl IntoIterator<Item = (&'a str, &'a str)>) -> Status {
    const IN_MESSAGE: usize = 3;
    let mut details = ErrorDetails::new();
    let mut summary = Vec::new();
    let mut count = 0usize;
    for (field, message) in violations {
        if count < MAX_FIELD_ERRORS {
            details.add_bad_request_violation(clip(field), clip(message));
        }
        if count < IN_MESSAGE {
            summary.push(format!("{}: {}", clip(field), clip(message)));
        }
        count += 1;
    }
    let mut message = summary.join("; ");
    if count > IN_MESSAGE {
        message.push_str(&format!(" (and {} more)", count - IN_MESSAGE));
    }
    if count > MAX_FIELD_ERRORS {
        details.set_error_info(
            INVALID_FIELDS,
            ERROR_DOMAIN,
            [("count".to_owned(), count.to_string())],
        );
    }
    Status::with_error_details(Code::InvalidArgument, message, details)
}

/// The field errors of a status and how many there were in all (more than
/// listed when the sender had to cut the list).
pub fn field_errors(status: &Status) -> (Vec<(String, String)>, usize) {
    let listed: Vec<(String, String)> = status
        .get_details_bad_request()
        .map(|br| {
            br.field_violations
                .into_iter()
                .take(MAX_FIELD_ERRORS)
                .map(|v| (v.field, v.description))
                .collect()
        })
        .unwrap_or_default();
    let count = status
        .get_details_error_info()
        .filter(|i| i.reason == INVALID_FIELDS && i.domain == ERROR_DOMAIN)
        .and_then(|i| i.metadata.get("count")?.parse::<usize>().ok())
        .unwrap_or(0)
        .max(listed.len());
    (listed, count)
}

/// RESOURCE_EXHAUSTED for a quota used up, with how long until it allows
/// again as a `RetryInfo` (the gateway's `Retry-After`).
pub fn quota_exceeded(message: &str, retry_after: std::time::Duration) -> Status {
    Status::with_error_details(
        Code::ResourceExhausted,
        message,
        ErrorDetails::with_retry_info(Some(retry_after)),
    )
}

/// The `RetryInfo` delay of a status, if it carries one.
pub fn retry_after(status: &Status) -> Option<std::time::Duration> {
    status.get_details_retry_info()?.retry_delay
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quota_carries_its_retry_delay() {
        let s = quota_exceeded("daily quota used", std::time::Duration::from_secs(3600));
        assert_eq!(s.code(), Code::ResourceExhausted);
        assert_eq!(retry_after(&s), Some(std::time::Duration::from_secs(3600)));
        assert_eq!(retry_after(&Status::resource_exhausted("busy")), None);
    }

    #[test]
    fn invalid_argument_is_bounded_and_counts_what_it_cuts() {
        let fields: Vec<String> = (0..1000)
            .map(|i| format!("entries[{i}].student_id"))
            .collect();
        let long = "é".repeat(10_000);
        let status = invalid_argument(fields.iter().map(|f| (f.as_str(), long.as_str())));
        assert_eq!(status.code(), Code::InvalidArgument);
        let (listed, count) = field_errors(&status);
        assert_eq!(count, 1000);
        assert_eq!(listed.len(), MAX_FIELD_ERRORS);
        assert_eq!(listed[19].0, "entries[19].student_id");
        assert!(listed[0].1.len() <= MAX_FIELD_ERROR_BYTES);
        assert!(listed[0].1.ends_with("é…"), "{}", listed[0].1);
        assert!(
            status.message().ends_with("(and 997 more)"),
            "{}",
            status.message()
        );
        // Well inside the 16 KiB the trailers may take, as they are sent:
        // details in base64, the message percent-encoded.
        let wire = status.details().len() * 4 / 3 + status.message().len() * 3;
        assert!(wire < 10 * 1024, "{wire} bytes");

        let few = invalid_argument([("name", "must not be empty")]);
        assert_eq!(few.message(), "name: must not be empty");
        let (listed, count) = field_errors(&few);
        assert_eq!((listed.len(), count), (1, 1));
        assert!(few.get_details_error_info().is_none());
    }

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
