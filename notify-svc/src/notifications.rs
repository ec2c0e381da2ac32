//! Notifications: a guardian's (or, for their own grades, a student's)
//! in-app inbox row plus the channels (sms, email, push) they asked to be
//! told on. Functions that create them return
//! the new rows, so the caller can enqueue their deliveries on the same
//! transaction.

use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    pub id: Uuid,
    pub school_id: Uuid,
    /// `None`: a notice to the student themself (their login is
    /// `recipient_user_id`).
    pub guardian_id: Option<Uuid>,
    /// The recipient's portal login, when they have one.
    pub recipient_user_id: Option<Uuid>,
    pub student_id: Option<Uuid>,
    pub kind: String,
    pub title: String,
    pub body: String,
    /// Subset of `sms`, `email`, `push`, as the guardian's preferences and
    /// known contacts allow.
    pub channels: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// The column list `Notification::from_row` reads, in order.
pub const COLUMNS: &str =
    "id, school_id, guardian_id, recipient_user_id, student_id, kind, title, body, channels, created_at";

impl Notification {
    pub fn from_row(r: &tokio_postgres::Row) -> Result<Self, tokio_postgres::Error> {
        Ok(Self {
            id: r.try_get(0)?,
            school_id: r.try_get(1)?,
            guardian_id: r.try_get(2)?,
            recipient_user_id: r.try_get(3)?,
            student_id: r.try_get(4)?,
            kind: r.try_get(5)?,
            title: r.try_get(6)?,
            body: r.try_get(7)?,
            channels: r.try_get(8)?,
            created_at: r.try_get(9)?,
        })
    }
}
