//! Guardian values and rules, and the GuardianService requests parsed into
//! them (every field error collected).

use platform::paging::{self, Keyset};
use platform::service::{nothing, ServiceError, Violations};
use proto::students::v1 as pb;
use uuid::Uuid;

use crate::values::{optional_email, Email, NewLogin, NewPassword, PersonName, Phone};

/// How a guardian relates to a student.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relationship {
    Mother,
    Father,
    Guardian,
    Grandparent,
    Other,
}

impl Relationship {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mother => "mother",
            Self::Father => "father",
            Self::Guardian => "guardian",
            Self::Grandparent => "grandparent",
            Self::Other => "other",
        }
    }

    pub fn from_db(s: &str) -> Self {
        match s {
            "mother" => Self::Mother,
            "father" => Self::Father,
            "grandparent" => Self::Grandparent,
            "other" => Self::Other,
            _ => Self::Guardian,
        }
    }

    /// `None` for UNSPECIFIED; an unknown number is an error.
    pub fn from_proto(v: i32) -> Result<Option<Self>, String> {
        use pb::GuardianRelationship as R;
        match R::try_from(v) {
            Ok(R::Unspecified) => Ok(None),
            Ok(R::Mother) => Ok(Some(Self::Mother)),
            Ok(R::Father) => Ok(Some(Self::Father)),
            Ok(R::Guardian) => Ok(Some(Self::Guardian)),
            Ok(R::Grandparent) => Ok(Some(Self::Grandparent)),
            Ok(R::Other) => Ok(Some(Self::Other)),
            Err(_) => {
                Err("relationship must be mother, father, guardian, grandparent or other".into())
            }
        }
    }

    pub fn to_proto(self) -> pb::GuardianRelationship {
        use pb::GuardianRelationship as R;
        match self {
            Self::Mother => R::Mother,
            Self::Father => R::Father,
            Self::Guardian => R::Guardian,
            Self::Grandparent => R::Grandparent,
            Self::Other => R::Other,
        }
    }
}

/// Notification channels the guardian opted into.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Preferences {
    pub sms: bool,
    pub email: bool,
    pub push: bool,
}

impl From<&pb::NotificationPreferences> for Preferences {
    fn from(p: &pb::NotificationPreferences) -> Self {
        Self {
            sms: p.sms,
            email: p.email,
            push: p.push,
        }
    }
}

/// A preferred language: two lowercase ASCII letters (ISO 639-1), the
/// shape notify-svc's templates are keyed by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Language(String);

