//! JSON shapes of courses, timetable slots, enrolments and attendance, and
//! their proto conversions. Bodies reject unknown fields; ids, codes, terms
//! and times are validated by students-svc, which names the field.

use chrono::{DateTime, NaiveDate, Utc};
use proto::common::v1 as common;
use proto::students::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{date_of, instant, opt_uuid, uuid_or_nil, FieldErrors, Page, PageParams, Paged};
use crate::problem::ApiError;

/// `period`: 0 (the whole day) or a lesson period.
fn period(e: &mut FieldErrors, raw: Option<&str>) -> u32 {
    match raw {
        None => 0,
        Some(s) => s.parse::<u32>().unwrap_or_else(|_| {
            e.add("period", "must be an integer between 0 and 12");
            0
        }),
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TimetableSlot {
    pub id: Uuid,
    pub course_id: Uuid,
    /// 1 = Monday … 7 = Sunday.
    pub weekday: i32,
    /// `HH:MM`.
    pub start: String,
    /// `HH:MM`, after `start`.
    pub end: String,
    pub room: String,
}

impl From<pb::TimetableSlot> for TimetableSlot {
    fn from(s: pb::TimetableSlot) -> Self {
        Self {
            id: uuid_or_nil(&s.id),
            course_id: uuid_or_nil(&s.course_id),
            weekday: s.weekday,
            start: s.start,
            end: s.end,
            room: s.room,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Course {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    /// `YYYY-Tn`, e.g. `2026-T1`.
    pub term: String,
    pub teacher_id: Uuid,
    pub capacity: i32,
    /// Current enrolments.
    pub enrolled: i32,
    /// Send back with PATCH; a stale version answers 409.
    pub version: i64,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    /// The timetable (filled on GET of one course).
    pub slots: Vec<TimetableSlot>,
}

impl From<pb::Course> for Course {
    fn from(c: pb::Course) -> Self {
        Self {
            id: uuid_or_nil(&c.id),
            code: c.code,
            name: c.name,
            term: c.term,
            teacher_id: uuid_or_nil(&c.teacher_id),
            capacity: c.capacity,
            enrolled: c.enrolled,
            version: c.version,
            created_at: instant(c.created_at),
            updated_at: instant(c.updated_at),
            slots: c.slots.into_iter().map(TimetableSlot::from).collect(),
        }
    }
}

impl Paged for Course {
    const PAGE: &'static str = "CoursePage";
}

pub type CoursePage = Page<Course>;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCourseBody {
    /// 1-20 of letters, digits, `-`, `.`; unique per school and term.
    pub code: String,
    pub name: String,
    /// `YYYY-Tn`, n in 1-6.
    pub term: String,
    /// A user with role teacher in this school.
    pub teacher_id: String,
    /// 1-500.
    pub capacity: i32,
}

impl CreateCourseBody {
    pub fn into_proto(self) -> pb::CreateCourseRequest {
        pb::CreateCourseRequest {
            code: self.code,
            name: self.name,
            term: self.term,
            teacher_id: self.teacher_id,
            capacity: self.capacity,
        }
    }
}

/// Only the fields present change. `version` is the one you read.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCourseBody {
    pub version: i64,
    pub code: Option<String>,
    pub name: Option<String>,
    pub term: Option<String>,
    pub teacher_id: Option<String>,
    pub capacity: Option<i32>,
}

impl UpdateCourseBody {
    pub fn into_proto(self, id: Uuid) -> pb::UpdateCourseRequest {
        pb::UpdateCourseRequest {
            id: id.to_string(),
            version: self.version,
            code: self.code,
            name: self.name,
            term: self.term,
            teacher_id: self.teacher_id,
            capacity: self.capacity,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListCoursesParams {
    #[serde(flatten)]
    pub page: PageParams,
    pub term: Option<String>,
    pub teacher_id: Option<String>,
}

impl ListCoursesParams {
    pub fn into_proto(self) -> Result<pb::ListCoursesRequest, ApiError> {
        Ok(pb::ListCoursesRequest {
            page: Some(self.page.into_proto()?),
            term: self.term.unwrap_or_default(),
            teacher_id: self.teacher_id.unwrap_or_default(),
        })
    }
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddSlotBody {
    /// 1 = Monday … 7 = Sunday.
    pub weekday: i32,
    /// `HH:MM`.
    pub start: String,
    /// `HH:MM`, after `start`.
    pub end: String,
    pub room: String,
}

impl AddSlotBody {
    pub fn into_proto(self, course_id: Uuid) -> pb::AddTimetableSlotRequest {
        pb::AddTimetableSlotRequest {
            course_id: course_id.to_string(),
            weekday: self.weekday,
            start: self.start,
            end: self.end,
            room: self.room,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Enrolment {
    pub id: Uuid,
    pub course_id: Uuid,
    pub student_id: Uuid,
    pub admission_no: String,
    pub given_name: String,
    pub family_name: String,
    pub enrolled_at: Option<DateTime<Utc>>,
    /// Set once withdrawn.
    pub withdrawn_at: Option<DateTime<Utc>>,
}

impl From<pb::Enrolment> for Enrolment {
    fn from(e: pb::Enrolment) -> Self {
        Self {
            id: uuid_or_nil(&e.id),
            course_id: uuid_or_nil(&e.course_id),
            student_id: uuid_or_nil(&e.student_id),
            admission_no: e.admission_no,
            given_name: e.given_name,
            family_name: e.family_name,
            enrolled_at: instant(e.enrolled_at),
            withdrawn_at: instant(e.withdrawn_at),
        }
    }
}

impl Paged for Enrolment {
    const PAGE: &'static str = "EnrolmentPage";
}

pub type EnrolmentPage = Page<Enrolment>;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolBody {
    pub student_id: String,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AttendanceStatus {
    Present,
    Absent,
    Late,
    Excused,
}

impl AttendanceStatus {
    fn to_proto(self) -> i32 {
        match self {
            Self::Present => pb::AttendanceStatus::Present,
            Self::Absent => pb::AttendanceStatus::Absent,
            Self::Late => pb::AttendanceStatus::Late,
            Self::Excused => pb::AttendanceStatus::Excused,
        }
        .into()
    }

    fn from_proto(v: i32) -> Option<Self> {
        match pb::AttendanceStatus::try_from(v) {
            Ok(pb::AttendanceStatus::Present) => Some(Self::Present),
            Ok(pb::AttendanceStatus::Absent) => Some(Self::Absent),
            Ok(pb::AttendanceStatus::Late) => Some(Self::Late),
            Ok(pb::AttendanceStatus::Excused) => Some(Self::Excused),
            _ => None,
        }
    }
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkEntry {
    pub student_id: String,
    pub status: AttendanceStatus,
    /// At most 500 characters.
    #[serde(default)]
    pub note: Option<String>,
}

/// The whole session's marks; each student at most once, all enrolled.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkAttendanceBody {
    pub entries: Vec<MarkEntry>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideEntry {
    pub student_id: String,
    pub status: AttendanceStatus,
    /// Required, at most 500 characters.
    pub reason: String,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideAttendanceBody {
    pub overrides: Vec<OverrideEntry>,
}

/// `?period=` of a session: 0 (default) is the day's session, 1-12 a period.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionParams {
    pub period: Option<String>,
}

/// A session's key from the path and query.
pub struct SessionKey {
    pub course_id: String,
    pub date: common::Date,
    pub period: u32,
}

impl SessionParams {
    pub fn key(self, course_id: Uuid, date: &str) -> Result<SessionKey, ApiError> {
        let mut e = FieldErrors::default();
        let period = period(&mut e, self.period.as_deref());
        let date = e.date("date", date);
        e.finish()?;
        Ok(SessionKey {
            course_id: course_id.to_string(),
            date: date.unwrap_or_default(),
            period,
        })
    }
}

impl SessionKey {
    pub fn mark(self, b: MarkAttendanceBody) -> pb::MarkAttendanceRequest {
        pb::MarkAttendanceRequest {
            course_id: self.course_id,
            date: Some(self.date),
            period: self.period,
            entries: b
                .entries
                .into_iter()
                .map(|e| pb::AttendanceEntry {
                    student_id: e.student_id,
                    status: e.status.to_proto(),
                    note: e.note.unwrap_or_default(),
                })
                .collect(),
        }
    }

    pub fn override_(self, b: OverrideAttendanceBody) -> pb::OverrideAttendanceRequest {
        pb::OverrideAttendanceRequest {
            course_id: self.course_id,
            date: Some(self.date),
            period: self.period,
            overrides: b
                .overrides
                .into_iter()
                .map(|o| pb::AttendanceOverride {
                    student_id: o.student_id,
                    status: o.status.to_proto(),
                    reason: o.reason,
                })
                .collect(),
        }
    }

    pub fn get(self) -> pb::GetAttendanceSessionRequest {
        pb::GetAttendanceSessionRequest {
            course_id: self.course_id,
            date: Some(self.date),
            period: self.period,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AttendanceRecord {
    pub student_id: Uuid,
    /// The teacher's mark; null when only the office has set a status.
    pub teacher_status: Option<AttendanceStatus>,
    pub note: String,
    pub marked_by: Option<Uuid>,
    pub marked_at: Option<DateTime<Utc>>,
    pub override_status: Option<AttendanceStatus>,
    pub override_reason: Option<String>,
    pub overridden_by: Option<Uuid>,
    pub overridden_at: Option<DateTime<Utc>>,
    /// The override if any, else the teacher's mark.
    pub effective_status: Option<AttendanceStatus>,
    /// 1 when first written, +1 per change.
    pub revision: i32,
}

impl From<pb::AttendanceRecord> for AttendanceRecord {
    fn from(r: pb::AttendanceRecord) -> Self {
        Self {
            student_id: uuid_or_nil(&r.student_id),
            teacher_status: AttendanceStatus::from_proto(r.teacher_status),
            note: r.note,
            marked_by: opt_uuid(&r.marked_by),
            marked_at: instant(r.marked_at),
            override_status: AttendanceStatus::from_proto(r.override_status),
            override_reason: Some(r.override_reason).filter(|s| !s.is_empty()),
            overridden_by: opt_uuid(&r.overridden_by),
            overridden_at: instant(r.overridden_at),
            effective_status: AttendanceStatus::from_proto(r.effective_status),
            revision: r.revision,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AttendanceSession {
    pub course_id: Uuid,
    #[schema(value_type = String, format = Date)]
    pub date: Option<NaiveDate>,
    pub period: u32,
    pub records: Vec<AttendanceRecord>,
}

impl From<pb::AttendanceSession> for AttendanceSession {
    fn from(s: pb::AttendanceSession) -> Self {
        Self {
            course_id: uuid_or_nil(&s.course_id),
            date: date_of(s.date),
            period: s.period,
            records: s.records.into_iter().map(AttendanceRecord::from).collect(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeParams {
    pub from: Option<String>,
    pub to: Option<String>,
}

impl RangeParams {
    pub fn into_proto(self, student_id: Uuid) -> Result<pb::GetStudentAttendanceRequest, ApiError> {
        let mut e = FieldErrors::default();
        let mut date = |field: &str, raw: Option<&str>| match raw {
            None => {
                e.add(field, "is required (YYYY-MM-DD)");
                None
            }
            Some(s) => e.date(field, s),
        };
        let from = date("from", self.from.as_deref());
        let to = date("to", self.to.as_deref());
        e.finish()?;
        Ok(pb::GetStudentAttendanceRequest {
            student_id: student_id.to_string(),
            from,
            to,
        })
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AttendanceDay {
    #[schema(value_type = String, format = Date)]
    pub date: Option<NaiveDate>,
    pub present: u32,
    pub absent: u32,
    pub late: u32,
    pub excused: u32,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StudentAttendance {
    pub student_id: Uuid,
    /// Days with at least one record, in date order.
    pub days: Vec<AttendanceDay>,
}

impl From<pb::StudentAttendance> for StudentAttendance {
    fn from(s: pb::StudentAttendance) -> Self {
        Self {
            student_id: uuid_or_nil(&s.student_id),
            days: s
                .days
                .into_iter()
                .map(|d| AttendanceDay {
                    date: date_of(d.date),
                    present: d.present,
                    absent: d.absent,
                    late: d.late,
                    excused: d.excused,
                })
                .collect(),
        }
    }
}
