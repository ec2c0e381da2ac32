//! Attendance rows as stored, and as the proto carries them.

use chrono::{DateTime, NaiveDate, Utc};
use platform::wire::{date, timestamp};
use proto::students::v1 as pb;
use tokio_postgres::Row;
use uuid::Uuid;

use super::domain::{AttendanceRange, AttendanceStatus, Session};
use platform::service::ServiceError;

#[derive(Clone, Debug)]
pub struct AttendanceRow {
    pub student_id: Uuid,
    pub teacher_status: Option<AttendanceStatus>,
    pub note: String,
    pub marked_by: Option<Uuid>,
    pub marked_at: Option<DateTime<Utc>>,
    pub override_status: Option<AttendanceStatus>,
    pub override_reason: Option<String>,
    pub overridden_by: Option<Uuid>,
    pub overridden_at: Option<DateTime<Utc>>,
    pub effective_status: Option<AttendanceStatus>,
    pub revision: i32,
}

pub(crate) const ATTENDANCE_COLS: &str = "student_id, teacher_status, note, marked_by, marked_at, \
     override_status, override_reason, overridden_by, overridden_at, effective_status, revision";

fn status(r: &Row, i: usize) -> Result<Option<AttendanceStatus>, tokio_postgres::Error> {
    Ok(r.try_get::<_, Option<&str>>(i)?
        .and_then(AttendanceStatus::from_db))
}

impl AttendanceRow {
    pub(crate) fn from_row(r: &Row) -> Result<Self, tokio_postgres::Error> {
        Ok(Self {
            student_id: r.try_get(0)?,
            teacher_status: status(r, 1)?,
            note: r.try_get(2)?,
            marked_by: r.try_get(3)?,
            marked_at: r.try_get(4)?,
            override_status: status(r, 5)?,
            override_reason: r.try_get(6)?,
            overridden_by: r.try_get(7)?,
            overridden_at: r.try_get(8)?,
            effective_status: status(r, 9)?,
            revision: r.try_get(10)?,
        })
    }
}

/// Effective statuses counted for one day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayRow {
    pub date: NaiveDate,
    pub present: i64,
    pub absent: i64,
    pub late: i64,
    pub excused: i64,
}

pub(crate) fn day_row(row: &Row) -> Result<DayRow, ServiceError> {
    Ok(DayRow {
        date: row.try_get(0)?,
        present: row.try_get(1)?,
        absent: row.try_get(2)?,
        late: row.try_get(3)?,
        excused: row.try_get(4)?,
    })
}

pub fn student_attendance(r: &AttendanceRange, days: Vec<DayRow>) -> pb::StudentAttendance {
    pb::StudentAttendance {
        student_id: r.student_id.to_string(),
        days: days.into_iter().map(day).collect(),
    }
}

fn status_number(s: Option<AttendanceStatus>) -> i32 {
    s.map_or(pb::AttendanceStatus::Unspecified, |s| s.to_proto())
        .into()
}

pub fn record(a: AttendanceRow) -> pb::AttendanceRecord {
    pb::AttendanceRecord {
        student_id: a.student_id.to_string(),
        teacher_status: status_number(a.teacher_status),
        note: a.note,
        marked_by: a.marked_by.map(|u| u.to_string()).unwrap_or_default(),
        marked_at: a.marked_at.map(timestamp),
        override_status: status_number(a.override_status),
        override_reason: a.override_reason.unwrap_or_default(),
        overridden_by: a.overridden_by.map(|u| u.to_string()).unwrap_or_default(),
        overridden_at: a.overridden_at.map(timestamp),
        effective_status: status_number(a.effective_status),
        revision: a.revision,
    }
}

pub fn session(s: &Session, rows: Vec<AttendanceRow>) -> pb::AttendanceSession {
    pb::AttendanceSession {
        course_id: s.course_id.to_string(),
        date: Some(date(s.date)),
        period: s.period.get() as u32,
        records: rows.into_iter().map(record).collect(),
    }
}

pub fn day(d: DayRow) -> pb::AttendanceDay {
    let n = |v: i64| u32::try_from(v).unwrap_or(u32::MAX);
    pb::AttendanceDay {
        date: Some(date(d.date)),
        present: n(d.present),
        absent: n(d.absent),
        late: n(d.late),
        excused: n(d.excused),
    }
}
