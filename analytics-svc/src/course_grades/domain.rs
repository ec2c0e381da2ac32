//! The list request, parsed with every field error collected.

use platform::{
    paging::{self, Keyset},
    service::{ServiceError, Violations},
};
use proto::analytics::v1 as pb;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// After (course code, course id).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AfterCode(pub String, pub Uuid);

impl Keyset for AfterCode {
    const TAG: &'static str = "course-grades";
}

#[derive(Debug)]
pub struct Query {
    pub limit: u32,
    pub after: Option<AfterCode>,
}

impl TryFrom<pb::ListCourseGradesRequest> for Query {
    type Error = ServiceError;

    fn try_from(r: pb::ListCourseGradesRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let page = r.page.unwrap_or_default();
        let (limit, after) = paging::request::<AfterCode>(&mut v, page.limit, &page.cursor);
        v.finish()?;
        Ok(Self { limit, after })
    }
}
