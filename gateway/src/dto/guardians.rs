//! JSON shapes of guardians (and their links to students) and their
//! conversions from and to proto.

use chrono::{DateTime, Utc};
use proto::students::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::accounts::NewLogin;
use super::students::Student;
use super::{
    instant, items, non_empty, opt_uuid, uuid_or_nil, FieldErrors, Page, PageParams, Paged,
};
use crate::problem::ApiError;

#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Relationship {
    Mother,
    Father,
    Guardian,
    Grandparent,
    Other,
}

impl Relationship {
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

    fn from_proto(v: i32) -> Option<Self> {
        use pb::GuardianRelationship as R;
        match R::try_from(v) {
            Ok(R::Mother) => Some(Self::Mother),
            Ok(R::Father) => Some(Self::Father),
            Ok(R::Guardian) => Some(Self::Guardian),
            Ok(R::Grandparent) => Some(Self::Grandparent),
            Ok(R::Other) => Some(Self::Other),
            _ => None,
        }
    }
}

fn relationship_proto(r: Option<Relationship>) -> i32 {
    r.map_or(
        pb::GuardianRelationship::Unspecified,
        Relationship::to_proto,
    )
    .into()
}

/// Channels the guardian is notified on; sms needs a phone, email an e-mail.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct NotificationPreferences {
    #[serde(default)]
    pub sms: bool,
    #[serde(default)]
    pub email: bool,
    #[serde(default)]
    pub push: bool,
}

impl NotificationPreferences {
    fn to_proto(self) -> pb::NotificationPreferences {
        pb::NotificationPreferences {
            sms: self.sms,
            email: self.email,
            push: self.push,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct GuardianLink {
    pub guardian_id: Uuid,
    pub student_id: Uuid,
    pub relationship: Option<Relationship>,
    pub is_primary: bool,
    pub created_at: Option<DateTime<Utc>>,
}

impl From<pb::GuardianLink> for GuardianLink {
    fn from(l: pb::GuardianLink) -> Self {
        Self {
            guardian_id: uuid_or_nil(&l.guardian_id),
            student_id: uuid_or_nil(&l.student_id),
            relationship: Relationship::from_proto(l.relationship),
            is_primary: l.is_primary,
            created_at: instant(l.created_at),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Guardian {
    pub id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub relationship: Option<Relationship>,
    /// E.164.
    pub phone: Option<String>,
    pub email: Option<String>,
    pub notifications: NotificationPreferences,
    /// Send back with PATCH; a stale version answers 409.
    pub version: i64,
    /// The guardian's portal login, if any.
    pub user_id: Option<Uuid>,
    /// The language notices are written in (ISO 639-1); null: the school's.
    pub preferred_language: Option<String>,
    /// The students this guardian is linked to.
    pub students: Vec<GuardianLink>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<pb::Guardian> for Guardian {
    fn from(g: pb::Guardian) -> Self {
        let n = g.notifications.unwrap_or_default();
        Self {
            id: uuid_or_nil(&g.id),
            given_name: g.given_name,
            family_name: g.family_name,
            relationship: Relationship::from_proto(g.relationship),
            phone: non_empty(g.phone),
            email: non_empty(g.email),
            notifications: NotificationPreferences {
                sms: n.sms,
                email: n.email,
                push: n.push,
            },
            version: g.version,
            user_id: opt_uuid(&g.user_id),
            preferred_language: non_empty(g.preferred_language),
            students: g.students.into_iter().map(Into::into).collect(),
            created_at: instant(g.created_at),
            updated_at: instant(g.updated_at),
        }
    }
}

impl Paged for Guardian {
    const PAGE: &'static str = "GuardianPage";
}

pub type GuardianPage = Page<Guardian>;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGuardianBody {
    pub given_name: String,
    pub family_name: String,
    pub relationship: Relationship,
    /// E.164, e.g. `+447911123456`.
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub notifications: Option<NotificationPreferences>,
    /// Creates a portal login (role guardian).
    #[serde(default)]
    pub login: Option<NewLogin>,
    /// ISO 639-1, two lowercase letters (`fr`): notices are written in it
    /// where the school has templates in it. Absent or empty: the school's
    /// language.
    #[serde(default)]
    pub preferred_language: Option<String>,
}

impl CreateGuardianBody {
    pub fn into_proto(self) -> pb::CreateGuardianRequest {
        pb::CreateGuardianRequest {
            given_name: self.given_name,
            family_name: self.family_name,
            relationship: self.relationship.to_proto().into(),
            phone: self.phone.unwrap_or_default(),
            email: self.email.unwrap_or_default(),
            notifications: self.notifications.map(NotificationPreferences::to_proto),
            login: self.login.map(|l| pb::GuardianLogin {
                email: l.email,
                password: l.password,
            }),
            preferred_language: self.preferred_language.unwrap_or_default(),
        }
    }
}

/// Only the fields present change; an empty `phone` or `email` clears it,
/// an empty `preferred_language` returns to the school's language.
/// `version` is the one you read.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateGuardianBody {
    pub version: i64,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub relationship: Option<Relationship>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub notifications: Option<NotificationPreferences>,
    pub preferred_language: Option<String>,
}

impl UpdateGuardianBody {
    pub fn into_proto(self, id: Uuid) -> pb::UpdateGuardianRequest {
        pb::UpdateGuardianRequest {
            id: id.to_string(),
            version: self.version,
            given_name: self.given_name,
            family_name: self.family_name,
            relationship: relationship_proto(self.relationship),
            phone: self.phone,
            email: self.email,
            notifications: self.notifications.map(NotificationPreferences::to_proto),
            preferred_language: self.preferred_language,
        }
    }
}

/// Both fields optional (`{}` links with the guardian's own relationship).
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkStudentBody {
    pub relationship: Option<Relationship>,
    #[serde(default)]
    pub is_primary: bool,
}

impl LinkStudentBody {
    pub fn into_proto(self, guardian_id: Uuid, student_id: Uuid) -> pb::LinkStudentRequest {
        pb::LinkStudentRequest {
            guardian_id: guardian_id.to_string(),
            student_id: student_id.to_string(),
            relationship: relationship_proto(self.relationship),
            is_primary: self.is_primary,
        }
    }
}

/// Raw list parameters; each is parsed with its own field error.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListGuardiansParams {
    #[serde(flatten)]
    pub page: PageParams,
    pub student_id: Option<String>,
}

impl ListGuardiansParams {
    pub fn into_proto(self) -> Result<pb::ListGuardiansRequest, ApiError> {
        let mut e = FieldErrors::default();
        let page = self.page.parse(&mut e);
        let student_id = e.uuid_filter("student_id", self.student_id.as_deref());
        e.finish()?;
        Ok(pb::ListGuardiansRequest {
            page: Some(page),
            student_id,
        })
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Children {
    pub items: Vec<Student>,
}

impl From<pb::ListMyChildrenResponse> for Children {
    fn from(r: pb::ListMyChildrenResponse) -> Self {
        Self {
            items: items(r.students),
        }
    }
}
