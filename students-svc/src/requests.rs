//! Proto requests → domain types, collecting every field error.

use chrono::Utc;
use platform::caller::Role;
use proto::common::v1 as common;
use proto::students::v1 as pb;
use uuid::Uuid;

use crate::domain::*;
use crate::error::ServiceError;

fn today() -> chrono::NaiveDate {
    Utc::now().date_naive()
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
            _ => Err(anyhow::anyhow!("parse without violations yielded nothing").into()),
        }
    }
}

impl TryFrom<pb::CreateUserRequest> for NewUser {
    type Error = ServiceError;
    fn try_from(r: pb::CreateUserRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let email = v.take("email", Email::parse(&r.email));
        let password = v.take("password", NewPassword::parse(&r.password));
        let full_name = v.take("full_name", PersonName::parse(&r.full_name));
        let role = v.take(
            "role",
            match common::Role::try_from(r.role) {
                Ok(common::Role::Admin) => Ok(Role::Admin),
                Ok(common::Role::Teacher) => Ok(Role::Teacher),
                _ => Err("role must be admin or teacher".to_owned()),
            },
        );
        v.finish()?;
        match (email, password, full_name, role) {
            (Some(email), Some(password), Some(full_name), Some(role)) => Ok(Self {
                email,
                password,
                full_name,
                role,
            }),
            _ => Err(anyhow::anyhow!("parse without violations yielded nothing").into()),
        }
    }
}

impl TryFrom<pb::CreateStudentRequest> for NewStudent {
    type Error = ServiceError;
    fn try_from(r: pb::CreateStudentRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let admission_no = v.take("admission_no", AdmissionNo::parse(&r.admission_no));
        let given_name = v.take("given_name", PersonName::parse(&r.given_name));
        let family_name = v.take("family_name", PersonName::parse(&r.family_name));
        let dob = v.take(
            "date_of_birth",
            date_of_birth(r.date_of_birth.as_ref(), today()),
        );
        let grade = v.take("grade_level", GradeLevel::parse(r.grade_level));
        let section = v.take("section", Section::parse(&r.section));
        let status = v.take("status", StudentStatus::from_proto(r.status));
        let login = match &r.login {
            None => None,
            Some(l) => {
                let email = v.take("login.email", Email::parse(&l.email));
                let password = v.take("login.password", NewPassword::parse(&l.password));
                email
                    .zip(password)
                    .map(|(email, password)| NewLogin { email, password })
            }
        };
        v.finish()?;
        match (
            admission_no,
            given_name,
            family_name,
            dob,
            grade,
            section,
            status,
        ) {
            (
                Some(admission_no),
                Some(given_name),
                Some(family_name),
                Some(date_of_birth),
                Some(grade_level),
                Some(section),
                Some(status),
            ) => Ok(Self {
                admission_no,
                given_name,
                family_name,
                date_of_birth,
                grade_level,
                section,
                status: status.unwrap_or(StudentStatus::Active),
                login,
            }),
            _ => Err(anyhow::anyhow!("parse without violations yielded nothing").into()),
        }
    }
}

pub struct ParsedUpdate {
    pub id: Uuid,
    pub version: i64,
    pub patch: StudentPatch,
}

impl TryFrom<pb::UpdateStudentRequest> for ParsedUpdate {
    type Error = ServiceError;
    fn try_from(r: pb::UpdateStudentRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let id = v.take(
            "id",
            platform::text::parse_uuid(&r.id).ok_or_else(|| "must be a UUID".into()),
        );
        if r.version < 1 {
            v.add("version", "version is required and must be at least 1");
        }
        let mut patch = StudentPatch::default();
        if let Some(s) = &r.admission_no {
            patch.admission_no = v.take("admission_no", AdmissionNo::parse(s));
        }
        if let Some(s) = &r.given_name {
            patch.given_name = v.take("given_name", PersonName::parse(s));
        }
        if let Some(s) = &r.family_name {
            patch.family_name = v.take("family_name", PersonName::parse(s));
        }
        if r.date_of_birth.is_some() {
            patch.date_of_birth = v.take(
                "date_of_birth",
                date_of_birth(r.date_of_birth.as_ref(), today()),
            );
        }
        if let Some(g) = r.grade_level {
            patch.grade_level = v.take("grade_level", GradeLevel::parse(g));
        }
        if let Some(s) = &r.section {
            patch.section = v.take("section", Section::parse(s));
        }
        patch.status = v
            .take("status", StudentStatus::from_proto(r.status))
            .flatten();
        if patch.is_empty() && v.is_clean() {
            v.add("", "at least one field to change is required");
        }
        v.finish()?;
        let id = id.ok_or_else(|| anyhow::anyhow!("parse without violations yielded nothing"))?;
        Ok(Self {
            id,
            version: r.version,
            patch,
        })
    }
}

impl TryFrom<pb::ListStudentsRequest> for StudentFilter {
    type Error = ServiceError;
    fn try_from(r: pb::ListStudentsRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let page = r.page.unwrap_or_default();
        let limit = v.take("limit", page_limit(page.limit));
        let after = if page.cursor.is_empty() {
            None
        } else {
            v.take("cursor", Cursor::decode(&page.cursor, NameList::Students))
        };
        let grade_level = match r.grade_level {
            Some(g) => v.take("grade_level", GradeLevel::parse(g)),
            None => None,
        };
        let section = match &r.section {
            Some(s) => v.take("section", Section::parse(s)),
            None => None,
        };
        let status = v
            .take("status", StudentStatus::from_proto(r.status))
            .flatten();
        let search = v.take("q", SearchPrefix::parse(&r.query)).flatten();
        v.finish()?;
        Ok(Self {
            grade_level,
            section,
            status,
            search,
            after,
            limit: limit.unwrap_or(DEFAULT_PAGE),
        })
    }
}
