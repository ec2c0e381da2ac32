//! JSON shapes of assessments and grades, and their proto conversions.
//!
//! Points and weights are JSON numbers with at most two decimals (`87.5`,
//! `12.25`); on the wire to students-svc they are integer hundredths. The
//! conversion is exact (it reads the number's decimal digits, never a
//! rounded float), and a number with more decimals is a 400 naming the
//! field. Ranges, titles and ids are validated by students-svc, which names
//! the field.

use chrono::{DateTime, NaiveDate, Utc};
use proto::students::v1 as pb;
use serde::{Deserialize, Serialize};
use serde_json::Number;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    date_of, instant, next_cursor, opt_uuid, uuid_or_nil, FieldErrors, Page, PageParams, Paged,
};
use crate::problem::ApiError;

/// Hundredths as a JSON number: 8750 → 87.5 (exact to two decimals).
fn points(h: i32) -> f64 {
    f64::from(h) / 100.0
}

const DECIMALS: &str = "must be a number with at most 2 decimal places";

/// A JSON number with at most two decimals as integer hundredths. Numbers
/// too large for any field saturate, so students-svc reports the field's
/// own range.
pub fn hundredths(n: &Number) -> Result<i32, &'static str> {
    let text = n.to_string();
    if text.contains(['e', 'E']) {
        // Only very large or very small magnitudes are written this way.
        let f = n.as_f64().unwrap_or(0.0);
        return if f >= 1.0 {
            Ok(i32::MAX)
        } else if f <= -1.0 {
            Ok(i32::MIN)
        } else if f == 0.0 {
            Ok(0)
        } else {
            Err(DECIMALS)
        };
    }
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.as_str()),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let frac = frac.trim_end_matches('0');
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(DECIMALS);
    }
    if frac.len() > 2 {
        return Err(DECIMALS);
    }
    let whole = whole.trim_start_matches('0');
    if whole.len() > 7 {
        return Ok(if negative { i32::MIN } else { i32::MAX });
    }
    let w: i32 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| DECIMALS)?
    };
    let f: i32 = format!("{frac:0<2}").parse().map_err(|_| DECIMALS)?;
    let v = w * 100 + f;
    Ok(if negative { -v } else { v })
}

