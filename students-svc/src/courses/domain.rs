//! Course, timetable, enrolment and attendance values, and the proto
//! requests parsed into them (every field error collected).

use chrono::{NaiveDate, NaiveTime, Timelike};
use proto::common::v1 as common;
use proto::students::v1 as pb;
use uuid::Uuid;

use crate::domain::{bounded_text as text, decode_cursor, encode_cursor, nothing, uuid};
use crate::domain::{page_limit, Violations, DEFAULT_PAGE};
use crate::error::ServiceError;

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

/// A school term: `YYYY-Tn` with a year 2000-2100 and n in 1-6.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Term(String);

impl Term {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        let b = s.as_bytes();
        let ok = b.len() == 7
            && b[..4].iter().all(u8::is_ascii_digit)
            && &b[4..6] == b"-T"
            && (b'1'..=b'6').contains(&b[6])
            && s[..4]
                .parse::<u16>()
                .is_ok_and(|y| (2000..=2100).contains(&y));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err("term must look like 2026-T1 (year 2000-2100, T1-T6)".into())
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

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

/// ISO weekday: 1 = Monday … 7 = Sunday.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Weekday(i16);

impl Weekday {
    pub fn parse(raw: i32) -> Result<Self, String> {
        if (1..=7).contains(&raw) {
            Ok(Self(raw as i16))
        } else {
            Err("weekday must be between 1 (Monday) and 7 (Sunday)".into())
        }
    }
    pub fn get(self) -> i16 {
        self.0
    }
}

/// `HH:MM`, 24-hour clock, exactly five characters.
pub fn clock(raw: &str) -> Result<NaiveTime, String> {
    let b = raw.as_bytes();
    let shaped = b.len() == 5
        && b[2] == b':'
        && b[..2].iter().all(u8::is_ascii_digit)
        && b[3..].iter().all(u8::is_ascii_digit);
    shaped
        .then(|| NaiveTime::parse_from_str(raw, "%H:%M").ok())
        .flatten()
        .ok_or_else(|| "must be a time formatted HH:MM (00:00-23:59)".to_owned())
}

pub fn format_clock(t: NaiveTime) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Room(String);

impl Room {
    pub fn parse(raw: &str) -> Result<Self, String> {
        text(raw, "room", platform::limits::ROOM_MAX).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

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

/// A calendar date (2000-01-01 to 2100-12-31: attendance is never older or
/// further ahead).
pub fn school_date(d: Option<&common::Date>) -> Result<NaiveDate, String> {
    let d = d.ok_or("date is required")?;
    let date = u32::try_from(d.year)
        .ok()
        .and_then(|_| NaiveDate::from_ymd_opt(d.year, d.month, d.day))
        .ok_or("date is not a valid calendar date")?;
    let (lo, hi) = (
        NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN),
        NaiveDate::from_ymd_opt(2100, 12, 31).unwrap_or(NaiveDate::MAX),
    );
    if date < lo || date > hi {
        return Err("date must be between 2000-01-01 and 2100-12-31".into());
    }
    Ok(date)
}

/// A note on a mark (optional) or the reason of an override (required).
fn note(raw: &str, what: &str, required: bool) -> Result<String, String> {
    if !required && raw.trim().is_empty() {
        return Ok(String::new());
    }
    text(raw, what, platform::limits::NOTE_MAX)
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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CourseCursor {
    pub term: String,
    pub code: String,
}

impl CourseCursor {
    pub fn encode(&self) -> String {
        encode_cursor(&("c", &self.term, &self.code))
    }
    pub fn decode(raw: &str) -> Result<Self, String> {
        let (tag, term, code): (String, String, String) = decode_cursor(raw)?;
        if tag != "c" {
            return Err("cursor is not one this server issued".into());
        }
        Ok(Self { term, code })
    }
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
        let limit = v.take("limit", page_limit(page.limit));
        let after = if page.cursor.is_empty() {
            None
        } else {
            v.take("cursor", CourseCursor::decode(&page.cursor))
        };
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
            limit: limit.unwrap_or(DEFAULT_PAGE),
        })
    }
}

pub struct NewSlot {
    pub course_id: Uuid,
    pub weekday: Weekday,
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub room: Room,
}

impl TryFrom<pb::AddTimetableSlotRequest> for NewSlot {
    type Error = ServiceError;
    fn try_from(r: pb::AddTimetableSlotRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let course_id = v.take("course_id", uuid(&r.course_id));
        let weekday = v.take("weekday", Weekday::parse(r.weekday));
        let start = v.take("start", clock(&r.start));
        let end = v.take("end", clock(&r.end));
        let room = v.take("room", Room::parse(&r.room));
        if let (Some(s), Some(e)) = (start, end) {
            if s >= e {
                v.add("end", "end must be after start");
            }
        }
        v.finish()?;
        match (course_id, weekday, start, end, room) {
            (Some(course_id), Some(weekday), Some(start), Some(end), Some(room)) => Ok(Self {
                course_id,
                weekday,
                start,
                end,
                room,
            }),
            _ => Err(nothing()),
        }
    }
}

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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RosterCursor(pub Uuid);

impl RosterCursor {
    pub fn encode(&self) -> String {
        encode_cursor(&("r", self.0))
    }
    pub fn decode(raw: &str) -> Result<Self, String> {
        let (tag, id): (String, Uuid) = decode_cursor(raw)?;
        if tag != "r" {
            return Err("cursor is not one this server issued".into());
        }
        Ok(Self(id))
    }
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
        let limit = v.take("limit", page_limit(page.limit));
        let after = if page.cursor.is_empty() {
            None
        } else {
            v.take("cursor", RosterCursor::decode(&page.cursor))
        };
        v.finish()?;
        Ok(Self {
            course_id: course_id.ok_or_else(nothing)?,
            after,
            limit: limit.unwrap_or(DEFAULT_PAGE),
        })
    }
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
    fn clocks_and_weekdays() {
        assert_eq!(format_clock(clock("09:05").unwrap()), "09:05");
        assert!(clock("23:59").is_ok());
        for bad in ["24:00", "9:05", "09:60", "09:05:00", "ab:cd", ""] {
            assert!(clock(bad).is_err(), "{bad}");
        }
        assert!(Weekday::parse(1).is_ok() && Weekday::parse(7).is_ok());
        assert!(Weekday::parse(0).is_err() && Weekday::parse(8).is_err());
    }

    #[test]
    fn cursors_do_not_cross() {
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
