//! Assessments and grades as stored, as the proto carries them, and their
//! event payloads.

use chrono::{DateTime, NaiveDate, Utc};
use platform::wire::{date, timestamp};
use proto::events::v1 as ev;
use proto::students::v1 as pb;
use tokio_postgres::Row;
use uuid::Uuid;

use crate::events::Aggregate;

pub(crate) fn aggregate(id: Uuid) -> Aggregate {
    Aggregate {
        kind: "assessment",
        id,
    }
}

#[derive(Clone, Debug)]
pub struct AssessmentRow {
    pub id: Uuid,
    pub course_id: Uuid,
    pub title: String,
    pub description: String,
    pub max_score: i32,
    pub weight: i32,
    pub due_on: NaiveDate,
    pub published_at: Option<DateTime<Utc>>,
    pub published_by: Option<Uuid>,
    pub version: i64,
    pub created_by: Uuid,
    pub updated_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub(crate) const ASSESSMENT_COLS: &str = "a.id, a.course_id, a.title, a.description, a.max_score, \
     a.weight, a.due_on, a.published_at, a.published_by, a.version, a.created_by, \
     a.updated_by, a.created_at, a.updated_at";

impl AssessmentRow {
    pub(crate) fn from_row(r: &Row) -> Result<Self, tokio_postgres::Error> {
        Ok(Self {
            id: r.try_get(0)?,
            course_id: r.try_get(1)?,
            title: r.try_get(2)?,
            description: r.try_get(3)?,
            max_score: r.try_get(4)?,
            weight: r.try_get(5)?,
            due_on: r.try_get(6)?,
            published_at: r.try_get(7)?,
            published_by: r.try_get(8)?,
            version: r.try_get(9)?,
            created_by: r.try_get(10)?,
            updated_by: r.try_get(11)?,
            created_at: r.try_get(12)?,
            updated_at: r.try_get(13)?,
        })
    }

    pub(crate) fn event(&self) -> ev::AssessmentChanged {
        ev::AssessmentChanged {
            assessment_id: self.id.to_string(),
            course_id: self.course_id.to_string(),
            title: self.title.clone(),
            max_score: self.max_score,
            weight: self.weight,
            due_date: self.due_on.format("%Y-%m-%d").to_string(),
            published: self.published_at.is_some(),
            version: self.version,
        }
    }
}

#[derive(Clone, Debug)]
pub struct GradeRow {
    pub student_id: Uuid,
    pub score: i32,
    pub graded_by: Uuid,
    pub graded_at: DateTime<Utc>,
    pub revision: i32,
}

/// One student's grade with its assessment and course, as a student's list
/// shows it.
#[derive(Clone, Debug)]
pub struct StudentGradeRow {
    pub assessment_id: Uuid,
    pub course_id: Uuid,
    pub course_code: String,
    pub title: String,
    pub max_score: i32,
    pub weight: i32,
    pub due_on: NaiveDate,
    pub score: i32,
    pub graded_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

pub(crate) fn score_event(r: &Row) -> Result<ev::StudentScore, tokio_postgres::Error> {
    Ok(ev::StudentScore {
        student_id: r.try_get::<_, Uuid>(0)?.to_string(),
        score: r.try_get(1)?,
        revision: r.try_get(2)?,
    })
}

pub fn assessment(a: AssessmentRow) -> pb::Assessment {
    pb::Assessment {
        id: a.id.to_string(),
        course_id: a.course_id.to_string(),
        title: a.title,
        description: a.description,
        max_score: a.max_score,
        weight: a.weight,
        due_date: Some(date(a.due_on)),
        published_at: a.published_at.map(timestamp),
        published_by: a.published_by.map(|u| u.to_string()).unwrap_or_default(),
        version: a.version,
        created_by: a.created_by.to_string(),
        updated_by: a.updated_by.to_string(),
        created_at: Some(timestamp(a.created_at)),
        updated_at: Some(timestamp(a.updated_at)),
    }
}

pub fn sheet(a: &AssessmentRow, grades: Vec<GradeRow>) -> pb::GradeSheet {
    pb::GradeSheet {
        assessment_id: a.id.to_string(),
        course_id: a.course_id.to_string(),
        max_score: a.max_score,
        published_at: a.published_at.map(timestamp),
        grades: grades
            .into_iter()
            .map(|g| pb::Grade {
                student_id: g.student_id.to_string(),
                score: g.score,
                graded_by: g.graded_by.to_string(),
                graded_at: Some(timestamp(g.graded_at)),
                revision: g.revision,
            })
            .collect(),
    }
}

pub fn student_grade(g: StudentGradeRow) -> pb::StudentGrade {
    pb::StudentGrade {
        assessment_id: g.assessment_id.to_string(),
        course_id: g.course_id.to_string(),
        course_code: g.course_code,
        title: g.title,
        max_score: g.max_score,
        weight: g.weight,
        due_date: Some(date(g.due_on)),
        score: g.score,
        graded_at: Some(timestamp(g.graded_at)),
        published_at: g.published_at.map(timestamp),
    }
}