/// A decimal in hundredths, or 0 (and an error naming `field`).
fn hundredths_of(e: &mut FieldErrors, field: &str, n: &Number) -> i32 {
    hundredths(n).unwrap_or_else(|m| {
        e.add(field, m);
        0
    })
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Assessment {
    pub id: Uuid,
    pub course_id: Uuid,
    pub title: String,
    pub description: Option<String>,
    /// Points, at most two decimals (0.01-1000).
    pub max_score: f64,
    /// Percent, at most two decimals (0.01-100). Weights are relative: a
    /// course's need not add up to 100.
    pub weight: f64,
    #[schema(value_type = String, format = Date)]
    pub due_date: Option<NaiveDate>,
    /// Whether students can see the grades.
    pub published: bool,
    pub published_at: Option<DateTime<Utc>>,
    pub published_by: Option<Uuid>,
    /// Send back with PATCH; a stale version answers 409.
    pub version: i64,
    pub created_by: Option<Uuid>,
    pub updated_by: Option<Uuid>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<pb::Assessment> for Assessment {
    fn from(a: pb::Assessment) -> Self {
        Self {
            id: uuid_or_nil(&a.id),
            course_id: uuid_or_nil(&a.course_id),
            title: a.title,
            description: Some(a.description).filter(|d| !d.is_empty()),
            max_score: points(a.max_score),
            weight: points(a.weight),
            due_date: date_of(a.due_date),
            published: a.published_at.is_some(),
            published_at: instant(a.published_at),
            published_by: opt_uuid(&a.published_by),
            version: a.version,
            created_by: opt_uuid(&a.created_by),
            updated_by: opt_uuid(&a.updated_by),
            created_at: instant(a.created_at),
            updated_at: instant(a.updated_at),
        }
    }
}

impl Paged for Assessment {
    const PAGE: &'static str = "AssessmentPage";
}

pub type AssessmentPage = Page<Assessment>;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAssessmentBody {
    /// 1-200 characters.
    pub title: String,
    /// At most 2000 characters.
    #[serde(default)]
    pub description: Option<String>,
    /// Points: more than 0, at most 1000, at most two decimals.
    #[schema(value_type = f64)]
    pub max_score: Number,
    /// Percent: more than 0, at most 100, at most two decimals.
    #[schema(value_type = f64)]
    pub weight: Number,
    /// `YYYY-MM-DD`.
    pub due_date: String,
}

impl CreateAssessmentBody {
    pub fn into_proto(self, course_id: Uuid) -> Result<pb::CreateAssessmentRequest, ApiError> {
        let mut e = FieldErrors::default();
        let max_score = hundredths_of(&mut e, "max_score", &self.max_score);
        let weight = hundredths_of(&mut e, "weight", &self.weight);
        let due_date = e.date("due_date", &self.due_date);
        e.finish()?;
        Ok(pb::CreateAssessmentRequest {
            course_id: course_id.to_string(),
            title: self.title,
            description: self.description.unwrap_or_default(),
            max_score,
            weight,
            due_date,
        })
    }
}

/// Only the fields present change (an empty description clears it).
/// `version` is the one you read.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAssessmentBody {
    pub version: i64,
    pub title: Option<String>,
    pub description: Option<String>,
    #[schema(value_type = Option<f64>)]
    pub max_score: Option<Number>,
    #[schema(value_type = Option<f64>)]
    pub weight: Option<Number>,
    /// `YYYY-MM-DD`.
    pub due_date: Option<String>,
}

impl UpdateAssessmentBody {
    pub fn into_proto(self, id: Uuid) -> Result<pb::UpdateAssessmentRequest, ApiError> {
        let mut e = FieldErrors::default();
        let max_score = self
            .max_score
            .map(|n| hundredths_of(&mut e, "max_score", &n));
        let weight = self.weight.map(|n| hundredths_of(&mut e, "weight", &n));
        let due_date = self.due_date.and_then(|d| e.date("due_date", &d));
        e.finish()?;
        Ok(pb::UpdateAssessmentRequest {
            id: id.to_string(),
            version: self.version,
            title: self.title,
            description: self.description,
            max_score,
            weight,
            due_date,
        })
    }
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GradeEntryBody {
    pub student_id: String,
    /// Points: 0 to the assessment's max score, at most two decimals.
    #[schema(value_type = f64)]
    pub score: Number,
}

/// Scores of many students of one assessment; each student at most once,
/// all enrolled in the course.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordGradesBody {
    pub entries: Vec<GradeEntryBody>,
}

impl RecordGradesBody {
    pub fn into_proto(self, assessment_id: Uuid) -> Result<pb::RecordGradesRequest, ApiError> {
        let mut e = FieldErrors::default();
        let entries = self
            .entries
            .into_iter()
            .enumerate()
            .map(|(i, g)| pb::GradeEntry {
                score: hundredths_of(&mut e, &format!("entries[{i}].score"), &g.score),
                student_id: g.student_id,
            })
            .collect();
        e.finish()?;
        Ok(pb::RecordGradesRequest {
            assessment_id: assessment_id.to_string(),
            entries,
        })
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Grade {
    pub student_id: Uuid,
    /// Points.
    pub score: f64,
    pub graded_by: Option<Uuid>,
    pub graded_at: Option<DateTime<Utc>>,
    /// 1 when first written, +1 per change of the score.
    pub revision: i32,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct GradeSheet {
    pub assessment_id: Uuid,
    pub course_id: Uuid,
    pub max_score: f64,
    pub published: bool,
    pub published_at: Option<DateTime<Utc>>,
    /// In student id order.
    pub grades: Vec<Grade>,
}

impl From<pb::GradeSheet> for GradeSheet {
    fn from(s: pb::GradeSheet) -> Self {
        Self {
            assessment_id: uuid_or_nil(&s.assessment_id),
            course_id: uuid_or_nil(&s.course_id),
            max_score: points(s.max_score),
            published: s.published_at.is_some(),
            published_at: instant(s.published_at),
            grades: s
                .grades
                .into_iter()
                .map(|g| Grade {
                    student_id: uuid_or_nil(&g.student_id),
                    score: points(g.score),
                    graded_by: opt_uuid(&g.graded_by),
                    graded_at: instant(g.graded_at),
                    revision: g.revision,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudentGradesParams {
    pub course_id: Option<String>,
    #[serde(flatten)]
    pub page: PageParams,
}

impl StudentGradesParams {
    pub fn into_proto(self, student_id: Uuid) -> Result<pb::ListStudentGradesRequest, ApiError> {
        Ok(pb::ListStudentGradesRequest {
            student_id: student_id.to_string(),
            course_id: self.course_id.unwrap_or_default(),
            page: Some(self.page.into_proto()?),
        })
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StudentGrade {
    pub assessment_id: Uuid,
    pub course_id: Uuid,
    pub course_code: String,
    pub title: String,
    pub max_score: f64,
    pub weight: f64,
    #[schema(value_type = String, format = Date)]
    pub due_date: Option<NaiveDate>,
    pub score: f64,
    pub graded_at: Option<DateTime<Utc>>,
    /// False for drafts, which only staff see.
    pub published: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StudentGrades {
    pub student_id: Uuid,
    /// In assessment order.
    pub items: Vec<StudentGrade>,
    pub next_cursor: Option<String>,
}

impl From<pb::StudentGrades> for StudentGrades {
    fn from(s: pb::StudentGrades) -> Self {
        Self {
            student_id: uuid_or_nil(&s.student_id),
            items: s
                .grades
                .into_iter()
                .map(|g| StudentGrade {
                    assessment_id: uuid_or_nil(&g.assessment_id),
                    course_id: uuid_or_nil(&g.course_id),
                    course_code: g.course_code,
                    title: g.title,
                    max_score: points(g.max_score),
                    weight: points(g.weight),
                    due_date: date_of(g.due_date),
                    score: points(g.score),
                    graded_at: instant(g.graded_at),
                    published: g.published_at.is_some(),
                })
                .collect(),
            next_cursor: next_cursor(s.page),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(json: &str) -> Result<i32, &'static str> {
        hundredths(&serde_json::from_str::<Number>(json).unwrap())
    }

    #[test]
    fn numbers_become_exact_hundredths() {
        assert_eq!(h("100"), Ok(10_000));
        assert_eq!(h("87.5"), Ok(8750));
        assert_eq!(h("87.55"), Ok(8755));
        assert_eq!(h("0.01"), Ok(1));
        assert_eq!(h("0.1"), Ok(10));
        assert_eq!(h("100.0"), Ok(10_000));
        assert_eq!(h("1.10"), Ok(110));
        assert_eq!(h("0"), Ok(0));
        assert_eq!(h("-1.5"), Ok(-150));
        assert_eq!(h("1e2"), Ok(10_000));
        assert_eq!(h("1e30"), Ok(i32::MAX));
        assert_eq!(h("-1e30"), Ok(i32::MIN));
        assert_eq!(h("99999999999"), Ok(i32::MAX));
        assert_eq!(h("87.555"), Err(DECIMALS));
        assert_eq!(h("0.001"), Err(DECIMALS));
        assert_eq!(h("1e-7"), Err(DECIMALS));
    }

    #[test]
    fn hundredths_read_back_as_the_same_decimals() {
        for (v, s) in [
            (8755, "87.55"),
            (1, "0.01"),
            (10_000, "100.0"),
            (33, "0.33"),
        ] {
            assert_eq!(serde_json::to_string(&points(v)).unwrap(), s);
        }
    }
}
