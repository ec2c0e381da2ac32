//! Assertions on gRPC results.

use std::fmt::Debug;

use tonic::{Code, Status};

/// `.assert_code(Code::…)` on a call's result, in place of `.unwrap_err()`
/// followed by `assert_eq!(err.code(), Code::…)`.
pub trait AssertCode {
    /// Asserts that the call failed with `code` and returns its status (for
    /// its message, metadata or details). The panic shows the status'
    /// message, or the response when the call succeeded.
    ///
    /// ```ignore
    /// use platform::testing::AssertCode;
    /// let err = client.get_student(req).await.assert_code(Code::NotFound);
    /// ```
    fn assert_code(self, code: Code) -> Status;
}

impl<T: Debug> AssertCode for Result<T, Status> {
    #[track_caller]
    fn assert_code(self, code: Code) -> Status {
        match self {
            Err(status) if status.code() == code => status,
            Err(status) => panic!(
                "expected {code:?}, got {:?}: {:?}",
                status.code(),
                status.message()
            ),
            Ok(value) => panic!("expected {code:?}, got Ok: {value:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_the_status_of_the_expected_code() {
        let err = Err::<(), _>(Status::not_found("no such student")).assert_code(Code::NotFound);
        assert_eq!(err.message(), "no such student");
    }

    #[test]
    #[should_panic(expected = "expected NotFound, got PermissionDenied: \"not yours\"")]
    fn another_code_panics_with_its_message() {
        Err::<(), _>(Status::permission_denied("not yours")).assert_code(Code::NotFound);
    }

    #[test]
    #[should_panic(expected = "expected NotFound, got Ok: 7")]
    fn success_panics_with_the_response() {
        Ok::<_, Status>(7).assert_code(Code::NotFound);
    }
}
