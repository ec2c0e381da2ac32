//! Assessment and grade values, and the proto requests parsed into them
//! (every field error collected).
//!
//! Points are fixed-point with two decimals held as integer hundredths
//! ([`Points`]); weights are percentages with two decimals held as
//! hundredths of a percent ([`Weight`]).

use chrono::NaiveDate;
use proto::students::v1 as pb;
use uuid::Uuid;

use platform::paging::{self, Keyset};
use platform::service::{nothing, ServiceError, Violations};

use crate::values::{bounded_text, school_date, uuid};

/// Hundredths as a decimal without trailing zeros: 8750 → "87.5".
pub fn format_hundredths(v: i32) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let (whole, frac) = (v.unsigned_abs() / 100, v.unsigned_abs() % 100);
    match frac {
        0 => format!("{sign}{whole}"),
        f if f % 10 == 0 => format!("{sign}{whole}.{}", f / 10),
        f => format!("{sign}{whole}.{f:02}"),
    }
}

/// An assessment's title: 1-200 characters, trimmed, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub fn parse(raw: &str) -> Result<Self, String> {
        bounded_text(raw, "title", platform::limits::TITLE_MAX).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Optional free text: at most 2000 characters; line breaks and tabs are
/// allowed, other control characters are not. Empty means none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    pub const MAX_CHARS: usize = platform::limits::DESCRIPTION_MAX;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        if s.chars().count() > Self::MAX_CHARS {
            return Err(format!(
                "description must be at most {} characters",
                Self::MAX_CHARS
            ));
        }
        if s.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err("description must not contain control characters".into());
        }
        Ok(Self(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An assessment's maximum score in hundredths of a point: 0.01 to 1000.00
/// points (1 to 100000).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Points(i32);

impl Points {
    pub const MAX: i32 = platform::limits::MAX_SCORE_MAX * 100;

    pub fn parse(raw: i32) -> Result<Self, String> {
        if (1..=Self::MAX).contains(&raw) {
            Ok(Self(raw))
        } else {
            Err("max_score must be more than 0 and at most 1000 points".into())
        }
    }
    pub fn get(self) -> i32 {
        self.0
    }
}

/// An assessment's weight in hundredths of a percent: more than 0 and at
/// most 100 % (1 to 10000).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Weight(i32);

impl Weight {
    pub fn parse(raw: i32) -> Result<Self, String> {
        if (1..=platform::limits::WEIGHT_MAX * 100).contains(&raw) {
            Ok(Self(raw))
        } else {
            Err("weight must be more than 0 and at most 100 (percent)".into())
        }
    }
    pub fn get(self) -> i32 {
        self.0
    }
}

/// A score in hundredths of a point: not negative and at most the largest
/// maximum an assessment can have; the assessment's own maximum is checked
/// against its stored row.
fn score(raw: i32) -> Result<i32, String> {
    if raw < 0 {
        Err("score must not be negative".into())
    } else if raw > Points::MAX {
        Err("score must be at most the assessment's max score".into())
    } else {
        Ok(raw)
    }
}

pub struct NewAssessment {
    pub course_id: Uuid,
    pub title: Title,
    pub description: Description,
    pub max_score: Points,
    pub weight: Weight,
    pub due_on: NaiveDate,
}

impl TryFrom<pb::CreateAssessmentRequest> for NewAssessment {
    type Error = ServiceError;
    fn try_from(r: pb::CreateAssessmentRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let course_id = v.take("course_id", uuid(&r.course_id));
        let title = v.take("title", Title::parse(&r.title));
        let description = v.take("description", Description::parse(&r.description));
        let max_score = v.take("max_score", Points::parse(r.max_score));
        let weight = v.take("weight", Weight::parse(r.weight));
        let due_on = v.take("due_date", school_date(r.due_date.as_ref()));
        v.finish()?;
        match (course_id, title, description, max_score, weight, due_on) {
            (
                Some(course_id),
                Some(title),
                Some(description),
                Some(max_score),
                Some(weight),
                Some(due_on),
            ) => Ok(Self {
                course_id,
                title,
                description,
                max_score,
                weight,
                due_on,
            }),
            _ => Err(nothing()),
        }
    }
}

/// Fields to change; `None` keeps the stored value.
#[derive(Default)]
pub struct AssessmentPatch {
    pub title: Option<Title>,
    pub description: Option<Description>,
    pub max_score: Option<Points>,
    pub weight: Option<Weight>,
    pub due_on: Option<NaiveDate>,
}

impl AssessmentPatch {
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.description.is_none()
            && self.max_score.is_none()
            && self.weight.is_none()
            && self.due_on.is_none()
    }
}

pub struct AssessmentUpdate {
    pub id: Uuid,
    pub version: i64,
    pub patch: AssessmentPatch,
}

impl TryFrom<pb::UpdateAssessmentRequest> for AssessmentUpdate {
    type Error = ServiceError;
    fn try_from(r: pb::UpdateAssessmentRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let id = v.take("id", uuid(&r.id));
        if r.version < 1 {
            v.add("version", "version is required and must be at least 1");
        }
        let mut patch = AssessmentPatch::default();
        if let Some(s) = &r.title {
            patch.title = v.take("title", Title::parse(s));
        }
        if let Some(s) = &r.description {
            patch.description = v.take("description", Description::parse(s));
        }
        if let Some(m) = r.max_score {
            patch.max_score = v.take("max_score", Points::parse(m));
        }
        if let Some(w) = r.weight {
            patch.weight = v.take("weight", Weight::parse(w));
        }
        if let Some(d) = &r.due_date {
            patch.due_on = v.take("due_date", school_date(Some(d)));
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

/// Position after the last assessment of a page: (due date, id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AssessmentCursor {
    pub due_on: NaiveDate,
    pub id: Uuid,
}

impl Keyset for AssessmentCursor {
    const TAG: &'static str = "a";
}

/// Position after the last grade of a student's page: the assessment id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GradeCursor(pub Uuid);

impl Keyset for GradeCursor {
    const TAG: &'static str = "g";
}

pub struct AssessmentQuery {
    pub course_id: Uuid,
    pub after: Option<AssessmentCursor>,
    pub limit: u32,
}

impl TryFrom<pb::ListAssessmentsRequest> for AssessmentQuery {
    type Error = ServiceError;
    fn try_from(r: pb::ListAssessmentsRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let course_id = v.take("course_id", uuid(&r.course_id));
        let page = r.page.unwrap_or_default();
        let (limit, after) = paging::request::<AssessmentCursor>(&mut v, page.limit, &page.cursor);
        v.finish()?;
        Ok(Self {
            course_id: course_id.ok_or_else(nothing)?,
            after,
            limit,
        })
    }
}

pub const MAX_ENTRIES: usize = platform::limits::MAX_ENTRIES;

/// One assessment's scores: student ids and scores in request order (the
/// shape the UNNEST upsert takes), each student at most once.
pub struct GradeEntries {
    pub assessment_id: Uuid,
    pub student_ids: Vec<Uuid>,
    pub scores: Vec<i32>,
}

impl TryFrom<pb::RecordGradesRequest> for GradeEntries {
    type Error = ServiceError;
    fn try_from(r: pb::RecordGradesRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let assessment_id = v.take("assessment_id", uuid(&r.assessment_id));
        let n = r.entries.len();
        if n == 0 {
            v.add("entries", "at least one entry is required");
        } else if n > MAX_ENTRIES {
            v.add(
                "entries",
                format!("at most {MAX_ENTRIES} entries are allowed"),
            );
        }
        let mut seen = std::collections::HashSet::with_capacity(n);
        let (mut student_ids, mut scores) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for (i, e) in r.entries.iter().enumerate() {
            let field = format!("entries[{i}].student_id");
            if let Some(id) = v.take(&field, uuid(&e.student_id)) {
                if !seen.insert(id) {
                    v.add(&field, "the student appears more than once");
                }
                student_ids.push(id);
            }
            if let Some(s) = v.take(&format!("entries[{i}].score"), score(e.score)) {
                scores.push(s);
            }
        }
        v.finish()?;
        Ok(Self {
            assessment_id: assessment_id.ok_or_else(nothing)?,
            student_ids,
            scores,
        })
    }
}

pub struct StudentGradesQuery {
    pub student_id: Uuid,
    pub course_id: Option<Uuid>,
    pub after: Option<GradeCursor>,
    pub limit: u32,
}

impl TryFrom<pb::ListStudentGradesRequest> for StudentGradesQuery {
    type Error = ServiceError;
    fn try_from(r: pb::ListStudentGradesRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let student_id = v.take("student_id", uuid(&r.student_id));
        let course_id = if r.course_id.is_empty() {
            None
        } else {
            v.take("course_id", uuid(&r.course_id))
        };
        let page = r.page.unwrap_or_default();
        let (limit, after) = paging::request::<GradeCursor>(&mut v, page.limit, &page.cursor);
        v.finish()?;
        Ok(Self {
            student_id: student_id.ok_or_else(nothing)?,
            course_id,
            after,
            limit,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_weights_and_scores() {
        assert!(Points::parse(1).is_ok() && Points::parse(100_000).is_ok());
        assert!(Points::parse(0).is_err() && Points::parse(100_001).is_err());
        assert!(Points::parse(-5).is_err());
        assert!(Weight::parse(1).is_ok() && Weight::parse(10_000).is_ok());
        assert!(Weight::parse(0).is_err() && Weight::parse(10_001).is_err());
        assert!(score(0).is_ok() && score(100_000).is_ok());
        assert!(score(-1).is_err() && score(100_001).is_err());
    }

    #[test]
    fn hundredths_read_as_decimals() {
        assert_eq!(format_hundredths(8750), "87.5");
        assert_eq!(format_hundredths(10_000), "100");
        assert_eq!(format_hundredths(5), "0.05");
        assert_eq!(format_hundredths(1234), "12.34");
        assert_eq!(format_hundredths(-150), "-1.5");
    }

    #[test]
    fn titles_and_descriptions() {
        assert_eq!(Title::parse("  Quiz 1 ").unwrap().as_str(), "Quiz 1");
        assert!(Title::parse(" ").is_err());
        assert!(Title::parse(&"x".repeat(201)).is_err());
        assert!(Title::parse(&"é".repeat(200)).is_ok());
        assert!(Title::parse("a\nb").is_err());
        assert!(Description::parse("line 1\nline 2").is_ok());
        assert_eq!(Description::parse("  ").unwrap().as_str(), "");
        assert!(Description::parse("bell\u{7}").is_err());
        assert!(Description::parse(&"x".repeat(2001)).is_err());
    }

    #[test]
    fn cursors_do_not_cross() {
        let a = AssessmentCursor {
            due_on: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
            id: Uuid::now_v7(),
        };
        assert_eq!(AssessmentCursor::decode(&a.encode()).unwrap(), a);
        let g = GradeCursor(Uuid::now_v7());
        assert_eq!(GradeCursor::decode(&g.encode()).unwrap(), g);
        assert!(GradeCursor::decode(&a.encode()).is_err());
        assert!(AssessmentCursor::decode(&g.encode()).is_err());
        assert!(AssessmentCursor::decode("not a cursor").is_err());
    }

    #[test]
    fn entries_name_each_bad_index() {
        let id = Uuid::now_v7().to_string();
        let r = pb::RecordGradesRequest {
            assessment_id: Uuid::now_v7().to_string(),
            entries: vec![
                pb::GradeEntry {
                    student_id: id.clone(),
                    score: 10,
                },
                pb::GradeEntry {
                    student_id: "nope".into(),
                    score: -1,
                },
                pb::GradeEntry {
                    student_id: id,
                    score: 5,
                },
            ],
        };
        let Err(ServiceError::Invalid(v)) = GradeEntries::try_from(r) else {
            panic!("expected violations");
        };
        let fields: Vec<&str> = v.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "entries[1].student_id",
                "entries[1].score",
                "entries[2].student_id"
            ]
        );
    }
}
