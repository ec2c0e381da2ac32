//! An enrolment as stored (with its student's names), as the proto carries
//! it, and its events.

use chrono::{DateTime, Utc};
use platform::wire::timestamp;
use proto::events::v1::{self as ev, event::Payload};
use proto::students::v1 as pb;
use tokio_postgres::Row;
use uuid::Uuid;

use crate::events::{Aggregate, Pending};

#[derive(Clone, Debug)]
pub struct EnrolmentRow {
    pub id: Uuid,
    pub course_id: Uuid,
    pub student_id: Uuid,
    pub admission_no: String,
    pub given_name: String,
    pub family_name: String,
    pub enrolled_at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
}

impl EnrolmentRow {
    pub(crate) fn from_row(r: &Row) -> Result<Self, tokio_postgres::Error> {
        Ok(Self {
            id: r.try_get(0)?,
            course_id: r.try_get(1)?,
            student_id: r.try_get(2)?,
            admission_no: r.try_get(3)?,
            given_name: r.try_get(4)?,
            family_name: r.try_get(5)?,
            enrolled_at: r.try_get(6)?,
            withdrawn_at: r.try_get(7)?,
        })
    }
}

pub(crate) fn enrolment_event(e: &EnrolmentRow, withdrawn: bool) -> Pending {
    let change = ev::EnrolmentChanged {
        enrolment_id: e.id.to_string(),
        course_id: e.course_id.to_string(),
        student_id: e.student_id.to_string(),
        withdrawn,
        // An enrolment row changes once: created, then maybe withdrawn.
        version: if withdrawn { 2 } else { 1 },
    };
    let aggregate = Aggregate {
        kind: "enrolment",
        id: e.id,
    };
    if withdrawn {
        Pending::new(
            aggregate,
            "enrolment.withdrawn",
            Payload::EnrolmentWithdrawn(change),
        )
    } else {
        Pending::new(
            aggregate,
            "enrolment.created",
            Payload::EnrolmentCreated(change),
        )
    }
}

pub fn enrolment(e: EnrolmentRow) -> pb::Enrolment {
    pb::Enrolment {
        id: e.id.to_string(),
        course_id: e.course_id.to_string(),
        student_id: e.student_id.to_string(),
        admission_no: e.admission_no,
        given_name: e.given_name,
        family_name: e.family_name,
        enrolled_at: Some(timestamp(e.enrolled_at)),
        withdrawn_at: e.withdrawn_at.map(timestamp),
    }
}
