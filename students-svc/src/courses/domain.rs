//! Course values and the CourseService requests parsed into them (every
//! field error collected).

use platform::paging::{self, Keyset};
use platform::service::{nothing, ServiceError, Violations};
use proto::students::v1 as pb;
use uuid::Uuid;

use crate::values::{bounded_text as text, uuid};

/// Course code, unique per school and term: 1-20 of letters, digits, `-`, `.`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CourseCode(String);

impl CourseCode {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        let ok = (1..=platform::limits::COURSE_CODE_MAX).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.'));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err("code must be 1-20 of letters, digits, '-', '.'".into())
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CourseName(String);

impl CourseName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        text(raw, "name", platform::limits::TITLE_MAX).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A school term (`YYYY-Tn`): shared with notify-svc, whose report cards
/// cover one.
pub use platform::text::Term;

/// 1 to 500 seats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capacity(i32);

impl Capacity {
    pub fn parse(raw: i32) -> Result<Self, String> {
        if (1..=platform::limits::CAPACITY_MAX).contains(&raw) {
            Ok(Self(raw))
        } else {
            Err("capacity must be between 1 and 500".into())
        }
    }
    pub fn get(self) -> i32 {
        self.0
    }
}

pub struct NewCourse {
    pub code: CourseCode,
    pub name: CourseName,
    pub term: Term,
    pub teacher_id: Uuid,
    pub capacity: Capacity,
}

impl TryFrom<pb::CreateCourseRequest> for NewCourse {
    type Error = ServiceError;
    fn try_from(r: pb::CreateCourseRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let code = v.take("code", CourseCode::parse(&r.code));
        let name = v.take("name", CourseName::parse(&r.name));
        let term = v.take("term", Term::parse(&r.term));
        let teacher_id = v.take("teacher_id", uuid(&r.teacher_id));
        let capacity = v.take("capacity", Capacity::parse(r.capacity));
        v.finish()?;
        match (code, name, term, teacher_id, capacity) {
            (Some(code), Some(name), Some(term), Some(teacher_id), Some(capacity)) => Ok(Self {
                code,
                name,
                term,
                teacher_id,
                capacity,
            }),
            _ => Err(nothing()),
        }
    }
}

/// Fields to change; `None` keeps the stored value.
#[derive(Default)]
pub struct CoursePatch {
    pub code: Option<CourseCode>,
    pub name: Option<CourseName>,
    pub term: Option<Term>,
    pub teacher_id: Option<Uuid>,
    pub capacity: Option<Capacity>,
}

impl CoursePatch {
    pub fn is_empty(&self) -> bool {
        self.code.is_none()
            && self.name.is_none()
            && self.term.is_none()
            && self.teacher_id.is_none()
            && self.capacity.is_none()
    }

    /// Whether the change can create a room or teacher clash.
    pub fn moves_timetable(&self) -> bool {
        self.term.is_some() || self.teacher_id.is_some()
    }
}

pub struct CourseUpdate {
    pub id: Uuid,
    pub version: i64,
    pub patch: CoursePatch,
}

impl TryFrom<pb::UpdateCourseRequest> for CourseUpdate {
    type Error = ServiceError;
    fn try_from(r: pb::UpdateCourseRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let id = v.take("id", uuid(&r.id));
        if r.version < 1 {
            v.add("version", "version is required and must be at least 1");
        }
        let mut patch = CoursePatch::default();
        if let Some(s) = &r.code {
            patch.code = v.take("code", CourseCode::parse(s));
        }
        if let Some(s) = &r.name {
            patch.name = v.take("name", CourseName::parse(s));
        }
        if let Some(s) = &r.term {
            patch.term = v.take("term", Term::parse(s));
        }
        if let Some(s) = &r.teacher_id {
            patch.teacher_id = v.take("teacher_id", uuid(s));
        }
        if let Some(c) = r.capacity {
            patch.capacity = v.take("capacity", Capacity::parse(c));
        }
        if patch.is_empty() && v.is_clean() {
            v.add("", "at least one field to change is required");
        }
        v.finish()?;
        Ok(Self {
            id: id.ok_or_else(nothing)?,
            version: r.version,
            patch,
        })
    }
}

/// Position after the last course of a page: (term, code) is unique per school.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CourseCursor {
    pub term: String,
    pub code: String,
}

impl Keyset for CourseCursor {
    const TAG: &'static str = "c";
}

pub struct CourseFilter {
    pub term: Option<Term>,
    pub teacher_id: Option<Uuid>,
    pub after: Option<CourseCursor>,
    pub limit: u32,
}

impl TryFrom<pb::ListCoursesRequest> for CourseFilter {
    type Error = ServiceError;
    fn try_from(r: pb::ListCoursesRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let page = r.page.unwrap_or_default();
        let (limit, after) = paging::request::<CourseCursor>(&mut v, page.limit, &page.cursor);
        let term = if r.term.is_empty() {
            None
        } else {
            v.take("term", Term::parse(&r.term))
        };
        let teacher_id = if r.teacher_id.is_empty() {
            None
        } else {
            v.take("teacher_id", uuid(&r.teacher_id))
        };
        v.finish()?;
        Ok(Self {
            term,
            teacher_id,
            after,
            limit,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_codes_capacities() {
        assert!(Term::parse("2026-T1").is_ok());
        for bad in [
            "2026-T0", "2026-T7", "26-T1", "2026T1", "1999-T1", "2026-t1", "",
        ] {
            assert!(Term::parse(bad).is_err(), "{bad}");
        }
        assert!(CourseCode::parse("MATH-101.a").is_ok());
        assert!(CourseCode::parse("MATH 101").is_err());
        assert!(CourseCode::parse(&"X".repeat(21)).is_err());
        assert!(Capacity::parse(1).is_ok() && Capacity::parse(500).is_ok());
        assert!(Capacity::parse(0).is_err() && Capacity::parse(501).is_err());
    }

    #[test]
    fn cursors_do_not_cross() {
        use crate::enrolments::domain::RosterCursor;
        let c = CourseCursor {
            term: "2026-T1".into(),
            code: "M1".into(),
        };
        assert_eq!(CourseCursor::decode(&c.encode()).unwrap(), c);
        let r = RosterCursor(Uuid::now_v7());
        assert_eq!(RosterCursor::decode(&r.encode()).unwrap(), r);
        assert!(RosterCursor::decode(&c.encode()).is_err());
        assert!(CourseCursor::decode(&r.encode()).is_err());
    }
}
