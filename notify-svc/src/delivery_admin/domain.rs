//! Requests parsed at the edge, and the list's cursor.

use platform::paging::{self, Keyset};
use platform::service::{ServiceError, Violations};
use proto::notify::v1 as pb;
use uuid::Uuid;

/// Position after the last delivery of a page (newest id first: ids are
/// UUIDv7, so that is newest first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cursor {
    pub id: Uuid,
}

impl Keyset for Cursor {
    const TAG: &'static str = "d";
}

/// The delivery channels (job kinds a recipient receives).
pub const CHANNELS: [&str; 3] = ["sms", "email", "push"];

fn channel(v: &mut Violations, raw: &str) -> Option<Option<String>> {
    if raw.is_empty() {
        return Some(None);
    }
    v.take(
        "channel",
        CHANNELS
            .contains(&raw)
            .then(|| Some(raw.to_owned()))
            .ok_or_else(|| "must be sms, email or push".to_owned()),
    )
}

#[derive(Debug)]
pub struct ListRequest {
    pub limit: u32,
    pub after: Option<Cursor>,
    /// `dead` or `failed`.
    pub status: String,
    pub channel: Option<String>,
}

impl TryFrom<pb::ListDeliveriesRequest> for ListRequest {
    type Error = ServiceError;
    fn try_from(r: pb::ListDeliveriesRequest) -> Result<Self, ServiceError> {
        let mut v = Violations::default();
        let page = r.page.unwrap_or_default();
        let (limit, after) = paging::request::<Cursor>(&mut v, page.limit, &page.cursor);
        let status = v.take(
            "status",
            ["dead", "failed"]
                .contains(&r.status.as_str())
                .then(|| r.status.clone())
                .ok_or_else(|| "must be dead or failed".to_owned()),
        );
        let channel = channel(&mut v, &r.channel);
        v.finish()?;
        match (status, channel) {
            (Some(status), Some(channel)) => Ok(Self {
                limit,
                after,
                status,
                channel,
            }),
            _ => Err(platform::service::nothing()),
        }
    }
}

/// `channel` of a retry-all: `None` for every channel.
pub fn retry_all_channel(
    r: &pb::RetryAllDeliveriesRequest,
) -> Result<Option<String>, ServiceError> {
    let mut v = Violations::default();
    let c = channel(&mut v, &r.channel);
    v.finish()?;
    c.ok_or_else(platform::service::nothing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_and_channel_are_checked() {
        let req = |status: &str, channel: &str| pb::ListDeliveriesRequest {
            page: None,
            status: status.into(),
            channel: channel.into(),
        };
        assert!(ListRequest::try_from(req("dead", ""))
            .unwrap()
            .channel
            .is_none());
        assert_eq!(
            ListRequest::try_from(req("failed", "email"))
                .unwrap()
                .channel
                .as_deref(),
            Some("email")
        );
        assert!(ListRequest::try_from(req("queued", "")).is_err());
        assert!(ListRequest::try_from(req("dead", "fax")).is_err());
        let all = |c: &str| retry_all_channel(&pb::RetryAllDeliveriesRequest { channel: c.into() });
        assert_eq!(all("").unwrap(), None);
        assert!(all("invoice_reminders").is_err());
    }
}
