//! JSON shapes of the HTTP API and their conversions from and to proto.
//! Request bodies reject unknown fields; dates are `YYYY-MM-DD`, instants
//! RFC 3339.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use proto::common::v1 as common;
use proto::students::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::problem::{ApiError, FieldError};

pub mod courses;
pub mod fees;
pub mod grades;
pub mod notifications;

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

#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Teacher,
    Student,
    Guardian,
}

impl Role {
    fn from_proto(v: i32) -> Option<Self> {
        match common::Role::try_from(v) {
            Ok(common::Role::Admin) => Some(Self::Admin),
            Ok(common::Role::Teacher) => Some(Self::Teacher),
            Ok(common::Role::Student) => Some(Self::Student),
            Ok(common::Role::Guardian) => Some(Self::Guardian),
            _ => None,
        }
    }

    pub fn to_proto(self) -> common::Role {
        match self {
            Self::Admin => common::Role::Admin,
            Self::Teacher => common::Role::Teacher,
            Self::Student => common::Role::Student,
            Self::Guardian => common::Role::Guardian,
        }
    }
}

impl From<Role> for platform::caller::Role {
    fn from(r: Role) -> Self {
        match r {
            Role::Admin => Self::Admin,
            Role::Teacher => Self::Teacher,
            Role::Student => Self::Student,
            Role::Guardian => Self::Guardian,
        }
    }
}

/// A proto timestamp as an instant (`None` when unset or out of range).
pub(crate) fn instant(t: Option<prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0)))
}

/// A UUID a service sent; the nil UUID if it sent none.
pub(crate) fn uuid_or_nil(s: &str) -> Uuid {
    platform::text::parse_uuid(s).unwrap_or_default()
}

fn opt_uuid(s: &str) -> Option<Uuid> {
    platform::text::parse_uuid(s)
}

/// Parses `YYYY-MM-DD` into the proto date.
pub fn parse_date(field: &str, s: &str) -> Result<common::Date, ApiError> {
    platform::text::parse_date(s)
        .map(|d| common::Date {
            year: d.year(),
            month: d.month(),
            day: d.day(),
        })
        .ok_or_else(|| ApiError::field(field, "must be a calendar date formatted YYYY-MM-DD"))
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
            id: opt_uuid(&s.id).unwrap_or_default(),
            admission_no: s.admission_no,
            given_name: s.given_name,
            family_name: s.family_name,
            date_of_birth: s
                .date_of_birth
                .and_then(|d| NaiveDate::from_ymd_opt(d.year, d.month, d.day)),
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

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StudentPage {
    pub items: Vec<Student>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLogin {
    pub email: String,
    pub password: String,
}

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
            status: self
                .status
                .map_or(pb::StudentStatus::Unspecified, StudentStatus::to_proto)
                .into(),
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
            status: self
                .status
                .map_or(pb::StudentStatus::Unspecified, StudentStatus::to_proto)
                .into(),
        })
    }
}

/// Raw list parameters; each is parsed with its own field error.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListStudentsParams {
    pub limit: Option<String>,
    pub cursor: Option<String>,
    pub grade_level: Option<String>,
    pub section: Option<String>,
    pub status: Option<String>,
    pub q: Option<String>,
}

pub const DEFAULT_LIMIT: u32 = 25;
pub const MAX_LIMIT: u32 = 100;

/// Collects the field errors found at the edge (query parameters, values
/// the gateway converts), each naming its field, so one request reports
/// them all at once.
#[derive(Default)]
pub(crate) struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.to_owned(),
            message: message.into(),
        });
    }

    /// A list query's page: `limit` 1-100 (default 25) and its cursor.
    pub fn page(&mut self, limit: Option<&str>, cursor: Option<String>) -> common::PageRequest {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(s) => match s.parse::<u32>() {
                Ok(n @ 1..=MAX_LIMIT) => n,
                _ => {
                    self.add(
                        "limit",
                        format!("must be an integer between 1 and {MAX_LIMIT}"),
                    );
                    0
                }
            },
        };
        common::PageRequest {
            limit,
            cursor: cursor.unwrap_or_default(),
        }
    }

    /// A `YYYY-MM-DD` date, or none (and an error) if it is not one.
    pub fn date(&mut self, field: &str, raw: &str) -> Option<common::Date> {
        match parse_date(field, raw) {
            Ok(d) => Some(d),
            Err(_) => {
                self.add(field, "must be a calendar date formatted YYYY-MM-DD");
                None
            }
        }
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.0))
        }
    }
}

impl ListStudentsParams {
    pub fn into_proto(self) -> Result<pb::ListStudentsRequest, ApiError> {
        let mut e = FieldErrors::default();
        let page = e.page(self.limit.as_deref(), self.cursor);
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

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    /// The school's slug.
    pub school: String,
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
    pub user: User,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: Uuid,
    pub school_id: Uuid,
    pub email: String,
    pub full_name: String,
    pub role: Option<Role>,
    /// For student logins: their student record.
    pub student_id: Option<Uuid>,
}

impl From<pb::User> for User {
    fn from(u: pb::User) -> Self {
        Self {
            id: opt_uuid(&u.id).unwrap_or_default(),
            school_id: opt_uuid(&u.school_id).unwrap_or_default(),
            email: u.email,
            full_name: u.full_name,
            role: Role::from_proto(u.role),
            student_id: opt_uuid(&u.student_id),
        }
    }
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAdmin {
    pub email: String,
    pub password: String,
    pub full_name: String,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSchoolBody {
    pub name: String,
    /// 3-40 of a-z, 0-9, '-': what users type at login.
    pub slug: String,
    pub admin: NewAdmin,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct School {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedSchool {
    pub school: School,
    pub admin: User,
}

impl From<pb::CreateSchoolResponse> for CreatedSchool {
    fn from(r: pb::CreateSchoolResponse) -> Self {
        let s = r.school.unwrap_or_default();
        Self {
            school: School {
                id: opt_uuid(&s.id).unwrap_or_default(),
                name: s.name,
                slug: s.slug,
            },
            admin: r.admin.unwrap_or_default().into(),
        }
    }
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserBody {
    pub email: String,
    pub password: String,
    pub full_name: String,
    /// admin or teacher.
    pub role: Role,
}
