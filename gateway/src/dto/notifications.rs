//! JSON shapes of a user's notification inbox and their proto conversions.

use chrono::{DateTime, Utc};
use proto::notify::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{instant, items, next_cursor, opt_uuid, uuid_or_nil, FieldErrors, PageParams};
use crate::problem::ApiError;

/// Most ids one `POST /me/notifications/read` marks.
pub const MAX_MARK_READ: usize = platform::limits::MAX_MARK_READ;

#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum NotificationKind {
    Absence,
    #[serde(rename = "grades_published")]
    GradesPublished,
    #[serde(rename = "invoice_issued")]
    InvoiceIssued,
    #[serde(rename = "invoice_overdue")]
    InvoiceOverdue,
    #[serde(rename = "payment_receipt")]
    PaymentReceipt,
    Announcement,
    /// A kind this gateway does not know yet (a newer notify-svc).
    Other,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Notification {
    pub id: Uuid,
    pub kind: NotificationKind,
    pub title: String,
    pub body: String,
    /// The student it is about, if any.
    pub student_id: Option<Uuid>,
    /// Channels it is also delivered on: `sms`, `email`, `push`.
    pub channels: Vec<String>,
    pub created_at: Option<DateTime<Utc>>,
    /// Absent while unread.
    pub read_at: Option<DateTime<Utc>>,
}

impl From<pb::Notification> for Notification {
    fn from(n: pb::Notification) -> Self {
        Self {
            id: uuid_or_nil(&n.id),
            kind: match pb::NotificationKind::try_from(n.kind) {
                Ok(pb::NotificationKind::Absence) => NotificationKind::Absence,
                Ok(pb::NotificationKind::GradesPublished) => NotificationKind::GradesPublished,
                Ok(pb::NotificationKind::InvoiceIssued) => NotificationKind::InvoiceIssued,
                Ok(pb::NotificationKind::InvoiceOverdue) => NotificationKind::InvoiceOverdue,
                Ok(pb::NotificationKind::PaymentReceipt) => NotificationKind::PaymentReceipt,
                Ok(pb::NotificationKind::Announcement) => NotificationKind::Announcement,
                _ => NotificationKind::Other,
            },
            title: n.title,
            body: n.body,
            student_id: opt_uuid(&n.student_id),
            channels: n.channels,
            created_at: instant(n.created_at),
            read_at: instant(n.read_at),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NotificationPage {
    pub items: Vec<Notification>,
    pub next_cursor: Option<String>,
    /// The caller's unread notifications in all.
    pub unread: u32,
}

// Not a [`super::Page`]: it carries the unread count besides the page.
impl From<pb::ListMyNotificationsResponse> for NotificationPage {
    fn from(r: pb::ListMyNotificationsResponse) -> Self {
        Self {
            items: items(r.notifications),
            next_cursor: next_cursor(r.page),
            unread: r.unread,
        }
    }
}

/// Unknown parameters are ignored here (no `deny_unknown_fields`), as they
/// always were on the inbox.
#[derive(Debug, Deserialize)]
pub struct ListNotificationsParams {
    #[serde(flatten)]
    pub page: PageParams,
    pub unread: Option<String>,
}

impl ListNotificationsParams {
    pub fn into_proto(self) -> Result<pb::ListMyNotificationsRequest, ApiError> {
        let mut e = FieldErrors::default();
        let page = self.page.parse(&mut e);
        let unread_only = match self.unread.as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => {
                e.add("unread", "must be true or false");
                false
            }
        };
        e.finish()?;
        Ok(pb::ListMyNotificationsRequest {
            page: Some(page),
            unread_only,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkReadBody {
    /// 1-100 notification ids, all the caller's.
    pub ids: Vec<String>,
}

impl MarkReadBody {
    pub fn into_proto(self) -> Result<pb::MarkNotificationsReadRequest, ApiError> {
        if self.ids.is_empty() || self.ids.len() > MAX_MARK_READ {
            return Err(ApiError::field(
                "ids",
                format!("must hold 1 to {MAX_MARK_READ} ids"),
            ));
        }
        let mut e = FieldErrors::default();
        for (i, id) in self.ids.iter().enumerate() {
            if platform::text::parse_uuid(id).is_none() {
                e.add(&format!("ids[{i}]"), "must be a UUID");
            }
        }
        e.finish()?;
        Ok(pb::MarkNotificationsReadRequest { ids: self.ids })
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MarkedRead {
    pub items: Vec<Notification>,
}

impl From<pb::MarkNotificationsReadResponse> for MarkedRead {
    fn from(r: pb::MarkNotificationsReadResponse) -> Self {
        Self {
            items: items(r.notifications),
        }
    }
}
