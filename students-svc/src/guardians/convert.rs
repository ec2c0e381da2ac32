//! Guardian rows → proto messages and event payloads.

use proto::events::v1 as ev;
use proto::students::v1 as pb;

use super::repo::{GuardianRow, LinkRow};
use crate::convert::timestamp;

fn contact(g: &GuardianRow) -> ev::GuardianContact {
    ev::GuardianContact {
        phone: g.phone.clone().unwrap_or_default(),
        email: g.email.clone().unwrap_or_default(),
        notify_sms: g.prefs.sms,
        notify_email: g.prefs.email,
        notify_push: g.prefs.push,
        user_id: g.user_id.map(|u| u.to_string()).unwrap_or_default(),
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
pub fn linked(g: &GuardianRow, l: &LinkRow) -> ev::GuardianLinked {
    ev::GuardianLinked {
        guardian_id: l.guardian_id.to_string(),
        student_id: l.student_id.to_string(),
        relationship: l.relationship.as_str().to_owned(),
        is_primary: l.is_primary,
        contact: Some(contact(g)),
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
    }
}
