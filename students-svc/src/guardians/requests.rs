//! Guardian proto requests → domain types, collecting every field error.

use proto::students::v1 as pb;
use uuid::Uuid;

use super::domain::*;
use crate::domain::nothing;
use crate::domain::DEFAULT_PAGE;
use crate::domain::{
    page_limit, Cursor, Email, NameList, NewLogin, NewPassword, PersonName, Violations,
};
use crate::error::ServiceError;

fn uuid(v: &mut Violations, field: &str, raw: &str) -> Option<Uuid> {
    v.take(field, crate::domain::uuid(raw))
}

impl TryFrom<pb::CreateGuardianRequest> for NewGuardian {
    type Error = ServiceError;
    fn try_from(r: pb::CreateGuardianRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let given_name = v.take("given_name", PersonName::parse(&r.given_name));
        let family_name = v.take("family_name", PersonName::parse(&r.family_name));
        let relationship = v.take(
            "relationship",
            Relationship::from_proto(r.relationship)
                .and_then(|rel| rel.ok_or_else(|| "relationship is required".to_owned())),
        );
        let phone = v.take("phone", Phone::parse_optional(&r.phone));
        let email = v.take("email", optional_email(&r.email));
        let prefs = r
            .notifications
            .as_ref()
            .map(Preferences::from)
            .unwrap_or_default();
        if prefs.sms && matches!(phone, Some(None)) {
            v.add("notifications.sms", SMS_NEEDS_PHONE);
        }
        if prefs.email && matches!(email, Some(None)) {
            v.add("notifications.email", EMAIL_NEEDS_EMAIL);
        }
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
        match (given_name, family_name, relationship, phone, email) {
            (Some(given_name), Some(family_name), Some(relationship), Some(phone), Some(email)) => {
                Ok(Self {
                    given_name,
                    family_name,
                    relationship,
                    phone,
                    email,
                    prefs,
                    login,
                })
            }
            _ => Err(nothing()),
        }
    }
}

impl TryFrom<pb::UpdateGuardianRequest> for GuardianUpdate {
    type Error = ServiceError;
    fn try_from(r: pb::UpdateGuardianRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let id = uuid(&mut v, "id", &r.id);
        if r.version < 1 {
            v.add("version", "version is required and must be at least 1");
        }
        let mut patch = GuardianPatch::default();
        if let Some(s) = &r.given_name {
            patch.given_name = v.take("given_name", PersonName::parse(s));
        }
        if let Some(s) = &r.family_name {
            patch.family_name = v.take("family_name", PersonName::parse(s));
        }
        patch.relationship = v
            .take("relationship", Relationship::from_proto(r.relationship))
            .flatten();
        if let Some(s) = &r.phone {
            patch.phone = v.take("phone", Phone::parse_optional(s));
        }
        if let Some(s) = &r.email {
            patch.email = v.take("email", optional_email(s));
        }
        patch.prefs = r.notifications.as_ref().map(Preferences::from);
        // What the request itself contradicts; the stored values are checked
        // by the database (and reported on the same fields).
        if let Some(p) = patch.prefs {
            if p.sms && matches!(patch.phone, Some(None)) {
                v.add("notifications.sms", SMS_NEEDS_PHONE);
            }
            if p.email && matches!(patch.email, Some(None)) {
                v.add("notifications.email", EMAIL_NEEDS_EMAIL);
            }
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

impl TryFrom<pb::ListGuardiansRequest> for GuardianFilter {
    type Error = ServiceError;
    fn try_from(r: pb::ListGuardiansRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let page = r.page.unwrap_or_default();
        let limit = v.take("limit", page_limit(page.limit));
        let after = if page.cursor.is_empty() {
            None
        } else {
            v.take("cursor", Cursor::decode(&page.cursor, NameList::Guardians))
        };
        let student_id = if r.student_id.is_empty() {
            None
        } else {
            uuid(&mut v, "student_id", &r.student_id)
        };
        v.finish()?;
        Ok(Self {
            student_id,
            after,
            limit: limit.unwrap_or(DEFAULT_PAGE),
        })
    }
}

impl TryFrom<pb::LinkStudentRequest> for NewLink {
    type Error = ServiceError;
    fn try_from(r: pb::LinkStudentRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let guardian_id = uuid(&mut v, "guardian_id", &r.guardian_id);
        let student_id = uuid(&mut v, "student_id", &r.student_id);
        let relationship = v.take("relationship", Relationship::from_proto(r.relationship));
        v.finish()?;
        match (guardian_id, student_id, relationship) {
            (Some(guardian_id), Some(student_id), Some(relationship)) => Ok(Self {
                guardian_id,
                student_id,
                relationship,
                is_primary: r.is_primary,
            }),
            _ => Err(nothing()),
        }
    }
}

/// (guardian id, student id) of an unlink.
pub fn unlink_ids(r: &pb::UnlinkStudentRequest) -> Result<(Uuid, Uuid), ServiceError> {
    let mut v = Violations::default();
    let guardian_id = uuid(&mut v, "guardian_id", &r.guardian_id);
    let student_id = uuid(&mut v, "student_id", &r.student_id);
    v.finish()?;
    guardian_id.zip(student_id).ok_or_else(nothing)
}
