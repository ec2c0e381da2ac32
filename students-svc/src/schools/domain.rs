//! A new school, parsed from its request.

use platform::caller::Role;
use platform::limits;
use platform::service::{nothing, ServiceError, Violations};
use proto::students::v1 as pb;

use crate::accounts::domain::NewUser;
use crate::values::{bounded_text, Email, NewPassword, PersonName, Slug};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchoolName(String);

impl SchoolName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        bounded_text(raw, "school name", limits::SCHOOL_NAME_MAX).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub struct NewSchool {
    pub name: SchoolName,
    pub slug: Slug,
    pub admin: NewUser,
}

impl TryFrom<pb::CreateSchoolRequest> for NewSchool {
    type Error = ServiceError;
    fn try_from(r: pb::CreateSchoolRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let name = v.take("name", SchoolName::parse(&r.name));
        let slug = v.take("slug", Slug::parse(&r.slug));
        let email = v.take("admin_email", Email::parse(&r.admin_email));
        let password = v.take("admin_password", NewPassword::parse(&r.admin_password));
        let full_name = v.take("admin_full_name", PersonName::parse(&r.admin_full_name));
        v.finish()?;
        match (name, slug, email, password, full_name) {
            (Some(name), Some(slug), Some(email), Some(password), Some(full_name)) => Ok(Self {
                name,
                slug,
                admin: NewUser {
                    email,
                    password,
                    full_name,
                    role: Role::Admin,
                },
            }),
            _ => Err(nothing()),
        }
    }
}
