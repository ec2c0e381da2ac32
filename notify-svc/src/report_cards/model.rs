//! A report card and a batch as stored, and as the API shows them.

use chrono::{DateTime, Utc};
use platform::wire::timestamp;
use proto::notify::v1 as pb;
use uuid::Uuid;

pub(super) const COLS: &str = "id, student_id, term, status, batch_id, requested_by, created_at, \
     rendered_at, render_ms, error, \
     (SELECT length(pdf) FROM report_card_pdfs p WHERE p.card_id = report_cards.id)";

/// The realtime kind a client receives when a card changes status.
pub const REPORT_CARD_UPDATED: &str = "report_card.updated";

#[derive(Clone, Debug)]
pub struct Card {
    pub id: Uuid,
    pub student_id: Uuid,
    pub term: String,
    /// `queued`, `ready` or `failed`.
    pub status: String,
    pub batch_id: Option<Uuid>,
    pub requested_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub rendered_at: Option<DateTime<Utc>>,
    pub render_ms: Option<i32>,
    pub error: Option<String>,
    pub size: Option<i32>,
}

impl Card {
    pub(super) fn from_row(r: &tokio_postgres::Row) -> Result<Self, tokio_postgres::Error> {
        Ok(Self {
            id: r.try_get(0)?,
            student_id: r.try_get(1)?,
            term: r.try_get(2)?,
            status: r.try_get(3)?,
            batch_id: r.try_get(4)?,
            requested_by: r.try_get(5)?,
            created_at: r.try_get(6)?,
            rendered_at: r.try_get(7)?,
            render_ms: r.try_get(8)?,
            error: r.try_get(9)?,
            size: r.try_get(10)?,
        })
    }

    pub fn into_proto(self) -> pb::ReportCard {
        pb::ReportCard {
            id: self.id.to_string(),
            student_id: self.student_id.to_string(),
            term: self.term,
            status: self.status,
            batch_id: self.batch_id.map(|b| b.to_string()).unwrap_or_default(),
            requested_by: self.requested_by.to_string(),
            created_at: Some(timestamp(self.created_at)),
            rendered_at: self.rendered_at.map(timestamp),
            render_ms: self
                .render_ms
                .and_then(|m| u32::try_from(m).ok())
                .unwrap_or(0),
            size_bytes: self.size.and_then(|s| u32::try_from(s).ok()).unwrap_or(0),
            error: self.error.unwrap_or_default(),
        }
    }

    /// What the requesting admin's WebSockets receive on a change.
    pub fn push_payload(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "student_id": self.student_id,
            "term": self.term,
            "status": self.status,
            "batch_id": self.batch_id,
        })
    }
}

#[derive(Clone, Debug)]
pub struct Batch {
    pub id: Uuid,
    pub term: String,
    pub grade_level: i32,
    pub total: i32,
    pub created_at: DateTime<Utc>,
}

impl Batch {
    pub(super) fn from_row(r: &tokio_postgres::Row) -> Result<Self, tokio_postgres::Error> {
        Ok(Self {
            id: r.try_get(0)?,
            term: r.try_get(1)?,
            grade_level: r.try_get(2)?,
            total: r.try_get(3)?,
            created_at: r.try_get(4)?,
        })
    }

    /// The batch with its cards (by student name): counts and status come
    /// from the cards.
    pub fn into_proto(self, cards: Vec<Card>) -> pb::ReportCardBatch {
        let count = |s: &str| {
            u32::try_from(cards.iter().filter(|c| c.status == s).count()).unwrap_or(u32::MAX)
        };
        let (queued, ready, failed) = (count("queued"), count("ready"), count("failed"));
        let finished_at = if queued == 0 {
            cards.iter().filter_map(|c| c.rendered_at).max()
        } else {
            None
        };
        pb::ReportCardBatch {
            id: self.id.to_string(),
            term: self.term,
            grade_level: self.grade_level,
            status: if queued == 0 { "done" } else { "queued" }.to_owned(),
            total: u32::try_from(self.total).unwrap_or(0),
            queued,
            ready,
            failed,
            created_at: Some(timestamp(self.created_at)),
            finished_at: finished_at.map(timestamp),
            cards: cards.into_iter().map(Card::into_proto).collect(),
        }
    }
}
