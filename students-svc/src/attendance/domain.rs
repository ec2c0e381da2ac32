//! Periods, statuses, marks and date ranges, and the AttendanceService
//! requests parsed into them (every field error collected).

use chrono::NaiveDate;
use platform::service::{nothing, ServiceError, Violations};
use proto::common::v1 as common;
use proto::students::v1 as pb;
use uuid::Uuid;

use crate::values::{bounded_text as text, school_date, uuid};

/// 0 (the day's session) or a period 1-12.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period(i16);

impl Period {
    pub fn parse(raw: u32) -> Result<Self, String> {
        if raw <= 12 {
            Ok(Self(raw as i16))
        } else {
            Err("period must be between 0 (the day's session) and 12".into())
        }
    }
    pub fn get(self) -> i16 {
        self.0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttendanceStatus {
    Present,
    Absent,
    Late,
    Excused,
}

impl AttendanceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Present => "present",
            Self::Absent => "absent",
            Self::Late => "late",
            Self::Excused => "excused",
        }
    }

    pub fn from_db(s: &str) -> Option<Self> {
        match s {
            "present" => Some(Self::Present),
            "absent" => Some(Self::Absent),
            "late" => Some(Self::Late),
            "excused" => Some(Self::Excused),
            _ => None,
        }
    }

    /// A status is required: UNSPECIFIED and unknown numbers are errors.
    pub fn from_proto(v: i32) -> Result<Self, String> {
        match pb::AttendanceStatus::try_from(v) {
            Ok(pb::AttendanceStatus::Present) => Ok(Self::Present),
            Ok(pb::AttendanceStatus::Absent) => Ok(Self::Absent),
            Ok(pb::AttendanceStatus::Late) => Ok(Self::Late),
            Ok(pb::AttendanceStatus::Excused) => Ok(Self::Excused),
            _ => Err("status must be present, absent, late or excused".into()),
        }
    }

    pub fn to_proto(self) -> pb::AttendanceStatus {
        match self {
            Self::Present => pb::AttendanceStatus::Present,
            Self::Absent => pb::AttendanceStatus::Absent,
            Self::Late => pb::AttendanceStatus::Late,
            Self::Excused => pb::AttendanceStatus::Excused,
        }
    }
}

/// A note on a mark (optional) or the reason of an override (required).
fn note(raw: &str, what: &str, required: bool) -> Result<String, String> {
    if !required && raw.trim().is_empty() {
        return Ok(String::new());
    }
    text(raw, what, platform::limits::NOTE_MAX)
}

/// One course session: a course on a date, optionally a numbered period.
#[derive(Clone, Copy, Debug)]
pub struct Session {
    pub course_id: Uuid,
    pub date: NaiveDate,
    pub period: Period,
}

fn session(
    v: &mut Violations,
    course_id: &str,
    date: Option<&common::Date>,
    period: u32,
) -> Option<Session> {
    let course_id = v.take("course_id", uuid(course_id));
    let date = v.take("date", school_date(date));
    let period = v.take("period", Period::parse(period));
    Some(Session {
        course_id: course_id?,
        date: date?,
        period: period?,
    })
}

pub const MAX_ENTRIES: usize = platform::limits::MAX_ENTRIES;

/// Student ids, statuses and texts in request order (the shape the
/// UNNEST upsert takes).
pub struct Marks {
    pub session: Session,
    pub student_ids: Vec<Uuid>,
    pub statuses: Vec<AttendanceStatus>,
    /// Notes (marks) or reasons (overrides).
    pub texts: Vec<String>,
}

