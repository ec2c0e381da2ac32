//! JSON shapes of staff profiles (teachers) and their proto conversions.

use chrono::{DateTime, NaiveDate, Utc};
use proto::students::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{date_of, instant, non_empty, parse_date, uuid_or_nil, Page, Paged};
use crate::problem::ApiError;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffProfileBody {
    /// E.164; omit for none.
    #[serde(default)]
    pub phone: Option<String>,
    /// At most 20, each 1-40 characters.
    #[serde(default)]
    pub subjects: Vec<String>,
    /// Unique within the school.
    pub employee_no: String,
    /// `YYYY-MM-DD`.
    pub hired_on: String,
}

impl StaffProfileBody {
    pub fn into_proto(self, user_id: Uuid) -> Result<pb::SaveStaffProfileRequest, ApiError> {
        Ok(pb::SaveStaffProfileRequest {
            user_id: user_id.to_string(),
            hired_on: Some(parse_date("hired_on", &self.hired_on)?),
            phone: self.phone.unwrap_or_default(),
            subjects: self.subjects,
            employee_no: self.employee_no,
        })
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StaffProfile {
    pub phone: Option<String>,
    pub subjects: Vec<String>,
    pub employee_no: String,
    /// `YYYY-MM-DD`.
    #[schema(value_type = String, format = Date)]
    pub hired_on: Option<NaiveDate>,
    pub version: i64,
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StaffMember {
    pub user_id: Uuid,
    pub full_name: String,
    pub email: String,
    pub active: bool,
    /// Null until a profile is saved.
    pub profile: Option<StaffProfile>,
}

impl From<pb::StaffMember> for StaffMember {
    fn from(s: pb::StaffMember) -> Self {
        Self {
            user_id: uuid_or_nil(&s.user_id),
            full_name: s.full_name,
            email: s.email,
            active: s.active,
            profile: s.profile.map(|p| StaffProfile {
                phone: non_empty(p.phone),
                subjects: p.subjects,
                employee_no: p.employee_no,
                hired_on: date_of(p.hired_on),
                version: p.version,
                updated_at: instant(p.updated_at),
            }),
        }
    }
}

impl Paged for StaffMember {
    const PAGE: &'static str = "StaffPage";
}

pub type StaffPage = Page<StaffMember>;
