//! A guardian and their links as stored, as the proto carries them, and
//! their event payloads.

use chrono::{DateTime, Utc};
use platform::wire::timestamp;
use proto::events::v1 as ev;
use proto::students::v1 as pb;
use tokio_postgres::Row;
use uuid::Uuid;

use super::domain::{GuardianCursor, Preferences, Relationship};

#[derive(Clone, Debug)]
pub struct GuardianRow {
    pub id: Uuid,
    pub school_id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub relationship: Relationship,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub prefs: Preferences,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The guardian's portal login, if any.
    pub user_id: Option<Uuid>,
    /// ISO 639-1; `None`: the school's language.
    pub preferred_language: Option<String>,
}

#[derive(Clone, Debug)]
pub struct LinkRow {
    pub guardian_id: Uuid,
    pub student_id: Uuid,
    pub relationship: Relationship,
    pub is_primary: bool,
    pub created_at: DateTime<Utc>,
}

/// Guardian columns of `guardians g`, with its login (one index probe).
pub(crate) const GUARDIAN_COLS: &str = "g.id, g.school_id, g.given_name, g.family_name, g.relationship, \
     g.phone, g.email, g.notify_sms, g.notify_email, g.notify_push, g.version, g.created_at, \
     g.updated_at, (SELECT u.id FROM users u WHERE u.school_id = g.school_id AND u.guardian_id = g.id) AS user_id, \
     g.preferred_language";

/// How many columns [`GUARDIAN_COLS`] has (a joined row's next columns start
/// there).
pub(crate) const GUARDIAN_COL_COUNT: usize = 15;

pub(crate) const LINK_COLS: &str = "guardian_id, student_id, relationship, is_primary, created_at";

impl GuardianRow {
    /// The position after this guardian in name order.
    pub fn cursor(&self) -> GuardianCursor {
        GuardianCursor {
            family_name: self.family_name.clone(),
            given_name: self.given_name.clone(),
            id: self.id,
        }
    }

    pub(crate) fn from_row(r: &Row) -> Result<Self, tokio_postgres::Error> {
        Ok(Self {
            id: r.try_get(0)?,
            school_id: r.try_get(1)?,
            given_name: r.try_get(2)?,
            family_name: r.try_get(3)?,
            relationship: Relationship::from_db(r.try_get(4)?),
            phone: r.try_get(5)?,
            email: r.try_get(6)?,
            prefs: Preferences {
                sms: r.try_get(7)?,
                email: r.try_get(8)?,
                push: r.try_get(9)?,
            },
            version: r.try_get(10)?,
            created_at: r.try_get(11)?,
            updated_at: r.try_get(12)?,
            user_id: r.try_get(13)?,
            preferred_language: r.try_get(14)?,
        })
    }
}

impl LinkRow {
    /// From `LINK_COLS` starting at column `at`.
    pub(crate) fn from_row(r: &Row, at: usize) -> Result<Self, tokio_postgres::Error> {
        Ok(Self {
            guardian_id: r.try_get(at)?,
            student_id: r.try_get(at + 1)?,
            relationship: Relationship::from_db(r.try_get(at + 2)?),
            is_primary: r.try_get(at + 3)?,
            created_at: r.try_get(at + 4)?,
        })
    }
}

fn contact(g: &GuardianRow) -> ev::GuardianContact {
    ev::GuardianContact {
        phone: g.phone.clone().unwrap_or_default(),
        email: g.email.clone().unwrap_or_default(),
        notify_sms: g.prefs.sms,
        notify_email: g.prefs.email,
        notify_push: g.prefs.push,
        user_id: g.user_id.map(|u| u.to_string()).unwrap_or_default(),
        language: g.preferred_language.clone().unwrap_or_default(),
    }
}

/// The `guardian.created` / `guardian.updated` payload.
pub fn changed(g: &GuardianRow) -> ev::GuardianChanged {
    ev::GuardianChanged {
        guardian_id: g.id.to_string(),
        given_name: g.given_name.clone(),
        family_name: g.family_name.clone(),
        relationship: g.relationship.as_str().to_owned(),
        contact: Some(contact(g)),
        version: g.version,
    }
}

/// The `guardian.linked` / `guardian.unlinked` payload.
pub fn linked(g: &GuardianRow, l: &LinkRow, version: i64) -> ev::GuardianLinked {
    ev::GuardianLinked {
        guardian_id: l.guardian_id.to_string(),
        student_id: l.student_id.to_string(),
        relationship: l.relationship.as_str().to_owned(),
        is_primary: l.is_primary,
        contact: Some(contact(g)),
        version,
    }
}

impl From<LinkRow> for pb::GuardianLink {
    fn from(l: LinkRow) -> Self {
        Self {
            guardian_id: l.guardian_id.to_string(),
            student_id: l.student_id.to_string(),
            relationship: l.relationship.to_proto().into(),
            is_primary: l.is_primary,
            created_at: Some(timestamp(l.created_at)),
        }
    }
}

pub fn guardian(g: GuardianRow, links: Vec<LinkRow>) -> pb::Guardian {
    pb::Guardian {
        id: g.id.to_string(),
        school_id: g.school_id.to_string(),
        given_name: g.given_name,
        family_name: g.family_name,
        relationship: g.relationship.to_proto().into(),
        phone: g.phone.unwrap_or_default(),
        email: g.email.unwrap_or_default(),
        notifications: Some(pb::NotificationPreferences {
            sms: g.prefs.sms,
            email: g.prefs.email,
            push: g.prefs.push,
        }),
        version: g.version,
        created_at: Some(timestamp(g.created_at)),
        updated_at: Some(timestamp(g.updated_at)),
        students: links.into_iter().map(Into::into).collect(),
        user_id: g.user_id.map(|u| u.to_string()).unwrap_or_default(),
        preferred_language: g.preferred_language.unwrap_or_default(),
    }
}
