//! JSON shapes of announcements and their proto conversions.

use chrono::{DateTime, Utc};
use proto::notify::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{instant, uuid_or_nil, Page, Paged};

/// Who an announcement is for. `kind` says which list applies; that list
/// needs at least one entry and the others stay empty.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnnouncementAudience {
    /// `school` (guardians of every current student), `grade_levels`,
    /// `courses` (guardians of the students enrolled) or `guardians`.
    pub kind: String,
    /// For `grade_levels`: 0-12.
    #[serde(default)]
    pub grade_levels: Vec<i32>,
    /// For `courses` (a teacher: only courses they teach).
    #[serde(default)]
    pub course_ids: Vec<String>,
    /// For `guardians`.
    #[serde(default)]
    pub guardian_ids: Vec<String>,
}

impl AnnouncementAudience {
    fn into_proto(self) -> pb::AnnouncementAudience {
        pb::AnnouncementAudience {
            kind: self.kind,
            grade_levels: self.grade_levels,
            course_ids: self.course_ids,
            guardian_ids: self.guardian_ids,
        }
    }
}

impl From<pb::AnnouncementAudience> for AnnouncementAudience {
    fn from(a: pb::AnnouncementAudience) -> Self {
        Self {
            kind: a.kind,
            grade_levels: a.grade_levels,
            course_ids: a.course_ids,
            guardian_ids: a.guardian_ids,
        }
    }
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAnnouncementBody {
    /// One line, at most 200 characters: the e-mail's subject.
    pub title: String,
    /// At most 5,000 characters; line breaks kept (an SMS gets the first
    /// 1,600).
    pub body: String,
    pub audience: AnnouncementAudience,
}

impl CreateAnnouncementBody {
    pub fn into_proto(self) -> pb::CreateAnnouncementRequest {
        pb::CreateAnnouncementRequest {
            title: self.title,
            body: self.body,
            audience: Some(self.audience.into_proto()),
        }
    }
}

/// One channel's deliveries.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct ChannelProgress {
    /// `sms`, `email` or `push`.
    pub channel: String,
    /// Waiting or being sent.
    pub queued: u32,
    pub sent: u32,
    /// Refused, or given up after retries (see GET /admin/deliveries).
    pub failed: u32,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct Announcement {
    pub id: Uuid,
    pub title: String,
    pub body: String,
    pub audience: AnnouncementAudience,
    pub author_user_id: Uuid,
    /// `queued` (fan-out not started), `sending` (recipients being found or
    /// deliveries waiting), `done` (every delivery sent or failed).
    pub status: String,
    /// Guardians reached so far, each once (every one has it in their
    /// inbox).
    pub recipients: u32,
    /// `sms`, `email`, `push`, in that order.
    pub channels: Vec<ChannelProgress>,
    pub created_at: Option<DateTime<Utc>>,
    /// When every recipient had been found and their deliveries queued.
    pub fanned_out_at: Option<DateTime<Utc>>,
}

impl From<pb::Announcement> for Announcement {
    fn from(a: pb::Announcement) -> Self {
        Self {
            id: uuid_or_nil(&a.id),
            title: a.title,
            body: a.body,
            audience: a.audience.unwrap_or_default().into(),
            author_user_id: uuid_or_nil(&a.author_user_id),
            status: a.status,
            recipients: a.recipients,
            channels: a
                .channels
                .into_iter()
                .map(|c| ChannelProgress {
                    channel: c.channel,
                    queued: c.queued,
                    sent: c.sent,
                    failed: c.failed,
                })
                .collect(),
            created_at: instant(a.created_at),
            fanned_out_at: instant(a.fanned_out_at),
        }
    }
}

impl Paged for Announcement {
    const PAGE: &'static str = "AnnouncementPage";
}

pub type AnnouncementPage = Page<Announcement>;
