//! Which enrolment a request names, and the roster's paging.

use platform::paging::{self, Keyset};
use platform::service::{nothing, ServiceError, Violations};
use proto::students::v1 as pb;
use uuid::Uuid;

use crate::values::uuid;

/// A course and a student, as both enrolment RPCs name them.
pub struct EnrolmentKey {
    pub course_id: Uuid,
    pub student_id: Uuid,
}

impl EnrolmentKey {
    pub fn parse(course_id: &str, student_id: &str) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let course_id = v.take("course_id", uuid(course_id));
        let student_id = v.take("student_id", uuid(student_id));
        v.finish()?;
        Ok(Self {
            course_id: course_id.ok_or_else(nothing)?,
            student_id: student_id.ok_or_else(nothing)?,
        })
    }
}

/// Position after the last enrolment of a roster page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RosterCursor(pub Uuid);

impl Keyset for RosterCursor {
    const TAG: &'static str = "r";
}

pub struct RosterQuery {
    pub course_id: Uuid,
    pub after: Option<RosterCursor>,
    pub limit: u32,
}

impl TryFrom<pb::ListRosterRequest> for RosterQuery {
    type Error = ServiceError;
    fn try_from(r: pb::ListRosterRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let course_id = v.take("course_id", uuid(&r.course_id));
        let page = r.page.unwrap_or_default();
        let (limit, after) = paging::request::<RosterCursor>(&mut v, page.limit, &page.cursor);
        v.finish()?;
        Ok(Self {
            course_id: course_id.ok_or_else(nothing)?,
            after,
            limit,
        })
    }
}