/// Parses entries `(student_id, status, text)`, naming each bad one by its
/// index under `list`; a student may appear only once.
fn marks<'a>(
    v: &mut Violations,
    session: Option<Session>,
    list: &str,
    text_field: &str,
    text_required: bool,
    entries: impl ExactSizeIterator<Item = (&'a str, i32, &'a str)>,
) -> Option<Marks> {
    let n = entries.len();
    if n == 0 {
        v.add(list, "at least one entry is required");
    } else if n > MAX_ENTRIES {
        v.add(list, format!("at most {MAX_ENTRIES} entries are allowed"));
    }
    let mut seen = std::collections::HashSet::with_capacity(n);
    let (mut ids, mut statuses, mut texts) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for (i, (id, status, t)) in entries.enumerate() {
        let id = v.take(&format!("{list}[{i}].student_id"), uuid(id));
        if let Some(id) = id {
            if !seen.insert(id) {
                v.add(
                    &format!("{list}[{i}].student_id"),
                    "the student appears more than once",
                );
            }
            ids.push(id);
        }
        if let Some(s) = v.take(
            &format!("{list}[{i}].status"),
            AttendanceStatus::from_proto(status),
        ) {
            statuses.push(s);
        }
        if let Some(t) = v.take(
            &format!("{list}[{i}].{text_field}"),
            note(t, text_field, text_required),
        ) {
            texts.push(t);
        }
    }
    Some(Marks {
        session: session?,
        student_ids: ids,
        statuses,
        texts,
    })
}

impl TryFrom<pb::MarkAttendanceRequest> for Marks {
    type Error = ServiceError;
    fn try_from(r: pb::MarkAttendanceRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let s = session(&mut v, &r.course_id, r.date.as_ref(), r.period);
        let m = marks(
            &mut v,
            s,
            "entries",
            "note",
            false,
            r.entries
                .iter()
                .map(|e| (e.student_id.as_str(), e.status, e.note.as_str())),
        );
        v.finish()?;
        m.ok_or_else(nothing)
    }
}

impl TryFrom<pb::OverrideAttendanceRequest> for Marks {
    type Error = ServiceError;
    fn try_from(r: pb::OverrideAttendanceRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let s = session(&mut v, &r.course_id, r.date.as_ref(), r.period);
        let m = marks(
            &mut v,
            s,
            "overrides",
            "reason",
            true,
            r.overrides
                .iter()
                .map(|e| (e.student_id.as_str(), e.status, e.reason.as_str())),
        );
        v.finish()?;
        m.ok_or_else(nothing)
    }
}

impl TryFrom<pb::GetAttendanceSessionRequest> for Session {
    type Error = ServiceError;
    fn try_from(r: pb::GetAttendanceSessionRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let s = session(&mut v, &r.course_id, r.date.as_ref(), r.period);
        v.finish()?;
        s.ok_or_else(nothing)
    }
}

pub const MAX_RANGE_DAYS: i64 = 92;

/// One student over an inclusive date range of at most 92 days.
pub struct AttendanceRange {
    pub student_id: Uuid,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl TryFrom<pb::GetStudentAttendanceRequest> for AttendanceRange {
    type Error = ServiceError;
    fn try_from(r: pb::GetStudentAttendanceRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let student_id = v.take("student_id", uuid(&r.student_id));
        let from = v.take("from", school_date(r.from.as_ref()));
        let to = v.take("to", school_date(r.to.as_ref()));
        if let (Some(f), Some(t)) = (from, to) {
            if t < f {
                v.add("to", "to must not be before from");
            } else if (t - f).num_days() >= MAX_RANGE_DAYS {
                v.add(
                    "to",
                    format!("the range may span at most {MAX_RANGE_DAYS} days"),
                );
            }
        }
        v.finish()?;
        match (student_id, from, to) {
            (Some(student_id), Some(from), Some(to)) => Ok(Self {
                student_id,
                from,
                to,
            }),
            _ => Err(nothing()),
        }
    }
}

/// Teacher marks or office overrides: which columns an upsert writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkKind {
    Mark,
    Override,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(
            AttendanceStatus::from_proto(2).unwrap(),
            AttendanceStatus::Absent
        );
        assert!(AttendanceStatus::from_proto(0).is_err());
        assert!(AttendanceStatus::from_proto(9).is_err());
    }
}
