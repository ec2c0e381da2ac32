//! Inbox requests parsed at the edge, and the inbox's cursor.

use chrono::{DateTime, Utc};
use proto::notify::v1 as pb;
use uuid::Uuid;

use platform::paging::{self, Keyset};
use platform::service::ServiceError;

pub const MAX_MARK: usize = 100;

/// Position after the last notification of a page (newest first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cursor {
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

impl Keyset for Cursor {
    const TAG: &'static str = "n";
}

#[derive(Debug)]
pub struct ListRequest {
    pub limit: u32,
    pub after: Option<Cursor>,
    pub unread_only: bool,
}

impl TryFrom<pb::ListMyNotificationsRequest> for ListRequest {
    type Error = ServiceError;
    fn try_from(r: pb::ListMyNotificationsRequest) -> Result<Self, ServiceError> {
        // Fields are named as the HTTP query names them, so the gateway's
        // problem names what the client sent.
        let page = r.page.unwrap_or_default();
        let limit = paging::limit(page.limit).map_err(|m| ServiceError::invalid("limit", m))?;
        let after =
            Cursor::decode_opt(&page.cursor).map_err(|m| ServiceError::invalid("cursor", m))?;
        Ok(Self {
            limit,
            after,
            unread_only: r.unread_only,
        })
    }
}

#[derive(Debug)]
pub struct MarkRead {
    pub ids: Vec<Uuid>,
}

impl TryFrom<pb::MarkNotificationsReadRequest> for MarkRead {
    type Error = ServiceError;
    fn try_from(r: pb::MarkNotificationsReadRequest) -> Result<Self, ServiceError> {
        if r.ids.is_empty() || r.ids.len() > MAX_MARK {
            return Err(ServiceError::invalid(
                "ids",
                format!("must hold 1 to {MAX_MARK} ids"),
            ));
        }
        let mut ids = Vec::with_capacity(r.ids.len());
        for (i, raw) in r.ids.iter().enumerate() {
            let id = platform::text::parse_uuid(raw)
                .ok_or_else(|| ServiceError::invalid(format!("ids[{i}]"), "must be a UUID"))?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        Ok(Self { ids })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_forgeries() {
        let c = Cursor {
            created_at: DateTime::from_timestamp_micros(1_763_000_000_123_456).unwrap(),
            id: Uuid::now_v7(),
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        assert!(Cursor::decode("not base64!").is_err());
        assert!(Cursor::decode("MTIzfG5vdC1hLXV1aWQ").is_err());
    }

    #[test]
    fn limits_and_ids_are_checked() {
        let req = |limit| pb::ListMyNotificationsRequest {
            page: Some(proto::common::v1::PageRequest {
                limit,
                cursor: String::new(),
            }),
            unread_only: false,
        };
        assert_eq!(
            ListRequest::try_from(req(0)).unwrap().limit,
            paging::DEFAULT_LIMIT
        );
        assert!(ListRequest::try_from(req(platform::limits::PAGE_MAX + 1)).is_err());
        let mark = |ids: Vec<String>| MarkRead::try_from(pb::MarkNotificationsReadRequest { ids });
        assert!(mark(vec![]).is_err());
        assert!(mark(vec!["x".into()]).is_err());
        let id = Uuid::now_v7().to_string();
        assert_eq!(mark(vec![id.clone(), id]).unwrap().ids.len(), 1);
    }
}
