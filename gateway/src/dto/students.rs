//! JSON shapes of students and their proto conversions.

use chrono::{DateTime, NaiveDate, Utc};
use proto::students::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::accounts::NewLogin;
use super::{date_of, instant, parse_date, uuid_or_nil, FieldErrors, Page, PageParams, Paged};
use crate::problem::ApiError;

#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum StudentStatus {
    Active,
    Graduated,
    Withdrawn,
}

impl StudentStatus {
    pub fn to_proto(self) -> pb::StudentStatus {
        match self {
            Self::Active => pb::StudentStatus::Active,
            Self::Graduated => pb::StudentStatus::Graduated,
            Self::Withdrawn => pb::StudentStatus::Withdrawn,
        }
    }

    fn from_proto(v: i32) -> Self {
        match pb::StudentStatus::try_from(v) {
            Ok(pb::StudentStatus::Graduated) => Self::Graduated,
            Ok(pb::StudentStatus::Withdrawn) => Self::Withdrawn,
            _ => Self::Active,
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "graduated" => Some(Self::Graduated),
            "withdrawn" => Some(Self::Withdrawn),
            _ => None,
        }
    }
}

/// An optional status as proto (unspecified when absent).
fn status_proto(s: Option<StudentStatus>) -> i32 {
    s.map_or(pb::StudentStatus::Unspecified, StudentStatus::to_proto)
        .into()
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Student {
    pub id: Uuid,
    pub admission_no: String,
    pub given_name: String,
    pub family_name: String,
    /// `YYYY-MM-DD`.
    #[schema(value_type = String, format = Date)]
    pub date_of_birth: Option<NaiveDate>,
    /// 0 (kindergarten) to 12.
    pub grade_level: i32,
    pub section: String,
    pub status: StudentStatus,
    /// Send back with PATCH; a stale version answers 409.
    pub version: i64,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    /// Set once the student is archived.
    pub archived_at: Option<DateTime<Utc>>,
}

impl From<pb::Student> for Student {
    fn from(s: pb::Student) -> Self {
        Self {
            id: uuid_or_nil(&s.id),
            admission_no: s.admission_no,
            given_name: s.given_name,
            family_name: s.family_name,
            date_of_birth: date_of(s.date_of_birth),
            grade_level: s.grade_level,
            section: s.section,
            status: StudentStatus::from_proto(s.status),
            version: s.version,
            created_at: instant(s.created_at),
            updated_at: instant(s.updated_at),
            archived_at: instant(s.archived_at),
        }
    }
}

impl Paged for Student {
    const PAGE: &'static str = "StudentPage";
}

pub type StudentPage = Page<Student>;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStudentBody {
    pub admission_no: String,
    pub given_name: String,
    pub family_name: String,
    /// `YYYY-MM-DD`.
    pub date_of_birth: String,
    pub grade_level: i32,
    #[serde(default)]
    pub section: Option<String>,
    #[serde(default)]
    pub status: Option<StudentStatus>,
    /// Creates a portal login for the student.
    #[serde(default)]
    pub login: Option<NewLogin>,
}

impl CreateStudentBody {
    pub fn into_proto(self) -> Result<pb::CreateStudentRequest, ApiError> {
        Ok(pb::CreateStudentRequest {
            date_of_birth: Some(parse_date("date_of_birth", &self.date_of_birth)?),
            admission_no: self.admission_no,
            given_name: self.given_name,
            family_name: self.family_name,
            grade_level: self.grade_level,
            section: self.section.unwrap_or_default(),
            status: status_proto(self.status),
            login: self.login.map(|l| pb::StudentLogin {
                email: l.email,
                password: l.password,
            }),
        })
    }
}

/// Only the fields present change. `version` is the one you read.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateStudentBody {
    pub version: i64,
    pub admission_no: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub date_of_birth: Option<String>,
    pub grade_level: Option<i32>,
    pub section: Option<String>,
    pub status: Option<StudentStatus>,
}

impl UpdateStudentBody {
    pub fn into_proto(self, id: Uuid) -> Result<pb::UpdateStudentRequest, ApiError> {
        let date_of_birth = match &self.date_of_birth {
            Some(d) => Some(parse_date("date_of_birth", d)?),
            None => None,
        };
        Ok(pb::UpdateStudentRequest {
            id: id.to_string(),
            version: self.version,
            admission_no: self.admission_no,
            given_name: self.given_name,
            family_name: self.family_name,
            date_of_birth,
            grade_level: self.grade_level,
            section: self.section,
            status: status_proto(self.status),
        })
    }
}

/// Raw list parameters; each is parsed with its own field error.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListStudentsParams {
    #[serde(flatten)]
    pub page: PageParams,
    pub grade_level: Option<String>,
    pub section: Option<String>,
    pub status: Option<String>,
    pub q: Option<String>,
}

impl ListStudentsParams {
    pub fn into_proto(self) -> Result<pb::ListStudentsRequest, ApiError> {
        let mut e = FieldErrors::default();
        let page = self.page.parse(&mut e);
        let grade_level = match self.grade_level.as_deref() {
            None => None,
            Some(s) => match s.parse::<i32>() {
                Ok(g @ 0..=12) => Some(g),
                _ => {
                    e.add("grade_level", "must be an integer between 0 and 12");
                    None
                }
            },
        };
        let status = match self.status.as_deref() {
            None => pb::StudentStatus::Unspecified,
            Some(s) => match StudentStatus::parse(s) {
                Some(st) => st.to_proto(),
                None => {
                    e.add("status", "must be active, graduated or withdrawn");
                    pb::StudentStatus::Unspecified
                }
            },
        };
        e.finish()?;
        Ok(pb::ListStudentsRequest {
            page: Some(page),
            grade_level,
            section: self.section,
            status: status.into(),
            query: self.q.unwrap_or_default(),
        })
    }
}
