//! A student as stored, as the proto carries it, and its `student.*`
//! events.

use chrono::{DateTime, NaiveDate, Utc};
use platform::wire::{date, timestamp};
use proto::events::v1::{self as ev, event::Payload};
use proto::students::v1 as pb;
use tokio_postgres::Row;
use uuid::Uuid;

use super::domain::{StudentCursor, StudentStatus};
use crate::events::{Aggregate, Pending};

#[derive(Clone, Debug)]
pub struct StudentRow {
    pub id: Uuid,
    pub school_id: Uuid,
    pub admission_no: String,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: NaiveDate,
    pub grade_level: i16,
    pub section: String,
    pub status: StudentStatus,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
}

pub(crate) const STUDENT_COLS: &str =
    "id, school_id, admission_no, given_name, family_name, date_of_birth, \
     grade_level, section, status, version, created_at, updated_at, archived_at";

impl StudentRow {
    /// The position after this student in name order.
    pub fn cursor(&self) -> StudentCursor {
        StudentCursor {
            family_name: self.family_name.clone(),
            given_name: self.given_name.clone(),
            id: self.id,
        }
    }

    pub(crate) fn from_row(r: &Row) -> Result<Self, tokio_postgres::Error> {
        Ok(Self {
            id: r.try_get(0)?,
            school_id: r.try_get(1)?,
            admission_no: r.try_get(2)?,
            given_name: r.try_get(3)?,
            family_name: r.try_get(4)?,
            date_of_birth: r.try_get(5)?,
            grade_level: r.try_get(6)?,
            section: r.try_get(7)?,
            status: StudentStatus::from_db(r.try_get(8)?),
            version: r.try_get(9)?,
            created_at: r.try_get(10)?,
            updated_at: r.try_get(11)?,
            archived_at: r.try_get(12)?,
        })
    }
}

impl From<StudentRow> for pb::Student {
    fn from(s: StudentRow) -> Self {
        Self {
            id: s.id.to_string(),
            school_id: s.school_id.to_string(),
            admission_no: s.admission_no,
            given_name: s.given_name,
            family_name: s.family_name,
            date_of_birth: Some(date(s.date_of_birth)),
            grade_level: i32::from(s.grade_level),
            section: s.section,
            status: s.status.to_proto().into(),
            version: s.version,
            created_at: Some(timestamp(s.created_at)),
            updated_at: Some(timestamp(s.updated_at)),
            archived_at: s.archived_at.map(timestamp),
        }
    }
}

/// The student as carried by `student.*` events.
pub fn student_event(s: &StudentRow) -> ev::StudentChanged {
    ev::StudentChanged {
        student_id: s.id.to_string(),
        admission_no: s.admission_no.clone(),
        given_name: s.given_name.clone(),
        family_name: s.family_name.clone(),
        grade_level: i32::from(s.grade_level),
        section: s.section.clone(),
        status: s.status.as_str().to_owned(),
        version: s.version,
        archived: s.archived_at.is_some(),
    }
}

/// A `student.*` event for `s`.
pub(crate) fn student_changed(s: &StudentRow, event_type: &'static str) -> Pending {
    let snapshot = student_event(s);
    let payload = match event_type {
        "student.created" => Payload::StudentCreated(snapshot),
        "student.archived" => Payload::StudentArchived(snapshot),
        _ => Payload::StudentUpdated(snapshot),
    };
    Pending::new(
        Aggregate {
            kind: "student",
            id: s.id,
        },
        event_type,
        payload,
    )
}
