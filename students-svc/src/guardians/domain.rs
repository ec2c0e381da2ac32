//! Validated guardian values; the repository accepts only these.

use proto::students::v1 as pb;
use uuid::Uuid;

use crate::domain::{Cursor, Email, NewLogin, PersonName};

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

/// A phone number in E.164: `+`, then 8-15 digits, the first not zero.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        let ok = s.strip_prefix('+').is_some_and(|digits| {
            (8..=15).contains(&digits.len())
                && digits.bytes().all(|b| b.is_ascii_digit())
                && !digits.starts_with('0')
        });
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err("phone must be in E.164 format: '+' then 8-15 digits, the first not 0".into())
        }
    }

    /// An empty value means "none".
    pub fn parse_optional(raw: &str) -> Result<Option<Self>, String> {
        if raw.trim().is_empty() {
            Ok(None)
        } else {
            Self::parse(raw).map(Some)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An optional e-mail: empty means none.
pub fn optional_email(raw: &str) -> Result<Option<Email>, String> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        Email::parse(raw).map(Some)
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
}

impl GuardianPatch {
    pub fn is_empty(&self) -> bool {
        self.given_name.is_none()
            && self.family_name.is_none()
            && self.relationship.is_none()
            && self.phone.is_none()
            && self.email.is_none()
            && self.prefs.is_none()
    }
}

pub struct GuardianUpdate {
    pub id: Uuid,
    pub version: i64,
    pub patch: GuardianPatch,
}

pub struct GuardianFilter {
    pub student_id: Option<Uuid>,
    pub after: Option<Cursor>,
    pub limit: u32,
}

pub struct NewLink {
    pub guardian_id: Uuid,
    pub student_id: Uuid,
    /// `None`: the guardian's own relationship.
    pub relationship: Option<Relationship>,
    pub is_primary: bool,
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
}
