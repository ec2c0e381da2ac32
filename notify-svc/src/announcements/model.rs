//! An announcement as stored, its delivery progress, and both as the API
//! shows them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use platform::wire::timestamp;
use proto::notify::v1 as pb;
use uuid::Uuid;

use super::domain::{Audience, Cursor};

pub(super) const COLS: &str = "id, author_user_id, title, body, audience_kind, grade_levels, \
     course_ids, guardian_ids, recipients, batches, fanned_out_at, created_at";

#[derive(Clone, Debug)]
pub struct Row {
    pub id: Uuid,
    pub author_user_id: Uuid,
    pub title: String,
    pub body: String,
    pub audience: Audience,
    /// Guardians reached so far.
    pub recipients: i32,
    /// Fan-out batches done.
    pub batches: i32,
    pub fanned_out_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl Row {
    pub(super) fn from_row(r: &tokio_postgres::Row) -> Result<Self, tokio_postgres::Error> {
        let kind: String = r.try_get(4)?;
        Ok(Self {
            id: r.try_get(0)?,
            author_user_id: r.try_get(1)?,
            title: r.try_get(2)?,
            body: r.try_get(3)?,
            audience: Audience::from_parts(&kind, r.try_get(5)?, r.try_get(6)?, r.try_get(7)?),
            recipients: r.try_get(8)?,
            batches: r.try_get(9)?,
            fanned_out_at: r.try_get(10)?,
            created_at: r.try_get(11)?,
        })
    }

    pub(super) fn cursor(&self) -> Cursor {
        Cursor { id: self.id }
    }

    pub fn into_proto(self, progress: &Progress) -> pb::Announcement {
        let channels: Vec<pb::ChannelProgress> = CHANNELS
            .iter()
            .map(|c| {
                let n = progress.get(&(self.id, *c)).copied().unwrap_or_default();
                pb::ChannelProgress {
                    channel: (*c).to_owned(),
                    queued: n.queued,
                    sent: n.sent,
                    failed: n.failed,
                }
            })
            .collect();
        let status = if self.batches == 0 {
            "queued"
        } else if self.fanned_out_at.is_none() || channels.iter().any(|c| c.queued > 0) {
            "sending"
        } else {
            "done"
        };
        pb::Announcement {
            id: self.id.to_string(),
            title: self.title,
            body: self.body,
            audience: Some(self.audience.to_proto()),
            author_user_id: self.author_user_id.to_string(),
            status: status.to_owned(),
            recipients: u32::try_from(self.recipients).unwrap_or(0),
            channels,
            created_at: Some(timestamp(self.created_at)),
            fanned_out_at: self.fanned_out_at.map(timestamp),
        }
    }
}

/// The delivery channels, in the order the API lists them.
pub const CHANNELS: [&str; 3] = ["sms", "email", "push"];

/// Deliveries of one channel by outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Queued or running.
    pub queued: u32,
    pub sent: u32,
    /// Failed (refused) or dead (given up).
    pub failed: u32,
}

/// Counts by (announcement, channel).
pub type Progress = HashMap<(Uuid, &'static str), Counts>;

#[cfg(test)]
mod tests {
    use super::*;

    fn row(batches: i32, fanned_out: bool) -> Row {
        Row {
            id: Uuid::now_v7(),
            author_user_id: Uuid::now_v7(),
            title: "t".into(),
            body: "b".into(),
            audience: Audience::School,
            recipients: 2,
            batches,
            fanned_out_at: fanned_out.then(Utc::now),
            created_at: Utc::now(),
        }
    }

    #[test]
    fn status_follows_the_fan_out_and_the_deliveries() {
        let none = Progress::new();
        assert_eq!(row(0, false).into_proto(&none).status, "queued");
        assert_eq!(row(1, false).into_proto(&none).status, "sending");
        let done = row(1, true);
        let mut p = Progress::new();
        p.insert(
            (done.id, "email"),
            Counts {
                queued: 1,
                sent: 1,
                failed: 0,
            },
        );
        let a = done.clone().into_proto(&p);
        assert_eq!(a.status, "sending");
        assert_eq!(
            a.channels
                .iter()
                .map(|c| c.channel.as_str())
                .collect::<Vec<_>>(),
            CHANNELS
        );
        assert_eq!((a.channels[1].queued, a.channels[1].sent), (1, 1));
        p.insert(
            (done.id, "email"),
            Counts {
                queued: 0,
                sent: 1,
                failed: 1,
            },
        );
        assert_eq!(done.into_proto(&p).status, "done");
    }
}
