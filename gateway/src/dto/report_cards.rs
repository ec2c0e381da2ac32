//! JSON shapes of report cards and their batches.

use chrono::{DateTime, Utc};
use proto::notify::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{instant, opt_uuid, uuid_or_nil};

/// One student's card.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReportCardBody {
    /// The course term the card covers, `YYYY-Tn` (year 2000-2100, T1-T6),
    /// as courses have it: the card lists the student's courses of that
    /// term.
    #[schema(example = "2026-T1")]
    pub term: String,
}

/// Every current student's card of a grade level.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGradeReportCardsBody {
    /// As for one card.
    #[schema(example = "2026-T1")]
    pub term: String,
    /// 0-12; a grade level with no current student is a 400.
    pub grade_level: i32,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct ReportCard {
    pub id: Uuid,
    pub student_id: Uuid,
    pub term: String,
    /// `queued` (being rendered), `ready` (the PDF is at `pdf_url`) or
    /// `failed` (see `error`).
    pub status: String,
    /// The grade-level batch it belongs to.
    pub batch_id: Option<Uuid>,
    pub requested_by: Uuid,
    pub created_at: Option<DateTime<Utc>>,
    pub rendered_at: Option<DateTime<Utc>>,
    /// Time spent rendering the PDF (the summary fetch excluded).
    pub render_ms: Option<u32>,
    pub size_bytes: Option<u32>,
    pub error: Option<String>,
    pub pdf_url: Option<String>,
}

impl From<pb::ReportCard> for ReportCard {
    fn from(c: pb::ReportCard) -> Self {
        let id = uuid_or_nil(&c.id);
        let ready = c.status == "ready";
        Self {
            id,
            student_id: uuid_or_nil(&c.student_id),
            term: c.term,
            status: c.status,
            batch_id: opt_uuid(&c.batch_id),
            requested_by: uuid_or_nil(&c.requested_by),
            created_at: instant(c.created_at),
            rendered_at: instant(c.rendered_at),
            render_ms: ready.then_some(c.render_ms),
            size_bytes: ready.then_some(c.size_bytes),
            error: (!c.error.is_empty()).then_some(c.error),
            pdf_url: ready.then(|| format!("/api/v1/report-cards/{id}/pdf")),
        }
    }
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct ReportCardBatch {
    pub id: Uuid,
    pub term: String,
    pub grade_level: i32,
    /// `queued` (cards left to render) or `done` (each card ready or
    /// failed).
    pub status: String,
    pub total: u32,
    pub queued: u32,
    pub ready: u32,
    pub failed: u32,
    pub created_at: Option<DateTime<Utc>>,
    /// When the last card was rendered, once done.
    pub finished_at: Option<DateTime<Utc>>,
    /// By student name.
    pub cards: Vec<ReportCard>,
}

impl From<pb::ReportCardBatch> for ReportCardBatch {
    fn from(b: pb::ReportCardBatch) -> Self {
        Self {
            id: uuid_or_nil(&b.id),
            term: b.term,
            grade_level: b.grade_level,
            status: b.status,
            total: b.total,
            queued: b.queued,
            ready: b.ready,
            failed: b.failed,
            created_at: instant(b.created_at),
            finished_at: instant(b.finished_at),
            cards: b.cards.into_iter().map(ReportCard::from).collect(),
        }
    }
}
