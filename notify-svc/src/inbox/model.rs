//! A notification as the inbox stores and shows it.

use chrono::{DateTime, Utc};
use platform::wire::timestamp;
use proto::notify::v1 as pb;
use uuid::Uuid;

use super::domain::Cursor;

pub(super) const COLS: &str =
    "n.id, n.kind, n.title, n.body, n.student_id, n.channels, n.created_at";

pub struct Row {
    id: Uuid,
    kind: String,
    title: String,
    body: String,
    student_id: Option<Uuid>,
    channels: Vec<String>,
    created_at: DateTime<Utc>,
    read_at: Option<DateTime<Utc>>,
}

impl Row {
    /// `COLS` then the read time at `read_at`.
    pub(super) fn from_row(
        r: &tokio_postgres::Row,
        read_at: usize,
    ) -> Result<Self, tokio_postgres::Error> {
        Ok(Self {
            id: r.try_get(0)?,
            kind: r.try_get(1)?,
            title: r.try_get(2)?,
            body: r.try_get(3)?,
            student_id: r.try_get(4)?,
            channels: r.try_get(5)?,
            created_at: r.try_get(6)?,
            read_at: r.try_get(read_at)?,
        })
    }

    /// The position after this row, newest first.
    pub(super) fn cursor(&self) -> Cursor {
        Cursor {
            created_at: self.created_at,
            id: self.id,
        }
    }

    pub fn into_proto(self) -> pb::Notification {
        pb::Notification {
            id: self.id.to_string(),
            kind: match self.kind.as_str() {
                "absence" => pb::NotificationKind::Absence,
                "grades_published" => pb::NotificationKind::GradesPublished,
                "invoice_issued" => pb::NotificationKind::InvoiceIssued,
                "invoice_overdue" => pb::NotificationKind::InvoiceOverdue,
                "payment_receipt" => pb::NotificationKind::PaymentReceipt,
                "announcement" => pb::NotificationKind::Announcement,
                _ => pb::NotificationKind::Unspecified,
            } as i32,
            title: self.title,
            body: self.body,
            student_id: self.student_id.map(|s| s.to_string()).unwrap_or_default(),
            channels: self.channels,
            created_at: Some(timestamp(self.created_at)),
            read_at: self.read_at.map(timestamp),
        }
    }
}
