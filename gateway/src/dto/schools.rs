//! JSON shapes of schools (tenants) and their proto conversions.

use proto::students::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::accounts::User;
use super::uuid_or_nil;

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

impl CreateSchoolBody {
    pub fn into_proto(self) -> pb::CreateSchoolRequest {
        pb::CreateSchoolRequest {
            name: self.name,
            slug: self.slug,
            admin_email: self.admin.email,
            admin_password: self.admin.password,
            admin_full_name: self.admin.full_name,
        }
    }
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
                id: uuid_or_nil(&s.id),
                name: s.name,
                slug: s.slug,
            },
            admin: r.admin.unwrap_or_default().into(),
        }
    }
}
