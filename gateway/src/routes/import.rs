//! `POST /students/import`: a CSV upload streamed to students-svc as it
//! arrives (never buffered whole), answered with a per-row report.

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use futures::{channel::mpsc, SinkExt, StreamExt};
use proto::students::v1 as pb;
use serde::Serialize;

use super::rpc::{Reply, Rpc, ADMIN};
use crate::dto::import::{ImportParams, ImportReport};
use crate::json::query;
use crate::problem::{ApiError, Problem, IMPORT_REJECTED};

/// The import's body limit, from config; stored as app data.
#[derive(Clone, Copy)]
pub struct ImportLimit(pub usize);

/// A rejected import: a problem document carrying the report.
#[derive(Serialize)]
struct RejectedImport {
    #[serde(flatten)]
    problem: Problem,
    #[serde(flatten)]
    report: ImportReport,
}

fn is_csv(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("text/csv"))
}

/// Forwards the body in chunks; the last chunk carries `end`, so a body cut
/// short (too large, client gone) can never be taken as a whole file.
async fn pump(
    mut body: web::Payload,
    mut out: mpsc::Sender<pb::ImportStudentsChunk>,
    limit: usize,
) -> Result<(), ApiError> {
    let mut total = 0usize;
    while let Some(chunk) = body.next().await {
        let chunk = chunk
            .map_err(|_| ApiError::MalformedBody("the request body could not be read".into()))?;
        total += chunk.len();
        if total > limit {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        let msg = pb::ImportStudentsChunk {
            data: chunk.to_vec(),
            ..Default::default()
        };
        if out.send(msg).await.is_err() {
            // The service stopped reading (it rejected the file): its answer says why.
            return Ok(());
        }
    }
    let last = pb::ImportStudentsChunk {
        end: true,
        ..Default::default()
    };
    let _ = out.send(last).await;
    Ok(())
}

/// Admin-only: import students from CSV (`Content-Type: text/csv`). Columns
/// `admission_no`, `given_name`, `family_name`, `date_of_birth` (YYYY-MM-DD),
/// `grade_level`, and optionally `section`, `status`. 200 with the report
/// when rows were written; 422 (problem+json with the report) when mode
/// `all` met an error and nothing was written.
#[utoipa::path(post, path = "/students/import", tag = "students", security(("bearer" = [])),
    params(ImportParams),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReport), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 413, body = Problem),
        (status = 415, body = Problem), (status = 422, body = ImportReport)))]
pub async fn import(req: HttpRequest, rpc: Rpc, body: web::Payload) -> Reply {
    rpc.require(ADMIN)?;
    let params: ImportParams = query(&req)?;
    if !is_csv(&req) {
        return Err(ApiError::UnsupportedMediaType("text/csv"));
    }
    let limit = req.app_data::<ImportLimit>().map_or(16 << 20, |l| l.0);
    let (mut tx, rx) = mpsc::channel(8);
    let first = pb::ImportStudentsChunk {
        mode: params.mode.to_proto().into(),
        ..Default::default()
    };
    tx.send(first).await.map_err(|_| ApiError::internal())?;
    let mut students = rpc.students();
    let call = students.import_students(rpc.request(rx));
    let (pumped, reply) = futures::join!(pump(body, tx, limit), call);
    // A body error outranks the service's view of the truncated upload.
    pumped?;
    let report = ImportReport::from(reply?.into_inner());
    if report.committed {
        return Ok(HttpResponse::Ok().json(report));
    }
    let problem = Problem {
        kind: "about:blank",
        title: "Unprocessable Entity".into(),
        status: 422,
        code: IMPORT_REJECTED,
        detail: format!(
            "{} row(s) have errors; nothing was imported",
            report.row_errors.len()
        ),
        request_id: crate::request_id::current(),
        errors: Vec::new(),
        error_count: None,
    };
    Ok(HttpResponse::UnprocessableEntity()
        .content_type("application/problem+json")
        .json(RejectedImport { problem, report }))
}
