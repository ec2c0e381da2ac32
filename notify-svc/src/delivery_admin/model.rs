//! A delivery job as the admin API shows it: the recipient masked.

use chrono::{DateTime, Utc};
use platform::wire::timestamp;
use proto::notify::v1 as pb;
use uuid::Uuid;

use super::domain::Cursor;
use crate::sms::PhoneNumber;

pub(super) const COLS: &str = "id, kind, status, payload->>'to', payload->>'user_id', attempts, \
     COALESCE(last_error, ''), created_at, updated_at";

pub struct Row {
    id: Uuid,
    kind: String,
    status: String,
    recipient: String,
    attempts: i32,
    last_error: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// A phone number or e-mail address, masked; anything else shown as `***`.
fn mask(kind: &str, to: Option<String>, user: Option<String>) -> String {
    match (kind, to, user) {
        ("sms", Some(p), _) => PhoneNumber::parse(&p).map_or_else(|_| "***".into(), |p| p.masked()),
        ("email", Some(e), _) => crate::email::mask(&e),
        ("push", _, Some(u)) => u,
        _ => "***".into(),
    }
}

impl Row {
    pub(super) fn from_row(r: &tokio_postgres::Row) -> Result<Self, tokio_postgres::Error> {
        let kind: String = r.try_get(1)?;
        Ok(Self {
            id: r.try_get(0)?,
            status: r.try_get(2)?,
            recipient: mask(&kind, r.try_get(3)?, r.try_get(4)?),
            kind,
            attempts: r.try_get(5)?,
            last_error: r.try_get(6)?,
            created_at: r.try_get(7)?,
            updated_at: r.try_get(8)?,
        })
    }

    pub(super) fn cursor(&self) -> Cursor {
        Cursor { id: self.id }
    }

    pub fn into_proto(self) -> pb::Delivery {
        pb::Delivery {
            id: self.id.to_string(),
            channel: self.kind,
            status: self.status,
            recipient: self.recipient,
            attempts: self.attempts,
            last_error: self.last_error,
            created_at: Some(timestamp(self.created_at)),
            updated_at: Some(timestamp(self.updated_at)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_are_masked() {
        assert_eq!(
            mask("sms", Some("+447700900123".into()), None),
            "+44********23"
        );
        assert_eq!(
            mask("email", Some("marge@home.test".into()), None),
            "m***@home.test"
        );
        assert_eq!(mask("sms", Some("garbage".into()), None), "***");
        assert_eq!(mask("push", None, Some("u1".into())), "u1");
    }
}
