//! A course as stored, as the proto carries it, and as its events carry it.

use chrono::{DateTime, Utc};
use platform::wire::timestamp;
use proto::events::v1 as ev;
use proto::students::v1 as pb;
use tokio_postgres::Row;
use uuid::Uuid;

use crate::timetable::model::{slot, SlotRow};

#[derive(Clone, Debug)]
pub struct CourseRow {
    pub id: Uuid,
    pub school_id: Uuid,
    pub code: String,
    pub name: String,
    pub term: String,
    pub teacher_id: Uuid,
    pub capacity: i32,
    pub enrolled: i32,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub(crate) const COURSE_COLS: &str =
    "id, school_id, code, name, term, teacher_id, capacity, enrolled, version, created_at, updated_at";

impl CourseRow {
    pub(crate) fn from_row(r: &Row) -> Result<Self, tokio_postgres::Error> {
        Ok(Self {
            id: r.try_get(0)?,
            school_id: r.try_get(1)?,
            code: r.try_get(2)?,
            name: r.try_get(3)?,
            term: r.try_get(4)?,
            teacher_id: r.try_get(5)?,
            capacity: r.try_get(6)?,
            enrolled: r.try_get(7)?,
            version: r.try_get(8)?,
            created_at: r.try_get(9)?,
            updated_at: r.try_get(10)?,
        })
    }

    pub(crate) fn event(&self) -> ev::CourseChanged {
        ev::CourseChanged {
            course_id: self.id.to_string(),
            code: self.code.clone(),
            name: self.name.clone(),
            term: self.term.clone(),
            teacher_id: self.teacher_id.to_string(),
            capacity: self.capacity,
            version: self.version,
        }
    }
}

pub fn course(c: CourseRow, slots: Vec<SlotRow>) -> pb::Course {
    pb::Course {
        id: c.id.to_string(),
        school_id: c.school_id.to_string(),
        code: c.code,
        name: c.name,
        term: c.term,
        teacher_id: c.teacher_id.to_string(),
        capacity: c.capacity,
        enrolled: c.enrolled,
        version: c.version,
        created_at: Some(timestamp(c.created_at)),
        updated_at: Some(timestamp(c.updated_at)),
        slots: slots.into_iter().map(slot).collect(),
    }
}
