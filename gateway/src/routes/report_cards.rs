//! Report cards: an admin asks for one student's card of a term, or every
//! current student's of a grade level (a batch); notify-svc renders each PDF
//! in the background. The card's status and file are for admins, the
//! student and the student's linked guardians.

use actix_web::{http::header, web, HttpResponse};
use platform::caller::Role;
use proto::notify::v1 as pb;

use super::path_id;
use super::rpc::{ok, Reply, Rpc, ADMIN};
use crate::dto::report_cards::{
    CreateGradeReportCardsBody, CreateReportCardBody, ReportCard, ReportCardBatch,
};
use crate::json::JsonBody;
use crate::problem::Problem;

/// Who reads a card (whose card it is, notify-svc checks: anyone else's is
/// 404). A teacher: 403.
const READERS: &[Role] = &[Role::Admin, Role::Student, Role::Guardian];

/// Queues the student's report card for a term (admin). Answered at once
/// (202) with the queued card; follow it at `Location` (or over the
/// WebSocket: `report_card.updated` to the requesting admin). A term that
/// is not `YYYY-Tn` is a 400 naming `term`; an unknown student a 404. A
/// term in which the student has no grades gives a card that says so.
#[utoipa::path(post, path = "/students/{id}/report-cards", tag = "report-cards",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    request_body = CreateReportCardBody,
    responses((status = 202, body = ReportCard,
            headers(("Location" = String, description = "the card, to follow its status"))),
        (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
pub async fn create(
    rpc: Rpc,
    id: web::Path<String>,
    body: JsonBody<CreateReportCardBody>,
) -> Reply {
    let student = path_id(&id)?;
    rpc.require(ADMIN)?;
    let msg = pb::CreateReportCardRequest {
        student_id: student.to_string(),
        term: body.0.term,
    };
    let c = rpc
        .report_cards()
        .create_report_card(rpc.request(msg))
        .await?;
    let c = ReportCard::from(c.into_inner());
    Ok(HttpResponse::Accepted()
        .insert_header((header::LOCATION, format!("/api/v1/report-cards/{}", c.id)))
        .json(c))
}

/// Queues a report card for every current student of a grade level
/// (admin), as one batch: answered at once (202) with the batch and its
/// queued cards; follow it at `Location`. A grade level with no current
/// student is a 400 naming `grade_level`.
#[utoipa::path(post, path = "/report-cards", tag = "report-cards", security(("bearer" = [])),
    request_body = CreateGradeReportCardsBody,
    responses((status = 202, body = ReportCardBatch,
            headers(("Location" = String, description = "the batch, to follow its progress"))),
        (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn create_grade(rpc: Rpc, body: JsonBody<CreateGradeReportCardsBody>) -> Reply {
    rpc.require(ADMIN)?;
    let msg = pb::CreateGradeReportCardsRequest {
        term: body.0.term,
        grade_level: body.0.grade_level,
    };
    let b = rpc
        .report_cards()
        .create_grade_report_cards(rpc.request(msg))
        .await?;
    let b = ReportCardBatch::from(b.into_inner());
    Ok(HttpResponse::Accepted()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/report-card-batches/{}", b.id),
        ))
        .json(b))
}

/// A grade level's batch (admin): how many cards are queued, ready and
/// failed, and each card. Another school's: 404.
#[utoipa::path(get, path = "/report-card-batches/{id}", tag = "report-cards",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = ReportCardBatch), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn batch(rpc: Rpc, id: web::Path<String>) -> Reply {
    rpc.require(ADMIN)?;
    let msg = pb::GetReportCardBatchRequest {
        id: path_id(&id)?.to_string(),
    };
    let b = rpc
        .report_cards()
        .get_report_card_batch(rpc.request(msg))
        .await?;
    ok(ReportCardBatch::from(b.into_inner()))
}

/// A report card's status (admins, the student, a linked guardian).
/// Another school's card, another student's or another guardian's child's:
/// 404.
#[utoipa::path(get, path = "/report-cards/{id}", tag = "report-cards",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = ReportCard), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(rpc: Rpc, id: web::Path<String>) -> Reply {
    rpc.require(READERS)?;
    let msg = pb::GetReportCardRequest {
        id: path_id(&id)?.to_string(),
    };
    let c = rpc.report_cards().get_report_card(rpc.request(msg)).await?;
    ok(ReportCard::from(c.into_inner()))
}

/// The report card's PDF, to the same readers as its status. 422 while it
/// is not ready (queued or failed).
#[utoipa::path(get, path = "/report-cards/{id}/pdf", tag = "report-cards",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "the PDF",
            content((Vec<u8> = "application/pdf")),
            headers(("Content-Disposition" = String, description = "attachment with a file name"))),
        (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn pdf(rpc: Rpc, id: web::Path<String>) -> Reply {
    rpc.require(READERS)?;
    let msg = pb::GetReportCardRequest {
        id: path_id(&id)?.to_string(),
    };
    let f = rpc
        .report_cards()
        .get_report_card_pdf(rpc.request(msg))
        .await?
        .into_inner();
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", f.filename),
        ))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(f.pdf))
}
