//! The list request, parsed with every field error collected.

use platform::{
    paging::{self, Keyset},
    service::{ServiceError, Violations},
};
use proto::analytics::v1 as pb;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// After (family name, given name, student id).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AfterName(pub String, pub String, pub Uuid);

impl Keyset for AfterName {
    const TAG: &'static str = "risk";
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    Any,
    Chronic,
    Consecutive,
    LowGrade,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Any => "any",
            Self::Chronic => "chronic",
            Self::Consecutive => "consecutive",
            Self::LowGrade => "low_grade",
        }
    }
}

#[derive(Debug)]
pub struct Query {
    pub reason: Reason,
    pub grade_level: Option<i32>,
    pub course: Option<Uuid>,
    pub limit: u32,
    pub after: Option<AfterName>,
}

impl TryFrom<pb::ListAtRiskRequest> for Query {
    type Error = ServiceError;

    fn try_from(r: pb::ListAtRiskRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let reason = match pb::RiskReason::try_from(r.reason) {
            Ok(pb::RiskReason::Unspecified) => Some(Reason::Any),
            Ok(pb::RiskReason::ChronicAbsence) => Some(Reason::Chronic),
            Ok(pb::RiskReason::ConsecutiveAbsences) => Some(Reason::Consecutive),
            Ok(pb::RiskReason::LowGrade) => Some(Reason::LowGrade),
            Err(_) => {
                v.add("reason", "unknown reason");
                None
            }
        };
        if let Some(g) = r.grade_level {
            if !(0..=12).contains(&g) {
                v.add("grade_level", "grade_level must be between 0 and 12");
            }
        }
        let course = if r.course_id.is_empty() {
            None
        } else {
            v.take(
                "course_id",
                platform::text::parse_uuid(&r.course_id).ok_or_else(|| "must be a UUID".to_owned()),
            )
        };
        let page = r.page.unwrap_or_default();
        let (limit, after) = paging::request::<AfterName>(&mut v, page.limit, &page.cursor);
        v.finish()?;
        Ok(Self {
            reason: reason.unwrap_or(Reason::Any),
            grade_level: r.grade_level,
            course,
            limit,
            after,
        })
    }
}