impl Language {
    /// Empty is none (the school's language).
    pub fn parse_optional(raw: &str) -> Result<Option<Self>, String> {
        if raw.is_empty() {
            return Ok(None);
        }
        if raw.len() == 2 && raw.bytes().all(|b| b.is_ascii_lowercase()) {
            Ok(Some(Self(raw.to_owned())))
        } else {
            Err(
                "must be two lowercase letters (ISO 639-1), or empty for the school's language"
                    .into(),
            )
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub const SMS_NEEDS_PHONE: &str = "sms notifications need a phone number";

pub const EMAIL_NEEDS_EMAIL: &str = "e-mail notifications need an e-mail address";

pub struct NewGuardian {
    pub given_name: PersonName,
    pub family_name: PersonName,
    pub relationship: Relationship,
    pub phone: Option<Phone>,
    pub email: Option<Email>,
    pub prefs: Preferences,
    pub login: Option<NewLogin>,
    pub language: Option<Language>,
}

/// Fields to change; `None` keeps the stored value. For phone and e-mail,
/// `Some(None)` clears it.
#[derive(Default)]
pub struct GuardianPatch {
    pub given_name: Option<PersonName>,
    pub family_name: Option<PersonName>,
    pub relationship: Option<Relationship>,
    pub phone: Option<Option<Phone>>,
    pub email: Option<Option<Email>>,
    pub prefs: Option<Preferences>,
    /// `Some(None)`: back to the school's language.
    pub language: Option<Option<Language>>,
}

impl GuardianPatch {
    pub fn is_empty(&self) -> bool {
        self.given_name.is_none()
            && self.family_name.is_none()
            && self.relationship.is_none()
            && self.phone.is_none()
            && self.email.is_none()
            && self.prefs.is_none()
            && self.language.is_none()
    }
}

pub struct GuardianUpdate {
    pub id: Uuid,
    pub version: i64,
    pub patch: GuardianPatch,
}

pub struct GuardianFilter {
    pub student_id: Option<Uuid>,
    pub after: Option<GuardianCursor>,
    pub limit: u32,
}

pub struct NewLink {
    pub guardian_id: Uuid,
    pub student_id: Uuid,
    /// `None`: the guardian's own relationship.
    pub relationship: Option<Relationship>,
    pub is_primary: bool,
}

/// Position after the last guardian of a page, in name order (the same key
/// as students', tagged apart so neither list accepts the other's cursor).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GuardianCursor {
    pub family_name: String,
    pub given_name: String,
    pub id: Uuid,
}

impl Keyset for GuardianCursor {
    const TAG: &'static str = "p";
}

fn uuid(v: &mut Violations, field: &str, raw: &str) -> Option<Uuid> {
    v.take(field, crate::values::uuid(raw))
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
        let language = v.take(
            "preferred_language",
            Language::parse_optional(&r.preferred_language),
        );
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
        match (
            given_name,
            family_name,
            relationship,
            phone,
            email,
            language,
        ) {
            (
                Some(given_name),
                Some(family_name),
                Some(relationship),
                Some(phone),
                Some(email),
                Some(language),
            ) => Ok(Self {
                given_name,
                family_name,
                relationship,
                phone,
                email,
                prefs,
                login,
                language,
            }),
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
        if let Some(s) = &r.preferred_language {
            patch.language = v.take("preferred_language", Language::parse_optional(s));
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
        let (limit, after) = paging::request::<GuardianCursor>(&mut v, page.limit, &page.cursor);
        let student_id = if r.student_id.is_empty() {
            None
        } else {
            uuid(&mut v, "student_id", &r.student_id)
        };
        v.finish()?;
        Ok(Self {
            student_id,
            after,
            limit,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_e164() {
        assert_eq!(
            Phone::parse(" +447911123456 ").unwrap().as_str(),
            "+447911123456"
        );
        assert!(Phone::parse("+12345678").is_ok());
        assert!(Phone::parse("+123456789012345").is_ok());
        for bad in [
            "447911123456",
            "+0447911123",
            "+1234567",
            "+1234567890123456",
            "+44 7911 123456",
            "+44-7911",
            "",
            "+",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Phone::parse_optional("  ").unwrap(), None);
    }

    #[test]
    fn languages_are_two_lowercase_letters_or_none() {
        assert_eq!(Language::parse_optional("").unwrap(), None);
        assert_eq!(
            Language::parse_optional("fr").unwrap().unwrap().as_str(),
            "fr"
        );
        for bad in ["FR", "fra", "f", "fr-CA", " fr", "é"] {
            assert!(Language::parse_optional(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn relationships() {
        assert_eq!(Relationship::from_proto(0).unwrap(), None);
        assert_eq!(
            Relationship::from_proto(4).unwrap(),
            Some(Relationship::Grandparent)
        );
        assert!(Relationship::from_proto(9).is_err());
        for r in [
            Relationship::Mother,
            Relationship::Father,
            Relationship::Guardian,
            Relationship::Grandparent,
            Relationship::Other,
        ] {
            assert_eq!(Relationship::from_db(r.as_str()), r);
            assert_eq!(
                Relationship::from_proto(r.to_proto() as i32).unwrap(),
                Some(r)
            );
        }
    }

    #[test]
    fn guardian_and_student_cursors_do_not_cross() {
        use crate::students::domain::StudentCursor;
        let s = StudentCursor {
            family_name: "Ng".into(),
            given_name: "Zoë".into(),
            id: Uuid::now_v7(),
        };
        let g = GuardianCursor {
            family_name: s.family_name.clone(),
            given_name: s.given_name.clone(),
            id: s.id,
        };
        assert_eq!(GuardianCursor::decode(&g.encode()).unwrap(), g);
        assert!(StudentCursor::decode(&g.encode()).is_err());
        assert!(GuardianCursor::decode(&s.encode()).is_err());
    }
}
