//! Rows of the export's statements → the events that describe them now.

use chrono::NaiveDate;
use proto::events::v1::{self as ev, event::Payload};
use tokio_postgres::Row;
use uuid::Uuid;

use crate::events::{Aggregate, Pending};

/// One attendance record of a session: the session's key and the record.
pub struct AttendanceRow {
    pub course_id: Uuid,
    pub date: NaiveDate,
    pub period: i16,
    pub change: ev::AttendanceChange,
}

impl AttendanceRow {
    /// `course_id, date, period, student_id, effective_status, revision`.
    pub(crate) fn from_row(r: &Row) -> Result<Self, tokio_postgres::Error> {
        Ok(Self {
            course_id: r.try_get(0)?,
            date: r.try_get(1)?,
            period: r.try_get(2)?,
            change: ev::AttendanceChange {
                student_id: r.try_get::<_, Uuid>(3)?.to_string(),
                effective_status: r.try_get(4)?,
                revision: r.try_get(5)?,
            },
        })
    }

    pub fn same_session(&self, other: &Self) -> bool {
        (self.course_id, self.date, self.period) == (other.course_id, other.date, other.period)
    }
}

/// One session's records as one `attendance.marked` event.
pub fn session_marked(rows: Vec<AttendanceRow>) -> Option<Pending> {
    let first = rows.first()?;
    let (course_id, date, period) = (first.course_id, first.date, first.period);
    Some(Pending::new(
        Aggregate {
            kind: "attendance_session",
            id: course_id,
        },
        "attendance.marked",
        Payload::AttendanceMarked(ev::AttendanceMarked {
            course_id: course_id.to_string(),
            date: date.to_string(),
            period: u32::try_from(period).unwrap_or(0),
            changes: rows.into_iter().map(|r| r.change).collect(),
        }),
    ))
}

/// One grade with its assessment.
pub struct GradeRow {
    pub assessment_id: Uuid,
    pub course_id: Uuid,
    pub title: String,
    pub max_score: i32,
    pub published: bool,
    pub score: ev::StudentScore,
}

impl GradeRow {
    /// `assessment_id, course_id, title, max_score, published, student_id,
    /// score, revision`.
    pub(crate) fn from_row(r: &Row) -> Result<Self, tokio_postgres::Error> {
        Ok(Self {
            assessment_id: r.try_get(0)?,
            course_id: r.try_get(1)?,
            title: r.try_get(2)?,
            max_score: r.try_get(3)?,
            published: r.try_get(4)?,
            score: ev::StudentScore {
                student_id: r.try_get::<_, Uuid>(5)?.to_string(),
                score: r.try_get(6)?,
                revision: r.try_get(7)?,
            },
        })
    }

    pub fn same_assessment(&self, other: &Self) -> bool {
        self.assessment_id == other.assessment_id
    }
}

/// One assessment's grades as one `grades.updated` (published) or
/// `grades.drafted` event.
pub fn grades(rows: Vec<GradeRow>) -> Option<Pending> {
    let first = rows.first()?;
    let change = ev::GradesChanged {
        course_id: first.course_id.to_string(),
        assessment_id: first.assessment_id.to_string(),
        title: first.title.clone(),
        max_score: first.max_score,
        published: first.published,
        changes: Vec::new(),
    };
    let (id, published) = (first.assessment_id, first.published);
    let change = ev::GradesChanged {
        changes: rows.into_iter().map(|r| r.score).collect(),
        ..change
    };
    let aggregate = Aggregate {
        kind: "assessment",
        id,
    };
    Some(if published {
        Pending::new(aggregate, "grades.updated", Payload::GradesUpdated(change))
    } else {
        Pending::new(aggregate, "grades.drafted", Payload::GradesDrafted(change))
    })
}

/// A payment as its `invoice.payment_recorded` event, with its invoice as
/// it is now: `payment_id, invoice_id, student_id, amount, currency, method,
/// reference, created_at, total, amount_paid, status, version`.
pub fn payment(r: &Row) -> Result<Pending, tokio_postgres::Error> {
    let invoice_id: Uuid = r.try_get(1)?;
    let (total, paid): (i64, i64) = (r.try_get(8)?, r.try_get(9)?);
    let status: String = r.try_get(10)?;
    let due = total - paid;
    Ok(Pending::new(
        Aggregate {
            kind: "invoice",
            id: invoice_id,
        },
        "invoice.payment_recorded",
        Payload::PaymentRecorded(ev::PaymentRecorded {
            payment_id: r.try_get::<_, Uuid>(0)?.to_string(),
            invoice_id: invoice_id.to_string(),
            student_id: r.try_get::<_, Uuid>(2)?.to_string(),
            amount: r.try_get(3)?,
            currency: r.try_get(4)?,
            method: r.try_get(5)?,
            reference: r.try_get::<_, Option<String>>(6)?.unwrap_or_default(),
            recorded_at: Some(platform::wire::timestamp(r.try_get(7)?)),
            invoice_total: total,
            invoice_amount_paid: paid,
            invoice_amount_due: due,
            invoice_status: status,
            invoice_version: r.try_get(11)?,
        }),
    ))
}
