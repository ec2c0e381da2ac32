//! Report-card requests parsed at the edge (every field error collected).

use platform::service::{nothing, ServiceError, Violations};
use platform::text::Term;
use proto::notify::v1 as pb;
use uuid::Uuid;

/// One student's card for a term.
#[derive(Debug, Clone)]
pub struct NewCard {
    pub student_id: Uuid,
    pub term: Term,
}

impl TryFrom<pb::CreateReportCardRequest> for NewCard {
    type Error = ServiceError;
    fn try_from(r: pb::CreateReportCardRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let student = v.take(
            "student_id",
            platform::text::parse_uuid(&r.student_id).ok_or_else(|| "must be a UUID".to_owned()),
        );
        let term = v.take("term", Term::parse(&r.term));
        v.finish()?;
        match (student, term) {
            (Some(student_id), Some(term)) => Ok(Self { student_id, term }),
            _ => Err(nothing()),
        }
    }
}

/// Every current student's card of a grade level for a term.
#[derive(Debug, Clone)]
pub struct NewBatch {
    pub term: Term,
    pub grade_level: i32,
}

impl TryFrom<pb::CreateGradeReportCardsRequest> for NewBatch {
    type Error = ServiceError;
    fn try_from(r: pb::CreateGradeReportCardsRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let term = v.take("term", Term::parse(&r.term));
        let grade = v.take(
            "grade_level",
            if (platform::limits::GRADE_LEVEL_MIN..=platform::limits::GRADE_LEVEL_MAX)
                .contains(&r.grade_level)
            {
                Ok(r.grade_level)
            } else {
                Err("must be 0-12".to_owned())
            },
        );
        v.finish()?;
        match (term, grade) {
            (Some(term), Some(grade_level)) => Ok(Self { term, grade_level }),
            _ => Err(nothing()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(e: ServiceError) -> Vec<String> {
        match e {
            ServiceError::Invalid(v) => v.into_iter().map(|f| f.field).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_bad_field_is_named() {
        let e = NewCard::try_from(pb::CreateReportCardRequest {
            student_id: "x".into(),
            term: "2026-T9".into(),
        })
        .unwrap_err();
        assert_eq!(fields(e), ["student_id", "term"]);
        let e = NewBatch::try_from(pb::CreateGradeReportCardsRequest {
            term: "spring".into(),
            grade_level: 13,
        })
        .unwrap_err();
        assert_eq!(fields(e), ["term", "grade_level"]);
        let ok = NewBatch::try_from(pb::CreateGradeReportCardsRequest {
            term: "2026-T2".into(),
            grade_level: 0,
        })
        .unwrap();
        assert_eq!((ok.term.as_str(), ok.grade_level), ("2026-T2", 0));
    }
}
